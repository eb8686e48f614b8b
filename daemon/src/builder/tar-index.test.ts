import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TarIndexer, type TarEntryHeader } from './tar-index';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const long = 'd'.repeat(60) + '/' + 'e'.repeat(60) + '/' + 'f'.repeat(80) + '.txt';

function archive(format: string): Buffer {
  const d = mkdtempSync(path.join(tmpdir(), 'berth-tarindex-'));
  dirs.push(d);
  mkdirSync(path.join(d, path.dirname(long)), { recursive: true });
  writeFileSync(path.join(d, long), 'long name\n');
  writeFileSync(path.join(d, 'big.bin'), Buffer.alloc(70_000, 3));
  writeFileSync(path.join(d, 'Dockerfile'), 'FROM scratch\n');
  symlinkSync('big.bin', path.join(d, 'link'));
  return execFileSync('tar', [`--format=${format}`, '-C', d, '-cf', '-', 'Dockerfile', 'big.bin', 'link', long.split('/')[0]!]);
}

function index(tar: Buffer, chunk: number): { entries: TarEntryHeader[]; hashes: Map<string, string>; kept?: string } {
  const entries: TarEntryHeader[] = [];
  const hashes = new Map<string, string>();
  let kept: string | undefined;
  const indexer = new TarIndexer({
    entry: (h) => (entries.push(h), h.name === 'Dockerfile'),
    fileDone: (h, sha, bytes) => {
      hashes.set(h.name, sha);
      if (bytes) kept = bytes.toString();
    },
  });
  for (let i = 0; i < tar.length; i += chunk) indexer.write(tar.subarray(i, i + chunk));
  indexer.end();
  return { entries, hashes, kept };
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('TarIndexer', () => {
  // The tar structure itself (formats, damage, truncation) is tested with drivers/graph/tar-headers.ts.
  it.each(['pax', 'gnu', 'ustar'])('indexes and hashes %s archives in any chunking, long names (PAX, GNU, ustar prefix) included', (format) => {
    const tar = archive(format);
    for (const chunk of [1, 511, 512, 4096, tar.length]) {
      const { entries, hashes, kept } = index(tar, chunk);
      expect(entries.map((e) => [e.name.replace(/\/$/, ''), e.type])).toContainEqual([long, 'file']);
      expect(entries.find((e) => e.name === 'link')).toMatchObject({ type: 'symlink', linkname: 'big.bin' });
      expect(hashes.get('big.bin')).toBe(sha(Buffer.alloc(70_000, 3)));
      expect(hashes.get(long)).toBe(sha('long name\n'));
      expect(kept).toBe('FROM scratch\n');
    }
  });

  it('matches sha256 of what tar stored', () => {
    const tar = archive('gnu');
    const { hashes } = index(tar, 1000);
    expect(hashes.get('Dockerfile')).toBe(sha(readFileSync(path.join(dirs[0]!, 'Dockerfile'))));
  });
});
