import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BuildRequest } from '../../shared/views.js';
import { BuildsService } from './builds-service.js';
import { EngineService } from './engine-service.js';

let dir: string;
const emitted: string[] = [];
const emit = ((channel: string) => { emitted.push(channel); }) as ConstructorParameters<typeof BuildsService>[1];
// Not connected: whatever reaches the engine fails with its 503, so the checks before it show.
const engine = new EngineService(emit);
const request = (patch: Partial<BuildRequest> = {}): BuildRequest => ({ context: dir, dockerfile: 'Dockerfile', tags: [], buildArgs: {}, noCache: false, pull: false, ...patch });
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: { status?: number; message: string }) => ({ status: e.status, message: e.message }));

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'berth-builds-'));
  emitted.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('builds for one window', () => {
  it('offers the folder picker only where the window has one', async () => {
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox\n');
    const web = new BuildsService(engine, emit);
    expect(web.hostInfo().folderPicker).toBe(false);
    expect((await failure(web.pickContext()))?.status).toBe(501);
    let answer: string | undefined = dir;
    const desktop = new BuildsService(engine, emit, { pickFolder: async () => answer });
    expect(desktop.hostInfo().folderPicker).toBe(true);
    expect(await desktop.pickContext()).toMatchObject({ dockerfiles: ['Dockerfile'] });
    answer = undefined;
    expect(await desktop.pickContext()).toBeNull();
  });

  it('checks the folder and the Dockerfile before it asks the engine', async () => {
    const builds = new BuildsService(engine, emit);
    expect(await failure(builds.start(request()))).toEqual({ status: 404, message: 'Cannot locate specified Dockerfile: Dockerfile' });
    expect((await failure(builds.start(request({ context: path.join(dir, 'gone') }))))?.status).toBe(404);
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox\n');
    writeFileSync(path.join(dir, '.dockerignore'), 'bad[\n');
    expect(await failure(builds.start(request()))).toEqual({ status: 400, message: 'error parsing .dockerignore: syntax error in pattern: bad[' });
    writeFileSync(path.join(dir, '.dockerignore'), '');
    expect((await failure(builds.start(request())))?.status).toBe(503);
    expect(emitted).toEqual([]);
  });

  it('answers 404 to a cancel of a build it does not know', () => {
    expect(() => new BuildsService(engine, emit).cancel('nope')).toThrow('No such build: nope');
  });
});
