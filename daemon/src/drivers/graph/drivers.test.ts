// Both graphdrivers on the same layers: whiteouts and opaque directories as a container sees them,
// a container's changes and their diff, and (overlay) an image of more layers than one page of
// mount options could name by full path.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, readdirSync, existsSync, writeFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { extract as tarExtract, pack as tarPack, type Headers } from 'tar-stream';
import type { GraphDriver } from './graph-driver';
import { OverlayDriver } from './overlay';
import { VfsDriver } from './vfs';
import { isMounted } from './mounts';

type Entry = Headers & { body?: string };
async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const { body, ...h } of entries) {
    await new Promise<void>((resolve, reject) => p.entry({ mtime: new Date(1_700_000_000_000), mode: h.type === 'directory' ? 0o755 : 0o644, ...h }, body ?? '', (e) => (e ? reject(e) : resolve())));
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function names(tar: Readable): Promise<string[]> {
  const x = tarExtract();
  const out: string[] = [];
  const feeding = (async () => {
    for await (const c of tar as AsyncIterable<Buffer>) x.write(c);
    x.end();
  })();
  for await (const e of x) {
    out.push(e.header.name);
    e.resume();
  }
  await feeding;
  return out;
}

const layers = async () => [
  await tarOf([
    { name: 'data/', type: 'directory' },
    { name: 'data/kept.txt', body: 'kept' },
    { name: 'data/deleted.txt', body: 'deleted' },
    { name: 'data/dir/', type: 'directory' },
    { name: 'data/dir/old.txt', body: 'old' },
    { name: 'data/gone/', type: 'directory' },
    { name: 'data/gone/file', body: 'gone' },
  ]),
  await tarOf([
    { name: 'data/', type: 'directory' },
    { name: 'data/.wh.deleted.txt' },
    { name: 'data/.wh.gone' },
    { name: 'data/dir/', type: 'directory' },
    { name: 'data/dir/.wh..wh..opq' },
    { name: 'data/dir/new.txt', body: 'new' },
  ]),
];

const drivers: [string, (home: string) => GraphDriver][] = [
  ['overlay', (home) => new OverlayDriver(home)],
  ['vfs', (home) => new VfsDriver(home)],
];

describe.each(drivers)('%s driver', (_name, make) => {
  let dir: string;
  let driver: GraphDriver;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'berth-driver-'));
    driver = make(path.join(dir, 'home'));
  });
  afterAll(async () => {
    for (const c of await driver.listContainers()) await driver.remove(c);
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies whiteouts and opaque directories as a container sees them', async () => {
    const [l1, l2] = await layers();
    const a = await driver.applyLayer('a'.repeat(64), undefined, Readable.from([l1!]));
    expect(a.size).toBe('keptdeletedoldgone'.length);
    await driver.applyLayer('b'.repeat(64), 'a'.repeat(64), Readable.from([l2!]));
    await driver.prepare('c1', 'b'.repeat(64));
    const rootfs = await driver.mount('c1');
    expect(readdirSync(path.join(rootfs, 'data')).sort()).toEqual(['dir', 'kept.txt']);
    expect(readdirSync(path.join(rootfs, 'data/dir'))).toEqual(['new.txt']);
    expect(readFileSync(path.join(rootfs, 'data/kept.txt'), 'utf8')).toBe('kept');
  });

  it('reports a container\'s changes and packs them as a layer with whiteouts', async () => {
    const rootfs = await driver.mount('c1');
    writeFileSync(path.join(rootfs, 'data/kept.txt'), 'changed');
    writeFileSync(path.join(rootfs, 'added.txt'), 'added');
    unlinkSync(path.join(rootfs, 'data/dir/new.txt'));
    const changes = await driver.changes('c1');
    const byPath = Object.fromEntries(changes.map((c) => [c.Path, c.Kind]));
    expect(byPath['/added.txt']).toBe(1);
    expect(byPath['/data/kept.txt']).toBe(0);
    expect(byPath['/data/dir/new.txt']).toBe(2);
    // A directory deleted and made again hides what the image had in it.
    rmSync(path.join(rootfs, 'data'), { recursive: true });
    mkdirSync(path.join(rootfs, 'data'));
    writeFileSync(path.join(rootfs, 'data/fresh.txt'), 'fresh');
    const tar = await names(driver.diff('c1'));
    expect(tar).toContain('added.txt');
    expect(tar).toContain('data/fresh.txt');
    if (driver.name === 'overlay2') expect(tar).toContain('data/.wh..wh..opq');
    else expect(tar).toEqual(expect.arrayContaining(['data/.wh.kept.txt', 'data/.wh.dir']));
    await driver.unmount('c1');
    if (driver.name === 'overlay2') expect(isMounted(path.join(dir, 'home', 'containers', 'c1', 'merged'))).toBe(false);
  });

  it('removes a container and a layer completely', async () => {
    await driver.remove('c1');
    expect(await driver.listContainers()).toEqual([]);
    await driver.removeLayer('b'.repeat(64));
    expect(driver.hasLayer('b'.repeat(64))).toBe(false);
    expect(await driver.listLayers()).toEqual(['a'.repeat(64)]);
  });
});

describe('overlay with many layers', () => {
  let dir: string;
  let driver: OverlayDriver;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'berth-overlay-many-'));
    driver = new OverlayDriver(path.join(dir, 'home'));
  });
  afterAll(async () => {
    await driver.remove('many').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('mounts an image of 150 layers: full paths would not fit one page of mount options', async () => {
    let parent: string | undefined;
    const count = 150;
    for (let i = 0; i < count; i++) {
      const id = i.toString(16).padStart(64, '0');
      await driver.applyLayer(id, parent, Readable.from([await tarOf([{ name: `layer${i}.txt`, body: String(i) }])]));
      parent = id;
    }
    const fullPaths = Array.from({ length: count }, (_, i) => driver.layerDir(i.toString(16).padStart(64, '0'))).join(':');
    expect(fullPaths.length).toBeGreaterThan(4096);
    expect(driver.mountOptions.bind(driver)).toBeDefined();
    await driver.prepare('many', parent);
    const rootfs = await driver.mount('many');
    const files = readdirSync(rootfs);
    expect(files).toHaveLength(count);
    expect(readFileSync(path.join(rootfs, 'layer0.txt'), 'utf8')).toBe('0');
    expect(readFileSync(path.join(rootfs, `layer${count - 1}.txt`), 'utf8')).toBe(String(count - 1));
    await driver.unmount('many');
  });

  it('removes staging directories a crash left when it starts', () => {
    const home = path.join(dir, 'home');
    mkdirSync(path.join(home, 'tmp-crashed', 'diff'), { recursive: true });
    new OverlayDriver(home);
    expect(existsSync(path.join(home, 'tmp-crashed'))).toBe(false);
  });
});
