import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readlinkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pack as tarPack, extract as tarExtract, type Headers } from 'tar-stream';
import { packPath, unpackInto } from './tar-tree';

type Entry = Headers & { body?: string };
function tarOf(entries: Entry[]): Readable {
  const p = tarPack();
  for (const { body, ...h } of entries) p.entry(h, body ?? '');
  p.finalize();
  return p as unknown as Readable;
}

async function names(tar: Readable): Promise<string[]> {
  const ex = tarExtract();
  tar.pipe(ex);
  const out: string[] = [];
  for await (const e of ex) {
    out.push(e.header.type === 'symlink' ? `${e.header.name} -> ${e.header.linkname}` : e.header.name);
    e.resume();
  }
  return out;
}

let dir: string;
let outside: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'berth-tar-'));
  outside = mkdtempSync(path.join(tmpdir(), 'berth-outside-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('unpackInto (docker cp into a container)', () => {
  const o = { noOverwriteDirNonDir: true, keepOwners: false };

  it('writes files, directories and symlinks below the target', async () => {
    await unpackInto(tarOf([
      { name: 'd/', type: 'directory', mode: 0o755 },
      { name: 'd/f.txt', type: 'file', mode: 0o600, body: 'content' },
      { name: 'link', type: 'symlink', linkname: '/etc/passwd' },
    ]), dir, o);
    expect(readFileSync(path.join(dir, 'd/f.txt'), 'utf8')).toBe('content');
    expect(readlinkSync(path.join(dir, 'link'))).toBe('/etc/passwd');
  });

  it('refuses names that climb out of the target', async () => {
    await expect(unpackInto(tarOf([{ name: '../escape.txt', type: 'file', body: 'x' }]), dir, o)).rejects.toThrow(/leaves the destination directory/);
    expect(existsSync(path.join(path.dirname(dir), 'escape.txt'))).toBe(false);
  });

  it('never writes through a symlink, even one the same archive planted', async () => {
    symlinkSync(outside, path.join(dir, 'planted'));
    await expect(unpackInto(tarOf([{ name: 'planted/x.txt', type: 'file', body: 'x' }]), dir, o)).rejects.toThrow(/not a directory/);
    await expect(unpackInto(tarOf([
      { name: 'evil', type: 'symlink', linkname: outside },
      { name: 'evil/y.txt', type: 'file', body: 'y' },
    ]), dir, o)).rejects.toThrow(/not a directory/);
    expect(existsSync(path.join(outside, 'x.txt')) || existsSync(path.join(outside, 'y.txt'))).toBe(false);
  });

  it('refuses to replace a directory with a file unless asked', async () => {
    mkdirSync(path.join(dir, 'same'));
    await expect(unpackInto(tarOf([{ name: 'same', type: 'file', body: 'x' }]), dir, o)).rejects.toThrow(/cannot overwrite directory/);
    await unpackInto(tarOf([{ name: 'same', type: 'file', body: 'x' }]), dir, { ...o, noOverwriteDirNonDir: false });
    expect(readFileSync(path.join(dir, 'same'), 'utf8')).toBe('x');
  });
});

describe('packPath (docker cp out of a container, docker export)', () => {
  it('names entries under the requested base and keeps symlinks as links', async () => {
    mkdirSync(path.join(dir, 'etc'));
    writeFileSync(path.join(dir, 'etc/hostname'), 'h\n');
    symlinkSync('/etc/shadow', path.join(dir, 'etc/link'));
    expect(await names(packPath(path.join(dir, 'etc'), 'etc'))).toEqual(['etc/', 'etc/hostname', 'etc/link -> /etc/shadow']);
    expect(await names(packPath(dir, ''))).toEqual(['etc/', 'etc/hostname', 'etc/link -> /etc/shadow']);
  });
});
