import { describe, expect, it } from 'vitest';
import { Container, newRecord } from './container';
import { listContainers, listItem, type Filters } from './views';
import { setRunning, setStopped } from './state';

let n = 0;
function make(name: string, opts: { running?: boolean; exit?: number; labels?: Record<string, string>; image?: string } = {}): Container {
  n++;
  const c = new Container(newRecord({
    ID: n.toString(16).padStart(64, '0'), Created: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(), Path: 'sh', Args: ['-c', 'x y'],
    Image: opts.image ?? 'sha256:aa', Name: `/${name}`, Driver: 'overlay2', Config: { Image: 'busybox', Labels: opts.labels ?? {} }, HostConfig: { NetworkMode: 'none' },
    GraphDriver: { Name: 'overlay2', Data: null },
  }));
  if (opts.running || opts.exit !== undefined) setRunning(c.state, 100 + n);
  if (opts.exit !== undefined) setStopped(c.state, { exitCode: opts.exit });
  return c;
}

const all = [make('web', { running: true, labels: { tier: 'web' } }), make('db', { exit: 0, labels: { tier: 'db' } }), make('job', { exit: 3 }), make('fresh')];
const list = (f: Record<string, string[]>, o: { all?: boolean; limit?: number } = {}) =>
  listContainers(all, { all: o.all ?? false, limit: o.limit ?? -1, filters: new Map(Object.entries(f)) as Filters, imageIds: () => ['sha256:aa'], find: (r) => all.find((c) => c.name === r) })
    .map((c) => c.name);

describe('container list', () => {
  it('shows running containers unless asked for all, newest first', () => {
    expect(list({})).toEqual(['web']);
    expect(list({}, { all: true })).toEqual(['fresh', 'job', 'db', 'web']);
    expect(list({}, { limit: 2 })).toEqual(['fresh', 'job']);
  });
  it('filters by status, exited, label, name, id, ancestor, before and since', () => {
    expect(list({ status: ['exited'] })).toEqual(['job', 'db']);
    expect(list({ status: ['created'] })).toEqual(['fresh']);
    expect(list({ exited: ['3'] })).toEqual(['job']);
    expect(list({ label: ['tier'] }, { all: true })).toEqual(['db', 'web']);
    expect(list({ label: ['tier=db'] }, { all: true })).toEqual(['db']);
    expect(list({ name: ['^/w'] }, { all: true })).toEqual(['web']);
    expect(list({ id: [all[2]!.id] }, { all: true })).toEqual(['job']);
    expect(list({ ancestor: ['busybox'] }, { all: true })).toHaveLength(4);
    expect(list({ before: ['job'] })).toEqual(['db', 'web']);
    expect(list({ since: ['db'] })).toEqual(['fresh', 'job']);
    expect(() => list({ status: ['sleeping'] })).toThrow("invalid filter 'status=sleeping'");
    expect(() => list({ exited: ['x'] })).toThrow("invalid filter 'exited=x'");
  });
  it('describes items as dockerd does', () => {
    const item = listItem(all[2]!);
    expect(item).toMatchObject({ Names: ['/job'], Image: 'busybox', Command: 'sh -c x y', State: 'exited' });
    expect(item.Status).toMatch(/^Exited \(3\) /);
  });
});
