import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalContentStore, sha256 } from './content-store';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'berth-content-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('LocalContentStore', () => {
  it('commits a blob under its digest and reads it back', async () => {
    const store = new LocalContentStore(root);
    const w = await store.writer();
    await w.write(Buffer.from('hello '));
    await w.write(Buffer.from('world'));
    const info = await w.commit({ size: 11, digest: sha256('hello world') });
    expect(info).toEqual({ digest: sha256('hello world'), size: 11 });
    expect(readFileSync(store.path(info.digest), 'utf8')).toBe('hello world');
    expect(await store.info(info.digest)).toEqual(info);
    expect(readdirSync(path.join(root, 'ingest'))).toEqual([]);
  });

  it('never makes visible a blob whose digest or size does not match', async () => {
    const store = new LocalContentStore(root);
    const wrong = sha256('something else');
    const w = await store.writer();
    await w.write(Buffer.from('payload'));
    await expect(w.commit({ digest: wrong })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/digest mismatch/) });
    expect(store.has(wrong)).toBe(false);
    expect(store.has(sha256('payload'))).toBe(false);
    const w2 = await store.writer();
    await w2.write(Buffer.from('payload'));
    await expect(w2.commit({ size: 3 })).rejects.toThrow(/unexpected blob size/);
    expect(await store.list()).toEqual([]);
    expect(readdirSync(path.join(root, 'ingest'))).toEqual([]);
  });

  it('removes at open the ingest files a crash left, keeping committed blobs', async () => {
    const store = new LocalContentStore(root);
    const kept = await store.ingestStream([Buffer.from('kept')]);
    const w = await store.writer();
    await w.write(Buffer.from('half a blob'));
    // A crash here: the writer is never committed nor aborted.
    writeFileSync(path.join(root, 'ingest', 'leftover'), 'x');
    const reopened = new LocalContentStore(root);
    expect(readdirSync(path.join(root, 'ingest'))).toEqual([]);
    expect((await reopened.list()).map((b) => b.digest)).toEqual([kept.digest]);
  });

  it('aborted writes leave nothing, and deleted blobs are gone', async () => {
    const store = new LocalContentStore(root);
    const w = await store.writer();
    await w.write(Buffer.from('x'));
    await w.abort();
    const b = await store.ingestStream([Buffer.from('y')]);
    await store.delete(b.digest);
    expect(await store.list()).toEqual([]);
    expect(readdirSync(path.join(root, 'ingest'))).toEqual([]);
  });
});
