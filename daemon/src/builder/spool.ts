// Where the build context's bytes wait until a step needs its files (a COPY or ADD that misses the
// cache). A rebuild that hits the cache never reads them again, and most contexts are small, so
// they stay in the chunks they arrived in, up to a bound; a larger context goes to one file under
// the data root instead, written as it streams, so no context is ever held in memory whole.
import { closeSync, createReadStream, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';

/** Contexts up to this size are kept in memory (a warm rebuild then writes nothing to disk). */
export const SPOOL_MEMORY_MAX = 16 * 1024 * 1024;

export class Spool {
  private chunks: Buffer[] = [];
  private size = 0;
  private fd?: number;
  /** The file the bytes went to, once they outgrew memory. */
  private spilled?: string;

  constructor(
    /** Where the bytes go if they outgrow memory (nothing is created unless they do). */
    private readonly file: string,
    private readonly memoryMax = SPOOL_MEMORY_MAX,
  ) {}

  /** Synchronous: a context is many small chunks, and a thread-pool round trip per chunk costs more than the write. */
  write(chunk: Buffer): void {
    if (this.fd === undefined && this.size + chunk.length <= this.memoryMax) {
      this.chunks.push(chunk);
      this.size += chunk.length;
      return;
    }
    if (this.fd === undefined) {
      mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      this.fd = openSync(this.file, 'w', 0o600);
      this.spilled = this.file;
      for (const kept of this.chunks) writeSync(this.fd, kept);
      this.chunks = [];
    }
    writeSync(this.fd, chunk);
  }

  /** No more bytes will come (or the upload failed): the file, if any, is closed. */
  end(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** Everything written, from the start. */
  read(): Readable {
    return this.spilled ? createReadStream(this.spilled) : Readable.from(this.chunks, { objectMode: false });
  }

  /** The file on disk, when the bytes outgrew memory; the caller removes it. */
  get onDisk(): string | undefined {
    return this.spilled;
  }

  /** Lets go of the bytes kept in memory. */
  release(): void {
    this.chunks = [];
    this.size = 0;
  }
}
