// Concurrent creates: names are claimed atomically, conflicts get dockerd's 409, and a create that
// fails after claiming its name gives it back. Runs the real component over a vfs graph in a
// temporary root (create touches no process, so the execdriver is never called).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Containers, type CreateRequest, type ImageResolver } from './containers';
import { EventBus } from '../engine/events';
import { Logger } from '../log';
import { VfsDriver } from '../drivers/graph/vfs';
import { ShimDriver } from '../drivers/exec/shim-driver';
import { specHost, hostLimits } from './host';
import { EngineError } from '../errors';

let root: string;
let containers: Containers;

// Images resolve after a short, varying delay, as the graph's config reads do, so the creates
// interleave at their awaits. `broken` names a layer the graph does not hold: prepare fails.
const images: ImageResolver = {
  async resolve(ref) {
    await new Promise((r) => setTimeout(r, Math.random() * 5));
    if (ref === 'missing') throw new EngineError(404, `No such image: ${ref}`);
    return { id: `sha256:${'a'.repeat(64)}`, config: { Cmd: ['true'] }, topLayer: ref === 'broken' ? 'b'.repeat(64) : undefined };
  },
  size: () => 0,
};

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'berth-create-'));
  const host = specHost();
  containers = new Containers({
    root: path.join(root, 'containers'),
    events: new EventBus(),
    images,
    graph: new VfsDriver(path.join(root, 'vfs')),
    exec: new ShimDriver({ stateRoot: path.join(root, 'exec'), runtimes: [], defaultRuntime: 'runc' }),
    specHost: host,
    limits: hostLimits(host),
    log: new Logger({ write: () => true }),
  });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const request = (image: string, name?: string): CreateRequest => ({ name, config: { Image: image }, hostConfig: {} });

describe('Containers.create, concurrently', () => {
  it('gives every unnamed create its own name and one create per taken name, with no reservation left', async () => {
    // 150 generated names out of 2,500 collide a few times over (the birthday bound): before names
    // were reserved, some of these creates failed with a 409.
    const requests = [
      ...Array.from({ length: 150 }, () => request('busybox')),
      ...Array.from({ length: 5 }, () => request('busybox', 'shared')),
      ...Array.from({ length: 3 }, () => request('busybox', '/other')),
    ];
    const results = await Promise.allSettled(requests.map((r) => containers.create(r)));
    const created = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as EngineError] : []));
    // 150 unnamed + one "shared" + one "other"
    expect(created).toHaveLength(152);
    expect(refused).toHaveLength(6);
    for (const err of refused) {
      expect(err.status).toBe(409);
      expect(err.message).toMatch(/^Conflict\. The container name "\/(shared|other)" is already in use by container "[0-9a-f]{64}"\./);
    }
    const names = containers.store.list().map((c) => c.record.Name);
    expect(new Set(names).size).toBe(152);
    expect(names).toEqual(expect.arrayContaining(['/shared', '/other']));
    expect(containers.store.reservations).toBe(0);
  });

  it('releases the name and id of a create that fails after claiming them', async () => {
    const results = await Promise.allSettled([
      containers.create(request('broken', 'phoenix')),
      containers.create(request('missing', 'nowhere')),
      ...Array.from({ length: 8 }, () => containers.create(request('broken'))),
    ]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(containers.store.reservations).toBe(0);
    expect(containers.store.size).toBe(0);
    expect(readdirSync(path.join(root, 'containers'))).toEqual([]);
    expect(readdirSync(path.join(root, 'vfs', 'containers'))).toEqual([]);
    // The names are free again.
    await containers.create(request('busybox', 'phoenix'));
    await containers.create(request('busybox', 'nowhere'));
    expect(containers.get('phoenix').record.Name).toBe('/phoenix');
    expect(containers.store.reservations).toBe(0);
  });

  it('keeps a reserved name from a rename while its create is under way', async () => {
    const existing = await containers.create(request('busybox', 'first'));
    const pending = containers.create(request('busybox', 'second'));
    // The create reserves its name once the image has resolved; wait for that point.
    while (!containers.store.nameTaken('/second')) await new Promise((r) => setTimeout(r, 1));
    expect(() => containers.rename(existing.Id, 'second')).toThrow(/is already in use/);
    await pending;
    expect(containers.get('second').id).not.toBe(existing.Id);
  });
});
