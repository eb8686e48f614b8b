// Streams one layer tar through a LayerWriter: the bytes are digested as they pass (the diff id),
// parsed with tar-stream, and their extended attributes read from the raw PAX records.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { extract as tarExtract } from 'tar-stream';
import { invalidParameter, EngineError, systemError } from '../../errors';
import { TarSplitRecorder } from './tar-split';
import { LayerWriter, REFUSED, type WhiteoutMode } from './layer-writer';

export { cleanName, REFUSED, type WhiteoutMode } from './layer-writer';

export interface ExtractResult {
  /** Bytes of regular files and symlinks written, hardlinks counted once (dockerd's layer size). */
  size: number;
  /** sha256 of the whole (uncompressed) tar stream. */
  diffId: string;
  /** What the layer's tar wrote and what its whiteouts removed (paths relative to the root). */
  touched: string[];
  removed: string[];
}

/** The digest of the stream as it passes; the graph may hash on a worker thread instead. */
export interface Hasher {
  update(chunk: Buffer): Promise<void> | undefined;
  digest(): Promise<string>;
  drop(): void;
}

class SyncHasher implements Hasher {
  private readonly hash = createHash('sha256');
  update(chunk: Buffer): undefined {
    this.hash.update(chunk);
    return undefined;
  }
  async digest(): Promise<string> {
    return `sha256:${this.hash.digest('hex')}`;
  }
  drop(): void {}
}

/** Resolves when a writable drains, or when it is destroyed (so a failed consumer never strands the feeder). */
export function drained(w: NodeJS.EventEmitter & { destroyed?: boolean }): Promise<void> {
  if (w.destroyed) return Promise.reject(new Error('the archive reader stopped'));
  return new Promise((resolve, reject) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', closed);
      resolve();
    };
    const closed = () => {
      w.off('drain', done);
      reject(new Error('the archive reader stopped'));
    };
    w.once('drain', done);
    w.once('close', closed);
  });
}

/**
 * Unpacks an uncompressed layer tar into `root` (which exists: empty for overlay, a copy of the
 * parent for vfs). The whole stream is read, trailing padding included, so `diffId` is the digest
 * of exactly the bytes given.
 */
export async function extractLayer(tar: Readable, root: string, mode: WhiteoutMode, signal?: AbortSignal, hasher: Hasher = new SyncHasher()): Promise<ExtractResult> {
  const parser = tarExtract();
  const writer = new LayerWriter(root, mode);
  // Reads extended attributes from the raw PAX records, byte for byte.
  const attrs = new TarSplitRecorder({ record: false });

  const feed = (async () => {
    try {
      for await (const chunk of tar as AsyncIterable<Buffer>) {
        if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('cancelled');
        const wait = hasher.update(chunk);
        attrs.feed(chunk);
        if (!parser.write(chunk)) await drained(parser);
        if (wait) await wait;
      }
      parser.end();
    } catch (err) {
      parser.destroy(err as Error);
      throw err;
    }
  })();

  const consume = (async () => {
    let index = 0;
    for await (const entry of parser) {
      await writer.entry(entry.header, entry as AsyncIterable<Buffer>, attrs.xattrsOf(index++));
      // Whatever the writer did not read of the entry must still be drained for the next one.
      entry.resume();
    }
  })();

  try {
    await Promise.all([feed, consume]);
  } catch (err) {
    tar.destroy();
    parser.destroy();
    await Promise.allSettled([feed, consume]);
    await writer.drain();
    hasher.drop();
    if (err instanceof EngineError) throw err;
    if (signal?.aborted) throw err;
    const e = err as NodeJS.ErrnoException;
    if (/Unexpected end of data|Invalid tar header|Invalid header|Stream was destroyed|Premature close/i.test(e.message ?? '')) {
      throw invalidParameter(`${REFUSED}: the archive is corrupt or truncated: ${e.message}`);
    }
    throw systemError(`unpacking layer failed: ${e.message}`, err);
  }
  await writer.finish();
  return { size: writer.size, diffId: await hasher.digest(), touched: [...writer.created], removed: [...writer.removed] };
}
