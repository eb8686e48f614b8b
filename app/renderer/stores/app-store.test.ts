import { describe, expect, it } from 'vitest';
import type { ContainerView, JobView } from '../../shared/views.js';
import { applyContainersChange, createAppStore, upsertJob } from './app-store.js';

const job = (id: string, createdAt: string, state: JobView['state'] = 'running'): JobView => ({
  id, name: 'pull', description: `fromImage=${id}`, state, exitCode: null, progress: {}, cancellable: state === 'running', createdAt,
});

describe('app store', () => {
  it('replaces a job in place when its update arrives and keeps the newest first', () => {
    let jobs = upsertJob([], job('a', '2026-01-01T00:00:01Z'));
    jobs = upsertJob(jobs, job('b', '2026-01-01T00:00:02Z'));
    jobs = upsertJob(jobs, job('a', '2026-01-01T00:00:01Z', 'succeeded'));
    expect(jobs.map((j) => `${j.id}:${j.state}`)).toEqual(['b:running', 'a:succeeded']);
  });

  it('collapses and expands compose groups and tracks busy containers', () => {
    const store = createAppStore();
    store.getState().toggleGroup('shop');
    expect(store.getState().collapsed.has('shop')).toBe(true);
    store.getState().toggleGroup('shop');
    expect(store.getState().collapsed.has('shop')).toBe(false);
    store.getState().setBusy('x', true);
    expect(store.getState().busy.has('x')).toBe(true);
    store.getState().setBusy('x', false);
    expect(store.getState().busy.size).toBe(0);
  });

  it('keeps at most five notices, dropping the oldest', () => {
    const store = createAppStore();
    for (let i = 0; i < 7; i++) store.getState().notify('error', `failure ${i}`);
    expect(store.getState().notices.map((n) => n.text)).toEqual(['failure 2', 'failure 3', 'failure 4', 'failure 5', 'failure 6']);
  });
});

describe('applyContainersChange', () => {
  const c = (id: string, created: number, state: ContainerView['state'] = 'running'): ContainerView => ({
    id, name: id, image: 'i', command: '', created, state, status: '', ports: [], labels: {},
  });

  it('replaces the list on reset and keeps the newest first', () => {
    expect(applyContainersChange([c('old', 1)], { reset: [c('a', 1), c('b', 3)], upsert: [], remove: [] }).map((x) => x.id)).toEqual(['b', 'a']);
  });

  it('updates, adds and removes only the rows named', () => {
    const list = [c('b', 2), c('a', 1)];
    const next = applyContainersChange(list, { upsert: [c('a', 1, 'exited'), c('new', 5)], remove: ['b'] });
    expect(next.map((x) => `${x.id}:${x.state}`)).toEqual(['new:running', 'a:exited']);
    expect(list.map((x) => x.id)).toEqual(['b', 'a']); // the old list is left alone
  });

  it('returns the same list when nothing changed, so nothing re-renders', () => {
    const list = [c('a', 1)];
    expect(applyContainersChange(list, { upsert: [], remove: [] })).toBe(list);
  });

  it('moves a renamed row to its place among rows created in the same second and keeps the other rows as they were', () => {
    const list = applyContainersChange([], { reset: [c('b', 7), c('d', 7), c('f', 7), c('old', 3)], upsert: [], remove: [] });
    const renamed = { ...list[0]!, name: 'e' };
    const next = applyContainersChange(list, { upsert: [renamed], remove: [] });
    expect(next.map((x) => x.name)).toEqual(['d', 'e', 'f', 'old']);
    expect(next[1]).toBe(renamed);
    // Rows the change did not name are the same objects, so their memoised components skip rendering.
    for (const row of [next[0], next[2], next[3]]) expect(list).toContain(row);
  });

  it('gives the order a full sort would give after any sequence of changes', () => {
    // A small deterministic generator, so a failure can be replayed.
    let seed = 42;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    let list: ContainerView[] = [];
    const all = new Map<string, ContainerView>();
    for (let step = 0; step < 300; step++) {
      const upsert: ContainerView[] = [];
      const remove: string[] = [];
      for (let k = random(4); k >= 0; k--) {
        const id = `c${random(40)}`;
        if (random(5) === 0 && all.has(id)) {
          remove.push(id);
          all.delete(id);
        } else if (!remove.includes(id) && !upsert.some((u) => u.id === id)) {
          const row = { ...c(id, random(3)), name: `n${random(10)}-${id}` };
          upsert.push(row);
          all.set(id, row);
        }
      }
      list = applyContainersChange(list, { upsert, remove });
      const sorted = [...all.values()].sort((a, b) => b.created - a.created || a.name.localeCompare(b.name));
      expect(list.map((x) => x.id)).toEqual(sorted.map((x) => x.id));
    }
  });
});
