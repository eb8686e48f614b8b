// Parent images as dockerd's classic store keeps them: build intermediates (untagged parents) are
// hidden from the list and kept by prune, and go with the last image built on them.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Graph } from './graph';
import { loadImages } from './load';
import { ImageViews } from './image-views';
import { parseReference } from './reference';
import { tarOf } from '../drivers/graph/test-tar';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;


/** A docker-save archive: each image adds one layer (one file) on the previous one's. */
async function chainArchive(names: string[]): Promise<Buffer> {
  const files: { name: string; body: Buffer | string }[] = [];
  const manifest = [];
  const layers: Buffer[] = [];
  for (const [i, tag] of names.entries()) {
    layers.push(await tarOf([{ name: `${tag.replace(/\W/g, '_')}.txt`, body: tag }]));
    const history = names.slice(0, i + 1).map((n) => ({ created: '2024-01-01T00:00:00Z', created_by: `RUN make ${n}` }));
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: `2024-01-0${i + 1}T00:00:00Z`, history, rootfs: { type: 'layers', diff_ids: layers.map(sha) } }));
    files.push({ name: `blobs/sha256/${sha(config).slice(7)}`, body: config });
    files.push({ name: `blobs/sha256/${sha(layers[i]!).slice(7)}`, body: layers[i]! });
    manifest.push({ Config: `blobs/sha256/${sha(config).slice(7)}`, RepoTags: [tag], Layers: layers.map((l) => `blobs/sha256/${sha(l).slice(7)}`) });
  }
  files.push({ name: 'manifest.json', body: JSON.stringify(manifest) });
  return tarOf(files);
}

describe('parent images (build intermediates)', () => {
  let root: string;
  let graph: Graph;
  let views: ImageViews;
  const ids: Record<string, string> = {};

  /** Records `child`'s parent and takes the tags of the intermediates away, as a build leaves them. */
  async function link(child: string, parent: string): Promise<void> {
    await graph.images.put({ ...graph.images.get(ids[child]!)!, parent: ids[parent]! });
  }

  beforeEach(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'berth-parents-'));
    graph = await Graph.open({ dataRoot: root, storageDriver: 'vfs' });
    views = new ImageViews(graph);
    // base:1 <- step1 <- step2 <- app:1, and side:1 also on step1.
    const names = ['base:1', 'step1:x', 'step2:x', 'app:1'];
    await loadImages(graph, Readable.from([await chainArchive(names)]), undefined, new AbortController().signal);
    const side = await chainArchive(['base:1', 'step1:x', 'side:1']);
    await loadImages(graph, Readable.from([side]), undefined, new AbortController().signal);
    for (const n of [...names, 'side:1']) ids[n] = graph.resolve(n).record.id;
    await link('step1:x', 'base:1');
    await link('step2:x', 'step1:x');
    await link('app:1', 'step2:x');
    await link('side:1', 'step1:x');
    for (const n of ['step1:x', 'step2:x']) await graph.references.remove(parseReference(n));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const listed = async (filters: [string, string[]][] = [], all = false) => (await views.list(new Map(filters), { sharedSize: false, legacy: false, all })).map((s) => s.Id).sort();
  const idsOf = (...names: string[]) => names.map((n) => ids[n]!).sort();

  it('hides intermediates unless all, and counts as dangling only untagged images no image is built on', async () => {
    expect(await listed()).toEqual(idsOf('base:1', 'app:1', 'side:1'));
    expect(await listed([], true)).toEqual(idsOf('base:1', 'step1:x', 'step2:x', 'app:1', 'side:1'));
    expect(await listed([['dangling', ['true']]], true)).toEqual([]);
    expect(await listed([['dangling', ['false']]], true)).toEqual(idsOf('base:1', 'app:1', 'side:1'));
    const summary = (await views.list(new Map(), { sharedSize: false, legacy: false })).find((s) => s.Id === ids['app:1']);
    expect(summary?.ParentId).toBe(ids['step2:x']);
    expect((await views.inspect('app:1', { atLeast: () => true })).Parent).toBe(ids['step2:x']);
    expect((await views.inspect('base:1', { atLeast: () => true })).Parent).toBe('');

    await graph.references.remove(parseReference('app:1'));
    expect(await listed([['dangling', ['true']]])).toEqual(idsOf('app:1'));
  });

  it('deletes a built image with its own intermediates, stopping at one another image is built on', async () => {
    const items = await graph.remove('app:1', false, false);
    expect(items).toEqual([{ Untagged: 'app:1' }, { Deleted: ids['app:1'] }, { Deleted: ids['step2:x'] }]);
    expect(graph.images.get(ids['step1:x']!)).toBeDefined();
    // side:1 was the last image on step1, whose parent base:1 is tagged: the walk stops there.
    expect(await graph.remove('side:1', false, false)).toEqual([{ Untagged: 'side:1' }, { Deleted: ids['side:1'] }, { Deleted: ids['step1:x'] }]);
    expect(graph.images.list().map((r) => r.id)).toEqual([ids['base:1']]);
  });

  it('keeps the parents with noprune, and keeps parents a container uses', async () => {
    expect(await graph.remove('app:1', false, true)).toEqual([{ Untagged: 'app:1' }, { Deleted: ids['app:1'] }]);
    expect(await listed([['dangling', ['true']]])).toEqual(idsOf('step2:x'));
    graph.users = { containersUsing: (image) => (image === ids['step1:x'] ? [{ id: 'c'.repeat(64), running: false }] : []) };
    await graph.remove('side:1', false, false);
    expect(await graph.remove(ids['step2:x']!, false, false)).toEqual([{ Deleted: ids['step2:x'] }]);
    expect(graph.images.get(ids['step1:x']!)).toBeDefined();
  });

  it('refuses to delete an image with children, even forced; its last tag goes alone', async () => {
    const short = ids['step1:x']!.slice(7, 19);
    await expect(graph.remove(ids['step1:x']!, false, false)).rejects.toMatchObject({ status: 409, message: `conflict: unable to delete ${short} (cannot be forced) - image has dependent child images` });
    await expect(graph.remove(ids['step1:x']!, true, false)).rejects.toMatchObject({ status: 409 });
    expect(await graph.remove('base:1', false, false)).toEqual([{ Untagged: 'base:1' }]);
    expect(graph.images.get(ids['base:1']!)).toBeDefined();
    await expect(graph.remove(ids['base:1']!, true, false)).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/dependent child images/) });
  });

  it('prunes dangling images with the intermediates only they had, and keeps the build cache of tagged images', async () => {
    expect(await views.prune(new Map())).toEqual({ ImagesDeleted: null, SpaceReclaimed: 0 });
    await graph.references.remove(parseReference('app:1'));
    const result = await views.prune(new Map());
    expect(result.ImagesDeleted).toEqual([{ Deleted: ids['app:1'] }, { Deleted: ids['step2:x'] }]);
    expect(result.SpaceReclaimed).toBeGreaterThan(0);
    // dangling=false: everything no container uses, children first so that their parents are free.
    const all = await views.prune(new Map([['dangling', ['false']]]));
    expect(all.ImagesDeleted?.filter((i) => i.Deleted).map((i) => i.Deleted).sort()).toEqual(idsOf('side:1', 'step1:x', 'base:1'));
    expect(graph.images.list()).toEqual([]);
  });

  it('names each history row by the image the parents lead to, as dockerd does', async () => {
    const rows = await views.history('app:1');
    expect(rows.map((r) => [r.Id, r.CreatedBy, r.Tags])).toEqual([
      [ids['app:1'], 'RUN make app:1', ['app:1']],
      [ids['step2:x'], 'RUN make step2:x', null],
      [ids['step1:x'], 'RUN make step1:x', null],
      [ids['base:1'], 'RUN make base:1', ['base:1']],
    ]);
    await graph.images.put({ ...graph.images.get(ids['step2:x']!)!, parent: undefined });
    expect((await views.history('app:1')).map((r) => r.Id)).toEqual([ids['app:1'], ids['step2:x'], '<missing>', '<missing>']);
  });
});
