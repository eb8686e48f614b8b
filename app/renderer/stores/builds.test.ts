import { describe, expect, it } from 'vitest';
import { appendBuildOutput, recentBuilds, buildsBusy, builtReference, endedBuild, lastStep, MAX_BUILD_LOG, startedBuild, unreadChunks, withoutBuildSteps } from './builds.js';

const request = { context: '/src', dockerfile: 'Dockerfile', tags: ['app:1'], buildArgs: {}, noCache: false, pull: false };

describe('a build run in the renderer', () => {
  it('keeps output that arrives before start() answered, then takes the request', () => {
    let run = appendBuildOutput(undefined, 'b1', 'Step 1/2 : FROM busybox\n');
    run = startedBuild(run, 'b1', request);
    run = appendBuildOutput(run, 'b1', 'Step 2/2 : RUN true\n');
    expect(run.chunks.join('')).toBe('Step 1/2 : FROM busybox\nStep 2/2 : RUN true\n');
    expect(run.request).toBe(request);
    expect(run.state).toBe('running');
    expect(lastStep(run)).toBe('Step 2/2 : RUN true');
  });

  it('ends as succeeded with its image, failed with the error, or cancelled', () => {
    const ok = endedBuild(startedBuild(undefined, 'b', request), { buildId: 'b', imageId: 'sha256:1', tags: ['app:1'] });
    expect(ok).toMatchObject({ state: 'succeeded', imageId: 'sha256:1' });
    expect(builtReference(ok)).toBe('app:1');
    const untagged = endedBuild(startedBuild(undefined, 'b', { ...request, tags: [] }), { buildId: 'b', imageId: 'sha256:1', tags: [] });
    expect(builtReference(untagged)).toBe('sha256:1');
    expect(endedBuild(undefined, { buildId: 'b', tags: [], error: 'boom' })).toMatchObject({ state: 'failed', error: 'boom' });
    expect(endedBuild(undefined, { buildId: 'b', tags: [], cancelled: true }).state).toBe('cancelled');
  });

  it('hands a reader only the chunks it has not seen, even after old ones were dropped', () => {
    let run = appendBuildOutput(undefined, 'b', 'a');
    run = appendBuildOutput(run, 'b', 'b');
    const first = unreadChunks(run, 0);
    expect(first).toEqual({ chunks: ['a', 'b'], next: 2 });
    run = appendBuildOutput(run, 'b', 'c');
    expect(unreadChunks(run, first.next)).toEqual({ chunks: ['c'], next: 3 });
    const big = 'x'.repeat(MAX_BUILD_LOG / 2 + 1);
    run = appendBuildOutput(run, 'b', big);
    run = appendBuildOutput(run, 'b', big);
    expect(run.bytes).toBeLessThanOrEqual(MAX_BUILD_LOG);
    expect(run.first).toBe(4);
    expect(unreadChunks(run, 3)).toEqual({ chunks: [big], next: 5 });
  });
});

describe('the builds kept', () => {
  it('drops the oldest finished builds beyond the limit, never a running one', () => {
    const run = (id: string, done: boolean) => (done ? endedBuild(startedBuild(undefined, id, request), { buildId: id, tags: [], imageId: 'x' }) : startedBuild(undefined, id, request));
    const builds = Object.fromEntries([run('a', false), run('b', true), run('c', true), run('d', true)].map((r) => [r.id, r]));
    expect(Object.keys(recentBuilds(builds, 2))).toEqual(['a', 'd']);
    expect(Object.keys(recentBuilds(builds, 3))).toEqual(['a', 'c', 'd']);
    expect(recentBuilds(builds, 4)).toBe(builds);
  });
});

describe('build steps in the container list', () => {
  const container = (name: string, image: string) => ({ id: name, name, image, command: '', created: 0, state: 'exited' as const, status: '', ports: [], labels: {} });

  it('leaves out containers that run on a bare image id (a step), keeps the person\'s own', () => {
    const change = { upsert: [container('step', 'sha256:' + 'a'.repeat(64)), container('short', '0123456789ab'), container('mine', 'busybox:latest')], remove: ['gone'] };
    expect(withoutBuildSteps(change)).toEqual({ upsert: [change.upsert[2]], remove: ['gone'] });
  });

  it('counts a build as busy while it runs and for a while after it ended', () => {
    const running = startedBuild(undefined, 'b', request);
    const ended = { ...endedBuild(running, { buildId: 'b', tags: [], error: 'x' }), endedAt: 1_000 };
    expect(buildsBusy([running], 0)).toBe(true);
    expect(buildsBusy([ended], 2_000)).toBe(true);
    expect(buildsBusy([ended], 60_000)).toBe(false);
    expect(buildsBusy([], 0)).toBe(false);
  });
});
