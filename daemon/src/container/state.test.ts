import { describe, expect, it } from 'vitest';
import { describeState, humanDuration, newState, setPaused, setRestarting, setRunning, setStopped, setRemoving, restoreAfterFailedRemoval } from './state';
import { validateName, generateName } from './names';

describe('container state', () => {
  it('walks created → running → paused → running → exited with dockerd flags', () => {
    const s = newState();
    expect(describeState(s)).toBe('Created');
    const start = new Date('2026-01-01T00:00:00Z');
    setRunning(s, 42, start);
    expect(s).toMatchObject({ Status: 'running', Running: true, Pid: 42 });
    expect(describeState(s, start.getTime() + 5_000)).toBe('Up 5 seconds');
    setPaused(s, true);
    expect(s.Status).toBe('paused');
    expect(describeState(s, start.getTime() + 120_000)).toBe('Up 2 minutes (Paused)');
    setPaused(s, false);
    setStopped(s, { exitCode: 137, oomKilled: true, at: new Date(start.getTime() + 60_000) });
    expect(s).toMatchObject({ Status: 'exited', Running: false, Pid: 0, ExitCode: 137, OOMKilled: true });
    expect(describeState(s, start.getTime() + 60_000 + 3_600_000)).toBe('Exited (137) About an hour ago');
  });

  it('keeps Running true while restarting, as dockerd reports it', () => {
    const s = newState();
    setRunning(s, 1);
    setRestarting(s, { exitCode: 1 });
    expect(s).toMatchObject({ Status: 'restarting', Running: true, Restarting: true, ExitCode: 1 });
    expect(describeState(s)).toMatch(/^Restarting \(1\) Less than a second ago$/);
  });

  it('refuses a second removal and restores the state when removal fails', () => {
    const s = newState();
    setRemoving(s);
    expect(() => setRemoving(s)).toThrow('removal of container is already in progress');
    restoreAfterFailedRemoval(s);
    expect(s.Status).toBe('created');
  });

  it('shows health in the status line', () => {
    const s = newState();
    s.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
    setRunning(s, 1);
    expect(describeState(s)).toMatch(/\(health: starting\)$/);
    s.Health.Status = 'unhealthy';
    expect(describeState(s)).toMatch(/\(unhealthy\)$/);
  });

  it('formats durations as go-units does', () => {
    expect(humanDuration(500)).toBe('Less than a second');
    expect(humanDuration(1000)).toBe('1 second');
    expect(humanDuration(59_000)).toBe('59 seconds');
    expect(humanDuration(61_000)).toBe('About a minute');
    expect(humanDuration(47 * 3_600_000)).toBe('47 hours');
    expect(humanDuration(3 * 86_400_000)).toBe('3 days');
  });
});

describe('container names', () => {
  it('accepts dockerd names and refuses the rest with its message', () => {
    expect(validateName('web-1.a_b')).toBe('/web-1.a_b');
    expect(validateName('/x1')).toBe('/x1');
    for (const bad of ['a', '-x', 'has space', 'é', '_x', '']) {
      expect(() => validateName(bad)).toThrow(`Invalid container name (${bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
  });

  it('generates valid names that avoid taken ones', () => {
    const taken = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const n = generateName((x) => taken.has(x));
      expect(taken.has(n)).toBe(false);
      expect(validateName(n)).toBe(n);
      taken.add(n);
    }
  });
});
