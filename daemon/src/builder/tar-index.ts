// The build context's index as the tar streams in: each entry reported as it comes, each file's
// sha256 taken straight from the arriving chunks (no per-entry stream objects), and the few
// files the builder reads itself (the Dockerfile) kept. The tar structure is read by the same
// reader as layers' tar-split (drivers/graph/tar-headers.ts); this only hashes. It never writes files.
import { createHash, type Hash } from 'node:crypto';
import { TarHeaderReader, type TarEntryHeader } from '../drivers/graph/tar-headers';

export type { TarEntryHeader };

export interface TarIndexSink {
  /** A new entry; return true to be given its bytes as well (files kept in memory). */
  entry(header: TarEntryHeader): boolean;
  /** The entry's content hash (files only), and its bytes when asked for. */
  fileDone(header: TarEntryHeader, sha256: string, bytes?: Buffer): void;
}

export class TarIndexer {
  private readonly reader: TarHeaderReader;
  private hash?: Hash;
  private keep?: Buffer[];

  constructor(sink: TarIndexSink) {
    this.reader = new TarHeaderReader({
      entry: (header) => {
        const keep = sink.entry(header);
        if (header.type !== 'file') return;
        this.hash = createHash('sha256');
        this.keep = keep ? [] : undefined;
      },
      content: (bytes) => {
        this.hash!.update(bytes);
        this.keep?.push(bytes);
      },
      contentEnd: (header) => {
        sink.fileDone(header, this.hash!.digest('hex'), this.keep ? Buffer.concat(this.keep) : undefined);
        this.hash = undefined;
        this.keep = undefined;
      },
    });
  }

  write(chunk: Buffer): void {
    this.reader.write(chunk);
  }

  /** Checks the archive ended cleanly (on a block boundary). */
  end(): void {
    this.reader.end();
  }
}
