// The content store: blobs by sha256 digest under <root>/blobs/sha256/<hex>. A write goes to a
// private file under <root>/ingest and becomes visible only by `commit`, after its digest and
// size are checked and its bytes fsynced. Ingest files left by a crash are removed at open.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync, readdirSync, statSync } from 'node:fs';
import { open, rename, rm, stat, readdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobInfo, ContentStore, Digest, Writer } from './interfaces';
import { invalidParameter, notFound } from '../errors';

const DIGEST = /^sha256:([a-f0-9]{64})$/;

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

export function hexOf(digest: Digest): string {
  const m = DIGEST.exec(digest);
  if (!m) throw invalidParameter(`invalid digest ${JSON.stringify(digest)}: expected sha256:<64 hex digits>`);
  return m[1]!;
}

export function sha256(data: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

class FileWriter implements Writer {
  offset = 0;
  private readonly hash: Hash = createHash('sha256');
  private done = false;

  constructor(private readonly store: LocalContentStore, private readonly file: string, private readonly fh: FileHandle) {}

  async write(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    let written = 0;
    while (written < chunk.length) {
      const { bytesWritten } = await this.fh.write(chunk, written, chunk.length - written, this.offset + written);
      written += bytesWritten;
    }
    this.offset += chunk.length;
  }

  digest(): Digest {
    return `sha256:${this.hash.copy().digest('hex')}`;
  }

  async commit(expected: { size?: number; digest?: Digest } = {}): Promise<BlobInfo> {
    const digest = this.digest();
    try {
      if (expected.size !== undefined && expected.size !== this.offset) {
        throw invalidParameter(`unexpected blob size for ${expected.digest ?? digest}: got ${this.offset} bytes, expected ${expected.size}`);
      }
      if (expected.digest !== undefined && expected.digest !== digest) {
        throw invalidParameter(`digest mismatch: expected ${expected.digest}, got ${digest}: the blob is corrupt or truncated`);
      }
      await this.fh.sync();
      await this.fh.close();
      this.done = true;
      await rename(this.file, this.store.path(digest));
      return { digest, size: this.offset };
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.fh.close().catch(() => undefined);
    }
    await rm(this.file, { force: true });
  }
}

export class LocalContentStore implements ContentStore {
  private readonly blobs: string;
  private readonly ingest: string;

  constructor(readonly root: string) {
    this.blobs = path.join(root, 'blobs', 'sha256');
    this.ingest = path.join(root, 'ingest');
    mkdirSync(this.blobs, { recursive: true });
    // Writes that a crash interrupted never became blobs: their files are garbage.
    rmSync(this.ingest, { recursive: true, force: true });
    mkdirSync(this.ingest, { recursive: true });
  }

  path(digest: Digest): string {
    return path.join(this.blobs, hexOf(digest));
  }

  async info(digest: Digest): Promise<BlobInfo | undefined> {
    try {
      const st = await stat(this.path(digest));
      return { digest, size: st.size };
    } catch {
      return undefined;
    }
  }

  has(digest: Digest): boolean {
    try {
      statSync(this.path(digest));
      return true;
    } catch {
      return false;
    }
  }

  reader(digest: Digest): Readable {
    const file = this.path(digest);
    const stream = createReadStream(file, { highWaterMark: 1 << 20 });
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') stream.emit('error', notFound(`content ${digest}: not found`));
    });
    return stream;
  }

  async writer(): Promise<Writer> {
    const file = path.join(this.ingest, randomBytes(12).toString('hex'));
    const fh = await open(file, 'wx', 0o600);
    return new FileWriter(this, file, fh);
  }

  /** Streams `source` into a new blob and commits it against `expected` (when given). */
  async ingestStream(source: AsyncIterable<Buffer> | Iterable<Buffer>, expected?: { size?: number; digest?: Digest }): Promise<BlobInfo> {
    if (expected?.digest && this.has(expected.digest)) {
      // Already here: drain the source so the caller's stream moves on, then verify nothing.
      for await (const chunk of source) void chunk;
      return { digest: expected.digest, size: statSync(this.path(expected.digest)).size };
    }
    const w = await this.writer();
    try {
      for await (const chunk of source) await w.write(chunk);
    } catch (err) {
      await w.abort();
      throw err;
    }
    return w.commit(expected);
  }

  async list(): Promise<BlobInfo[]> {
    const names = await readdir(this.blobs);
    const out: BlobInfo[] = [];
    for (const hex of names) {
      if (!/^[a-f0-9]{64}$/.test(hex)) continue;
      const st = await stat(path.join(this.blobs, hex)).catch(() => undefined);
      if (st) out.push({ digest: `sha256:${hex}`, size: st.size });
    }
    return out;
  }

  listSync(): Digest[] {
    return readdirSync(this.blobs).filter((h) => /^[a-f0-9]{64}$/.test(h)).map((h) => `sha256:${h}`);
  }

  async delete(digest: Digest): Promise<void> {
    await rm(this.path(digest), { force: true });
  }
}
