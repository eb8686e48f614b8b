import { describe, expect, it } from 'vitest';
import type { ContainerView } from '../../shared/views.js';
import { containerRows, duration, portLabel, portUrl, statusLine } from './container-rows.js';

function c(name: string, extra: Partial<ContainerView> = {}): ContainerView {
  return { id: `${name}-id`.padEnd(64, '0'), name, image: 'busybox:ref', command: 'sh', created: 1, state: 'running', status: 'Up', ports: [], labels: {}, ...extra };
}

describe('containerRows', () => {
  const list = [
    c('web', { project: 'shop' }), c('solo'), c('db', { project: 'shop', state: 'exited' }),
    c('api', { project: 'alpha', image: 'node:20' }),
  ];

  it('lists standalone containers first, then one group per compose project in name order', () => {
    const rows = containerRows(list, '');
    expect(rows.map((r) => (r.kind === 'group' ? `[${r.project} ${r.running}/${r.total}]` : r.container.name))).toEqual([
      'solo', '[alpha 1/1]', 'api', '[shop 1/2]', 'web', 'db',
    ]);
  });

  it('hides the containers of a collapsed group but keeps its header', () => {
    const rows = containerRows(list, '', new Set(['shop']));
    expect(rows.map((r) => (r.kind === 'group' ? `[${r.project}]` : r.container.name))).toEqual(['solo', '[alpha]', 'api', '[shop]']);
  });

  it('filters by name, image, state or project', () => {
    expect(containerRows(list, 'node').map((r) => r.key)).toEqual(['group:alpha', list[3]!.id]);
    expect(containerRows(list, 'EXITED').filter((r) => r.kind === 'container').map((r) => r.kind === 'container' && r.container.name)).toEqual(['db']);
    expect(containerRows(list, 'nothing-like-this')).toEqual([]);
  });

  it('matches a row that an update replaced by what it shows now, not by what it showed before', () => {
    const before = c('alpha', { id: 'f'.repeat(64) });
    expect(containerRows([before], 'alpha')).toHaveLength(1);
    const after = { ...before, name: 'omega', state: 'exited' as const };
    expect(containerRows([after], 'alpha')).toEqual([]);
    expect(containerRows([after], 'OMEGA').map((r) => r.key)).toEqual([after.id]);
    expect(containerRows([after], 'exited')).toHaveLength(1);
    // A filter never matches across two fields ("omega" then the image "busybox:ref").
    expect(containerRows([after], 'omegabusybox')).toEqual([]);
  });
});

describe('ports', () => {
  it('labels published and unpublished ports and links only published TCP ones', () => {
    expect(portLabel({ containerPort: 80, protocol: 'tcp', hostPort: 8080, hostIp: '0.0.0.0' })).toBe('8080→80');
    expect(portLabel({ containerPort: 53, protocol: 'udp' })).toBe('53/udp');
    expect(portUrl({ hostPort: 8080, hostIp: '0.0.0.0', protocol: 'tcp' })).toBe('http://localhost:8080');
    expect(portUrl({ hostPort: 8080, hostIp: '::1', protocol: 'tcp' })).toBe('http://[::1]:8080');
    expect(portUrl({ hostPort: 53, protocol: 'udp' })).toBeUndefined();
  });
});

describe('status lines', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('keeps "Up" and "Exited" times current from inspect, in docker\'s words', () => {
    expect(statusLine(c('a', { startedAt: '2026-01-01T11:55:00Z' }), now)).toBe('Up 5 minutes');
    expect(statusLine(c('a', { state: 'paused', startedAt: '2026-01-01T11:00:00Z' }), now)).toBe('Up About an hour (Paused)');
    expect(statusLine(c('a', { state: 'exited', exitCode: 137, finishedAt: '2026-01-01T09:00:00Z' }), now)).toBe('Exited (137) 3 hours ago');
    expect(statusLine(c('a', { state: 'created', status: 'Created' }), now)).toBe('Created');
    expect(statusLine(c('a', { status: 'Up 2 seconds' }), now)).toBe('Up 2 seconds');
  });

  it('words durations like the docker CLI', () => {
    expect(duration(500)).toBe('Less than a second');
    expect(duration(1000)).toBe('1 second');
    expect(duration(45_000)).toBe('45 seconds');
    expect(duration(90_000)).toBe('About a minute');
    expect(duration(3 * 86400_000)).toBe('3 days');
  });
});
