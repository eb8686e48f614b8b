import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, readFileSync, lstatSync, readlinkSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Headers } from 'tar-stream';
import { extractLayer, REFUSED } from './extract';
import { tarOf } from './test-tar';

type Entry = Headers & { body?: string };


let dir: string;
let root: string;
let outside: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'berth-extract-'));
  root = path.join(dir, 'layer');
  outside = path.join(dir, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const extract = async (entries: Entry[], mode: 'overlay' | 'delete' = 'overlay') => extractLayer(Readable.from([await tarOf(entries)]), root, mode);

describe('extractLayer', () => {
  it('unpacks files, dirs, symlinks and hardlinks with owners, modes and mtimes, and digests the stream', async () => {
    const tar = await tarOf([
      { name: 'etc/', type: 'directory', mode: 0o750, uid: 12, gid: 34 },
      { name: 'etc/passwd', body: 'root:x:0:0\n', mode: 0o4755, uid: 1000, gid: 1000 },
      { name: 'etc/link', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'etc/hard', type: 'link', linkname: 'etc/passwd' },
      { name: 'deep/a/b/c.txt', body: 'implied parents' },
    ]);
    const r = await extractLayer(Readable.from([tar]), root, 'overlay');
    expect(r.diffId).toBe(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
    // Regular files plus the symlink's target; the hardlink is not counted twice.
    expect(r.size).toBe('root:x:0:0\n'.length + 'implied parents'.length + '/etc/passwd'.length);
    const passwd = lstatSync(path.join(root, 'etc/passwd'));
    expect(passwd.mode & 0o7777).toBe(0o4755);
    expect([passwd.uid, passwd.gid]).toEqual([1000, 1000]);
    expect(passwd.mtimeMs).toBe(1_700_000_000_000);
    expect(passwd.nlink).toBe(2);
    const etc = lstatSync(path.join(root, 'etc'));
    expect([etc.mode & 0o7777, etc.uid, etc.gid]).toEqual([0o750, 12, 34]);
    expect(etc.mtimeMs).toBe(1_700_000_000_000);
    expect(readlinkSync(path.join(root, 'etc/link'))).toBe('/etc/passwd');
    expect(readFileSync(path.join(root, 'deep/a/b/c.txt'), 'utf8')).toBe('implied parents');
  });

  it('refuses ../ names and leaves the outside untouched', async () => {
    await expect(extract([{ name: '../outside/pwned', body: 'x' }])).rejects.toThrow(REFUSED);
    await expect(extract([{ name: 'a/../../outside/pwned', body: 'x' }])).rejects.toThrow(/points outside the layer/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('keeps absolute names inside the layer', async () => {
    await extract([{ name: '/abs/file', body: 'in' }]);
    expect(readFileSync(path.join(root, 'abs/file'), 'utf8')).toBe('in');
  });

  it('refuses to write through a symlinked parent directory', async () => {
    const err = await extract([
      { name: 'escape', type: 'symlink', linkname: outside },
      { name: 'escape/pwned', body: 'x' },
    ]).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/not a directory/);
    expect((err as { status?: number }).status).toBe(400);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('refuses hardlinks to files outside the layer', async () => {
    writeFileSync(path.join(outside, 'secret'), 's');
    await expect(extract([{ name: 'h', type: 'link', linkname: '../outside/secret' }])).rejects.toThrow(/points outside the layer/);
    await expect(extract([{ name: 'h', type: 'link', linkname: 'missing' }])).rejects.toThrow(/not in the layer/);
    await expect(extract([
      { name: 'l', type: 'symlink', linkname: outside },
      { name: 'h', type: 'link', linkname: 'l/secret' },
    ])).rejects.toThrow(/not a directory/);
    expect(lstatSync(path.join(outside, 'secret')).nlink).toBe(1);
  });

  it('replaces a symlink by a file rather than writing through it', async () => {
    await extract([
      { name: 'f', type: 'symlink', linkname: path.join(outside, 'target') },
      { name: 'f', body: 'mine' },
    ]);
    expect(lstatSync(path.join(root, 'f')).isFile()).toBe(true);
    expect(existsSync(path.join(outside, 'target'))).toBe(false);
  });

  it('rejects a truncated archive', async () => {
    const tar = await tarOf([{ name: 'big', body: 'x'.repeat(10_000) }]);
    await expect(extractLayer(Readable.from([tar.subarray(0, 3000)]), root, 'overlay')).rejects.toThrow(/corrupt or truncated/);
  });

  it('turns whiteouts into 0/0 character devices and the opaque xattr for overlay', async () => {
    await extract([
      { name: 'data/', type: 'directory', mode: 0o755 },
      { name: 'data/.wh.gone', body: '' },
      { name: 'data/dir/.wh..wh..opq', body: '' },
      { name: 'data/dir/new', body: 'n' },
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'run/fifo', type: 'fifo', mode: 0o600 },
    ]);
    const gone = lstatSync(path.join(root, 'data/gone'));
    expect(gone.isCharacterDevice()).toBe(true);
    expect(gone.rdev).toBe(0);
    expect(existsSync(path.join(root, 'data/.wh.gone'))).toBe(false);
    const xattr = execFileSync('getfattr', ['-h', '--only-values', '-n', 'trusted.overlay.opaque', path.join(root, 'data/dir')], { encoding: 'utf8' });
    expect(xattr).toBe('y');
    const null_ = lstatSync(path.join(root, 'dev/null'));
    expect(null_.isCharacterDevice()).toBe(true);
    expect(null_.rdev).toBe(0x103);
    expect(null_.mode & 0o777).toBe(0o666);
    expect(lstatSync(path.join(root, 'run/fifo')).isFIFO()).toBe(true);
  });

  it('applies whiteouts by deleting for vfs, keeping what the same layer added under an opaque dir', async () => {
    mkdirSync(path.join(root, 'data/dir'), { recursive: true });
    writeFileSync(path.join(root, 'data/gone'), 'old');
    writeFileSync(path.join(root, 'data/dir/old'), 'old');
    await extract([
      { name: 'data/.wh.gone', body: '' },
      { name: 'data/dir/new', body: 'n' },
      { name: 'data/dir/.wh..wh..opq', body: '' },
    ], 'delete');
    expect(existsSync(path.join(root, 'data/gone'))).toBe(false);
    expect(readdirSync(path.join(root, 'data/dir'))).toEqual(['new']);
  });

  it('does not let a layer set overlay attributes of its own', async () => {
    await extract([{ name: 'd/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y', 'SCHILY.xattr.user.note': 'kept' } } as Entry]);
    const dump = execFileSync('getfattr', ['-h', '-d', '-m', '-', path.join(root, 'd')], { encoding: 'utf8' });
    expect(dump).toContain('user.note="kept"');
    expect(dump).not.toContain('trusted.overlay');
  });

  it('keeps binary extended attributes byte for byte (file capabilities)', async () => {
    const src = path.join(dir, 'src');
    mkdirSync(src);
    writeFileSync(path.join(src, 'ping'), 'binary');
    // Not valid UTF-8: a decoder that went through strings would mangle it.
    execFileSync('setfattr', ['-n', 'user.caps', '-v', '0x0100000200200000ff00fe00', path.join(src, 'ping')]);
    const tar = execFileSync('tar', ['-C', src, '--xattrs', '--xattrs-include=*', '--format=posix', '-c', 'ping']);
    await extractLayer(Readable.from([tar]), root, 'overlay');
    const hex = execFileSync('getfattr', ['-h', '-e', 'hex', '--only-values', '-n', 'user.caps', path.join(root, 'ping')]);
    expect(hex.toString('hex')).toBe('0100000200200000ff00fe00');
  });
});
