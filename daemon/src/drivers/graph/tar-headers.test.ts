import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { extract as tarExtract } from 'tar-stream';
import { TarHeaderReader, type TarEntryHeader } from './tar-headers';
import { tarOf, type TarEntry } from './test-tar';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const long = 'd'.repeat(60) + '/' + 'e'.repeat(60) + '/' + 'f'.repeat(80) + '.txt';

/** ustar has no long link names. */
const linkTarget = (format: string) => 'l'.repeat(format === 'ustar' ? 90 : 120);

/** An archive made by tar(1) in `format`: long names, a symlink, a hard link, an empty file, a big one. */
function archive(format: string): Buffer {
  const d = mkdtempSync(path.join(tmpdir(), 'berth-tarheaders-'));
  dirs.push(d);
  mkdirSync(path.join(d, path.dirname(long)), { recursive: true });
  writeFileSync(path.join(d, long), 'long name\n');
  writeFileSync(path.join(d, 'big.bin'), Buffer.alloc(70_000, 3));
  writeFileSync(path.join(d, 'empty'), '');
  symlinkSync(linkTarget(format), path.join(d, 'link'));
  execFileSync('ln', [path.join(d, 'big.bin'), path.join(d, 'hard')]);
  return execFileSync('tar', [`--format=${format}`, '-C', d, '-cf', '-', 'big.bin', 'hard', 'empty', 'link', long.split('/')[0]!]);
}

function read(tar: Buffer, chunk: number): { entries: TarEntryHeader[]; content: Buffer[]; raw: Buffer[] } {
  const entries: TarEntryHeader[] = [];
  const content: Buffer[] = [];
  const raw: Buffer[] = [];
  const reader = new TarHeaderReader({
    entry: (h) => void entries.push(h),
    content: (b) => void content.push(Buffer.from(b)),
    raw: (b) => void raw.push(Buffer.from(b)),
  });
  for (let i = 0; i < tar.length; i += chunk) reader.write(tar.subarray(i, i + chunk));
  reader.end();
  return { entries, content, raw };
}

/** What tar-stream (the unpacker) makes of the same archive. */
async function tarStreamEntries(tar: Buffer): Promise<{ name: string; type: string; size: number; linkname: string }[]> {
  const out: { name: string; type: string; size: number; linkname: string }[] = [];
  const ex = tarExtract();
  const done = (async () => {
    for await (const entry of ex) {
      const h = entry.header;
      out.push({ name: h.name, type: h.type === 'contiguous-file' ? 'file' : h.type!, size: h.type === 'directory' ? 0 : h.size ?? 0, linkname: h.linkname ?? '' });
      entry.resume();
    }
  })();
  Readable.from([tar]).pipe(ex);
  await done;
  return out;
}

describe('TarHeaderReader', () => {
  it.each(['pax', 'gnu', 'ustar'])('reads %s archives in any chunking as tar-stream does, long names and links included', async (format) => {
    const tar = archive(format);
    const expected = await tarStreamEntries(tar);
    for (const chunk of [1, 511, 512, 4096, tar.length]) {
      const { entries } = read(tar, chunk);
      expect(entries.map((e) => ({ name: e.name, type: e.type, size: e.type === 'directory' ? 0 : e.size, linkname: e.linkname }))).toEqual(expected);
    }
    expect(expected.map((e) => e.name.replace(/\/$/, ''))).toContain(long);
    expect(expected.find((e) => e.name === 'link')?.linkname).toBe(linkTarget(format));
  });

  it('tells content from every other byte: together, in order, they are the archive', () => {
    const tar = archive('pax');
    for (const chunk of [1, 777, tar.length]) {
      const { content, raw } = read(tar, chunk);
      expect(Buffer.concat(content).equals(Buffer.concat([Buffer.alloc(70_000, 3), Buffer.from('long name\n')]))).toBe(true);
      expect(Buffer.concat(content).length + Buffer.concat(raw).length).toBe(tar.length);
    }
  });

  it('refuses a damaged header and a truncated archive, and checks no checksum when told not to', () => {
    const tar = archive('pax');
    const damaged = Buffer.from(tar);
    damaged[10] = damaged[10]! ^ 0xff;
    expect(() => read(damaged, 4096)).toThrow(/checksum/);
    expect(() => read(tar.subarray(0, 1000), 4096)).toThrow(/Unexpected end of data/);
    const lenient = new TarHeaderReader({ entry: () => undefined }, { verify: false });
    expect(() => lenient.write(damaged)).not.toThrow();
  });

  it('keeps the PAX records of an entry byte for byte', async () => {
    // tar-stream writes `pax` records though its types do not name them.
    const tar = await tarOf([{ name: 'f', body: 'x', pax: { 'SCHILY.xattr.user.a': 'v\u00ff' } } as TarEntry]);
    const { entries } = read(tar, 100);
    // The PAX payload follows the first header block; its size is in that header.
    const size = parseInt(tar.toString('latin1', 124, 136).replace(/\0.*$/s, '').trim(), 8);
    expect(entries[0]!.pax?.equals(tar.subarray(512, 512 + size))).toBe(true);
    expect(entries[0]!.pax?.toString('utf8')).toContain('SCHILY.xattr.user.a=v\u00ff');
  });
});
