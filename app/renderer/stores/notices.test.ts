import { describe, expect, it } from 'vitest';
import type { ContainerView, JobView } from '../../shared/views.js';
import { containerNotices, jobNotice } from './notices.js';

const c = (state: ContainerView['state'], exitCode?: number): ContainerView => ({
  id: 'x', name: 'web', image: 'i', command: '', created: 1, state, status: '', ports: [], labels: {}, exitCode,
});
const job = (state: JobView['state'], extra: Partial<JobView> = {}): JobView => ({
  id: 'j', name: 'pull', description: 'busybox', state, exitCode: null, progress: {}, cancellable: false, createdAt: '2026-01-01T00:00:00Z', ...extra,
});

describe('notices', () => {
  it('tells about a running container that died, not one that was stopped or was not running', () => {
    expect(containerNotices([c('running')], { upsert: [c('exited', 2)], remove: [] })).toEqual(['web died with exit code 2']);
    expect(containerNotices([c('running')], { upsert: [c('exited', 137)], remove: [] })).toEqual([]);
    expect(containerNotices([c('running')], { upsert: [c('exited', 0)], remove: [] })).toEqual([]);
    expect(containerNotices([c('created')], { upsert: [c('exited', 1)], remove: [] })).toEqual([]);
    expect(containerNotices([c('running')], { reset: [c('exited', 1)], upsert: [], remove: [] })).toEqual([]);
  });

  it('tells about failed jobs and long finished ones', () => {
    expect(jobNotice(job('running'), job('failed', { error: 'manifest unknown' }))).toEqual({ kind: 'error', text: 'pull failed: manifest unknown' });
    const long = { startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:00:09Z' };
    expect(jobNotice(job('running'), job('succeeded', long))).toEqual({ kind: 'info', text: 'pull finished (busybox)' });
    expect(jobNotice(job('running'), job('succeeded', { startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:00:01Z' }))).toBeUndefined();
    expect(jobNotice(undefined, job('succeeded', long))).toBeUndefined(); // seen first as finished: old news
  });
});
