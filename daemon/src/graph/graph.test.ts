// The graph as a whole, on both drivers: removal frees exactly what nothing else uses, the
// in-use rules of dockerd, and repair of what a crash can leave.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, readdirSync, writeFileSync, mkdirSync, existsSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { saveImages, selectImages } from './save';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Headers } from 'tar-stream';
import { Graph } from './graph';
import { parseReference } from './reference';
import { loadImages } from './load';
import { LayerBrowser } from './browse';
import { tarOf } from '../drivers/graph/test-tar';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;


/** A docker-save archive of images given as (tag, layers). */
async function archive(images: { tag: string; layers: Buffer[]; created?: string }[]): Promise<Buffer> {
  const files: (Headers & { body: Buffer | string })[] = [];
  const manifest = [];
  const seen = new Set<string>();
  for (const img of images) {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: img.created ?? '2024-01-01T00:00:00Z', rootfs: { type: 'layers', diff_ids: img.layers.map(sha) } }));
    for (const b of [config, ...img.layers]) {
      const name = `blobs/sha256/${sha(b).slice(7)}`;
      if (!seen.has(name)) files.push({ name, body: b });
      seen.add(name);
    }
    manifest.push({ Config: `blobs/sha256/${sha(config).slice(7)}`, RepoTags: [img.tag], Layers: img.layers.map((l) => `blobs/sha256/${sha(l).slice(7)}`) });
  }
  files.push({ name: 'manifest.json', body: JSON.stringify(manifest) });
  return tarOf(files);
}

const signal = new AbortController().signal;

/** An OCI layout tarball of one image whose layers are compressed as given. */
async function ociArchive(name: string, layers: Buffer[], compress: (b: Buffer) => Buffer): Promise<Buffer> {
  const blobs = layers.map(compress);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map(sha) } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: blobs.map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(b), size: b.length })),
  }));
  const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length, annotations: { 'io.containerd.image.name': name } }] };
  return tarOf([
    { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
    ...[config, manifest, ...blobs].map((b) => ({ name: `blobs/sha256/${sha(b).slice(7)}`, body: b })),
    { name: 'index.json', body: JSON.stringify(index) },
  ]);
}

describe.each(['overlay2', 'vfs'])('graph on %s', (driverName) => {
  let root: string;
  let graph: Graph;
  let base: Buffer;
  let top: Buffer;
  beforeEach(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'berth-graph-'));
    graph = await Graph.open({ dataRoot: root, storageDriver: driverName });
    base = await tarOf([{ name: 'bin/', type: 'directory', mode: 0o755 }, { name: 'bin/tool', body: Buffer.alloc(4096, 1), mode: 0o755 }]);
    top = await tarOf([{ name: 'app.txt', body: 'app' }]);
    await loadImages(graph, Readable.from([await archive([
      { tag: 'base:1', layers: [base] },
      { tag: 'app:1', layers: [base, top], created: '2024-02-01T00:00:00Z' },
    ])]), undefined, signal);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const layerDirs = () => readdirSync(path.join(root, 'layers', driverName)).filter((n) => /^[a-f0-9]{64}$/.test(n));
  const blobs = () => readdirSync(path.join(root, 'content', 'blobs', 'sha256'));

  it('loads images that share a layer once, and removing one frees only its own layer', async () => {
    expect(graph.images.list()).toHaveLength(2);
    expect(layerDirs()).toHaveLength(2);
    const app = graph.resolve('app:1').record;
    await graph.remove('app:1', false, false);
    expect(layerDirs()).toHaveLength(1);
    expect(graph.resolve('base:1').record.chainId).toBe(sha(base));
    expect(blobs()).not.toContain(app.id.slice(7));
    await graph.remove('base:1', false, false);
    expect(layerDirs()).toEqual([]);
    expect(blobs()).toEqual([]);
    expect(readdirSync(path.join(root, 'layers', 'meta'))).toEqual([]);
  });

  it('refuses to remove an image a container uses, as dockerd does', async () => {
    const id = graph.resolve('app:1').record.id;
    let running = true;
    graph.users = { containersUsing: (image) => (image === id ? [{ id: 'c0ffee'.padEnd(64, '0'), running }] : []) };
    await expect(graph.remove(id, true, false)).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/cannot be forced\) - image is being used by running container c0ffee/) });
    await expect(graph.remove('app:1', false, false)).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/unable to remove repository reference "app:1" \(must force\)/) });
    running = false;
    await expect(graph.remove(id, false, false)).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/must be forced\) - image is being used by stopped container/) });
    // Forcing a name away keeps the image for its container, dangling.
    const items = await graph.remove('app:1', true, false);
    expect(items).toEqual([{ Untagged: 'app:1' }]);
    expect(graph.images.get(id)).toBeDefined();
    expect(graph.isDangling(graph.images.get(id)!)).toBe(true);
  });

  it('keeps the layer a container sits on after its image is gone', async () => {
    const { record } = graph.resolve('app:1');
    await graph.layers.prepare('ctr1', record.chainId);
    await graph.remove('app:1', false, false);
    await graph.remove('base:1', false, false);
    expect(layerDirs()).toHaveLength(2);
    await graph.driver.remove('ctr1');
    await graph.collect();
    expect(layerDirs()).toEqual([]);
  });

  it('repairs at start what a crash left: orphan blobs, half layers, records naming missing blobs', async () => {
    const { record } = graph.resolve('base:1');
    writeFileSync(path.join(root, 'content', 'blobs', 'sha256', 'f'.repeat(64)), 'orphan blob');
    mkdirSync(path.join(root, 'layers', driverName, 'e'.repeat(64)), { recursive: true });
    mkdirSync(path.join(root, 'layers', driverName, 'tmp-interrupted'), { recursive: true });
    writeFileSync(path.join(root, 'content', 'ingest', 'partial'), 'half');
    rmSync(graph.content.path(graph.resolve('app:1').record.id));
    const reopened = await Graph.open({ dataRoot: root, storageDriver: driverName });
    expect(reopened.images.list().map((r) => r.id)).toEqual([record.id]);
    expect(() => reopened.resolve('app:1')).toThrow(/No such image: app:1/);
    expect(existsSync(path.join(root, 'content', 'blobs', 'sha256', 'f'.repeat(64)))).toBe(false);
    expect(existsSync(path.join(root, 'layers', driverName, 'e'.repeat(64)))).toBe(false);
    expect(existsSync(path.join(root, 'layers', driverName, 'tmp-interrupted'))).toBe(false);
    expect(readdirSync(path.join(root, 'content', 'ingest'))).toEqual([]);
    expect(layerDirs()).toEqual([record.chainId!.slice(7)]);
  });

  it('writes nothing when a tag already names the image, and moves a tag that names another', async () => {
    const refs = path.join(root, 'image', 'references.json');
    const app = graph.resolve('app:1').record;
    const before = statSync(refs).ino;
    await graph.tag(app.id, parseReference('app:1'));
    expect(statSync(refs).ino).toBe(before);
    await graph.tag(app.id, parseReference('base:1'));
    expect(statSync(refs).ino).not.toBe(before);
    expect(graph.resolve('base:1').record.id).toBe(app.id);
    expect(graph.images.get(app.id)?.lastTagTime).toBeDefined();
  });

  it('keeps the tag time of an image loaded again under the same name', async () => {
    const before = graph.resolve('app:1').record.lastTagTime;
    expect(before).toBeDefined();
    await loadImages(graph, Readable.from([await archive([{ tag: 'app:1', layers: [base, top], created: '2024-02-01T00:00:00Z' }])]), undefined, signal);
    expect(graph.resolve('app:1').record.lastTagTime).toBe(before);
  });

  it('resolves names as dockerd does: tags, full and short ids, digests of the config', async () => {
    const { record } = graph.resolve('docker.io/library/app:1');
    expect(graph.resolve(record.id).record).toBe(record);
    expect(graph.resolve(record.id.slice(7, 19)).record).toBe(record);
    expect(() => graph.resolve('app')).toThrow(/No such image: app:latest/);
    expect(() => graph.resolve('App:1')).toThrow(/must be lowercase/);
  });

  it('pages a directory of 5 000 files and lists what a layer changed in it', async () => {
    const many = await tarOf([{ name: 'd/', type: 'directory', mode: 0o755 }, ...Array.from({ length: 5_000 }, (_, i) => ({ name: `d/f${String(i).padStart(5, '0')}`, body: 'x' }))]);
    const change = await tarOf([{ name: 'd/.wh.f00003' }, { name: 'd/f00005', body: 'changed' }, { name: 'd/zz-new', body: 'new' }]);
    await loadImages(graph, Readable.from([await archive([{ tag: 'many:1', layers: [many, change] }])]), undefined, signal);
    const browser = new LayerBrowser(graph);
    const page = await browser.tree({ name: 'many:1', layer: 1, path: '/d', offset: 2, limit: 4, changesOnly: false });
    expect(page.total).toBe(5_001);
    expect(page.entries.map((e) => `${e.name}:${e.change}`)).toEqual(['f00002:null', 'f00003:removed', 'f00004:null', 'f00005:modified']);
    expect(page.entries[3]!.size).toBe('changed'.length);
    const changed = await browser.tree({ name: 'many:1', layer: 1, path: '/d', offset: 0, limit: 100, changesOnly: true });
    expect(changed.entries.map((e) => `${e.name}:${e.change}`)).toEqual(['f00003:removed', 'f00005:modified', 'zz-new:added']);
    await expect(browser.tree({ name: 'many:1', layer: 2, path: '/', offset: 0, limit: 1, changesOnly: false })).rejects.toThrow(/layer 2 does not exist/);
    await expect(browser.tree({ name: 'many:1', layer: 1, path: '/d/f00001', offset: 0, limit: 1, changesOnly: false })).rejects.toMatchObject({ status: 404 });
  });

  it.each([
    ['gzip', (b: Buffer) => gzipSync(b)],
    ['zstd', (b: Buffer) => execFileSync('zstd', ['-q', '-c'], { input: b })],
  ])('loads an OCI layout with %s layers and saves them back uncompressed, same diff ids', async (_kind, compress) => {
    await loadImages(graph, Readable.from([await ociArchive('docker.io/library/packed:1', [base, top], compress)]), undefined, signal);
    const { record } = graph.resolve('packed:1');
    expect(record.layers).toEqual([sha(base), sha(top)]);
    const saved: Buffer[] = [];
    for await (const c of saveImages(graph, selectImages(graph, ['packed:1'])) as AsyncIterable<Buffer>) saved.push(c);
    const copy = mkdtempSync(path.join(tmpdir(), 'berth-graph-copy-'));
    try {
      const other = await Graph.open({ dataRoot: copy, storageDriver: driverName });
      const result = await loadImages(other, Readable.from([Buffer.concat(saved)]), undefined, signal);
      expect(result.images).toEqual([{ id: record.id, refs: ['packed:1'] }]);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('refuses a compressed layer whose content is not its diff id', async () => {
    // A layer not here yet (one already here is used as is: its content was verified when it came).
    const fresh = await tarOf([{ name: 'fresh.txt', body: 'fresh' }]);
    const lying = await ociArchive('docker.io/library/lying:1', [fresh], () => gzipSync(top));
    await expect(loadImages(graph, Readable.from([lying]), undefined, signal)).rejects.toThrow(/layer digest mismatch/);
    expect(() => graph.resolve('lying:1')).toThrow(/No such image/);
  });
});
