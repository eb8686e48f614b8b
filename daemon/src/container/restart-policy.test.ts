import { describe, expect, it } from 'vitest';
import { RestartManager, validateRestartPolicy, restartsWithDaemon, MAX_BACKOFF_MS } from './restart-policy';

describe('restart policy validation', () => {
  it('accepts the four policies and normalises', () => {
    expect(validateRestartPolicy(undefined, false)).toEqual({ Name: '', MaximumRetryCount: 0 });
    expect(validateRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 3 }, false)).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 });
  });
  it('refuses what dockerd refuses, in its words', () => {
    expect(() => validateRestartPolicy({ Name: 'sometimes' as never }, false)).toThrow("invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
    expect(() => validateRestartPolicy({ Name: 'always', MaximumRetryCount: 2 }, false)).toThrow("maximum retry count can only be used with 'on-failure'");
    expect(() => validateRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -1 }, false)).toThrow('maximum retry count must be a positive integer');
    expect(() => validateRestartPolicy({ Name: 'always' }, true)).toThrow("can't create 'AutoRemove' container with restart policy");
  });
});

describe('RestartManager', () => {
  it('doubles the back-off from 100 ms up to a minute, and resets after a 10 s run', () => {
    const m = new RestartManager({ Name: 'always' });
    const delays = Array.from({ length: 12 }, () => m.shouldRestart({ exitCode: 0, manuallyStopped: false, ranForMs: 10 }));
    expect(delays.slice(0, 4)).toEqual([100, 200, 400, 800]);
    expect(delays.at(-1)).toBe(MAX_BACKOFF_MS);
    expect(m.shouldRestart({ exitCode: 0, manuallyStopped: false, ranForMs: 10_000 })).toBe(100);
    expect(m.restartCount).toBe(13);
  });

  it('on-failure restarts only failures, up to its count', () => {
    const m = new RestartManager({ Name: 'on-failure', MaximumRetryCount: 2 });
    expect(m.shouldRestart({ exitCode: 0, manuallyStopped: false, ranForMs: 0 })).toBeUndefined();
    expect(m.shouldRestart({ exitCode: 1, manuallyStopped: false, ranForMs: 0 })).toBeDefined();
    expect(m.shouldRestart({ exitCode: 1, manuallyStopped: false, ranForMs: 0 })).toBeDefined();
    expect(m.shouldRestart({ exitCode: 1, manuallyStopped: false, ranForMs: 0 })).toBeUndefined();
  });

  it('unless-stopped honours a manual stop; a cancelled manager never restarts', () => {
    const m = new RestartManager({ Name: 'unless-stopped' });
    expect(m.shouldRestart({ exitCode: 0, manuallyStopped: true, ranForMs: 0 })).toBeUndefined();
    expect(m.shouldRestart({ exitCode: 0, manuallyStopped: false, ranForMs: 0 })).toBe(100);
    m.cancel();
    expect(m.shouldRestart({ exitCode: 1, manuallyStopped: false, ranForMs: 0 })).toBeUndefined();
    expect(new RestartManager({ Name: 'no' }).shouldRestart({ exitCode: 1, manuallyStopped: false, ranForMs: 0 })).toBeUndefined();
  });

  it('decides which stopped containers come back with the daemon', () => {
    expect(restartsWithDaemon({ Name: 'always' }, true, 0, 0)).toBe(true);
    expect(restartsWithDaemon({ Name: 'unless-stopped' }, true, 0, 0)).toBe(false);
    expect(restartsWithDaemon({ Name: 'on-failure', MaximumRetryCount: 1 }, false, 1, 1)).toBe(false);
    expect(restartsWithDaemon({ Name: 'on-failure' }, false, 1, 5)).toBe(true);
    expect(restartsWithDaemon({ Name: 'no' }, false, 1, 0)).toBe(false);
  });
});
