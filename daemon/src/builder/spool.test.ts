import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Spool } from './spool';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function file(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'berth-spool-test-'));
  dirs.push(d);
  return path.join(d, 'contexts', 'job.tar');
}

async function bytes(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) out.push(c);
  return Buffer.concat(out);
}

const chunks = (n: number, size: number) => Array.from({ length: n }, (_, i) => Buffer.alloc(size, i));

describe('Spool', () => {
  it('keeps a small context in memory: nothing is written to disk', async () => {
    const where = file();
    const spool = new Spool(where, 1024);
    const written = chunks(4, 200);
    for (const c of written) spool.write(c);
    spool.end();
    expect(spool.onDisk).toBeUndefined();
    expect(existsSync(path.dirname(where))).toBe(false);
    expect((await bytes(spool.read())).equals(Buffer.concat(written))).toBe(true);
    // Read again: the bytes are there until released.
    expect((await bytes(spool.read())).length).toBe(800);
  });

  it('moves a context that outgrows memory to its file, every byte in order', async () => {
    const where = file();
    const spool = new Spool(where, 1024);
    const written = chunks(12, 300);
    for (const c of written) spool.write(c);
    spool.end();
    expect(spool.onDisk).toBe(where);
    expect(existsSync(where)).toBe(true);
    expect((await bytes(spool.read())).equals(Buffer.concat(written))).toBe(true);
  });
});
