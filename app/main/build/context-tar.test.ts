import { chmodSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contextRules, packContext } from './context-tar.js';

interface Entry { name: string; type: string; mode: number; uid: number; gid: number; linkname?: string; body: string }

async function entries(tar: Readable): Promise<Entry[]> {
  const ex = extract();
  tar.pipe(ex);
  const out: Entry[] = [];
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    const h = e.header;
    out.push({ name: h.name, type: h.type ?? '', mode: h.mode ?? 0, uid: h.uid ?? -1, gid: h.gid ?? -1, linkname: h.linkname ?? undefined, body: Buffer.concat(chunks).toString() });
  }
  return out;
}

let dir: string;
const write = (rel: string, text: string) => {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), text);
};

beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'berth-context-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the build context tar', () => {
  it('sends the folder in name order, owned by root, with modes, symlinks and hard links as they are', async () => {
    write('Dockerfile', 'FROM busybox\n');
    write('src/b.txt', 'bee');
    write('src/a.sh', 'echo a');
    chmodSync(path.join(dir, 'src/a.sh'), 0o750);
    symlinkSync('src/b.txt', path.join(dir, 'link'));
    linkSync(path.join(dir, 'src/b.txt'), path.join(dir, 'src/c.txt'));
    const { tar, sent } = packContext(dir, await contextRules(dir, 'Dockerfile'));
    const list = await entries(tar);
    expect(list.map((e) => e.name)).toEqual(['Dockerfile', 'link', 'src/', 'src/a.sh', 'src/b.txt', 'src/c.txt']);
    const by = Object.fromEntries(list.map((e) => [e.name, e]));
    expect(by['src/a.sh']!.mode).toBe(0o750);
    expect(by['src/']!.type).toBe('directory');
    expect(by['link']).toMatchObject({ type: 'symlink', linkname: 'src/b.txt' });
    expect(by['src/c.txt']).toMatchObject({ type: 'link', linkname: 'src/b.txt' });
    expect(by['src/b.txt']!.body).toBe('bee');
    expect(list.every((e) => e.uid === 0 && e.gid === 0)).toBe(true);
    expect(sent()).toBeGreaterThan(0);
  });

  it('leaves out what .dockerignore excludes but always sends the Dockerfile and .dockerignore', async () => {
    write('.dockerignore', '.dockerignore\ndocker\n!docker/keep.conf\n*.secret\nnode_modules\n');
    write('docker/app.Dockerfile', 'FROM busybox\n');
    write('docker/keep.conf', 'kept');
    write('docker/drop.conf', 'dropped');
    write('key.secret', 'x');
    write('node_modules/pkg/index.js', 'x');
    write('app.txt', 'app');
    const { tar } = packContext(dir, await contextRules(dir, 'docker/app.Dockerfile'));
    const names = (await entries(tar)).map((e) => e.name);
    expect(names).toEqual(['.dockerignore', 'app.txt', 'docker/app.Dockerfile', 'docker/keep.conf']);
  });

  it('says which .dockerignore line it cannot read', async () => {
    write('.dockerignore', 'ok\nbad[\n');
    await expect(contextRules(dir, 'Dockerfile')).rejects.toThrow('error parsing .dockerignore: syntax error in pattern: bad[');
  });
});

describe('a closed build context', () => {
  /** The descriptors this process holds open on `file`. */
  const openOn = (file: string): number => readdirSync('/proc/self/fd').filter((fd) => {
    try { return readlinkSync(`/proc/self/fd/${fd}`) === file; } catch { return false; }
  }).length;

  it('closes the file it was reading when the request goes away (a cancel)', async () => {
    const big = path.join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(8 << 20, 1));
    const { tar } = packContext(dir, await contextRules(dir, 'Dockerfile'));
    tar.on('error', () => undefined);
    // Nothing reads (a slow engine): the file stays open mid-way; then the request closes, as a cancel does.
    await new Promise<void>((resolve) => tar.once('readable', () => resolve()));
    await expect.poll(() => openOn(big)).toBe(1);
    tar.destroy();
    await expect.poll(() => openOn(big), { timeout: 5_000 }).toBe(0);
  });
});
