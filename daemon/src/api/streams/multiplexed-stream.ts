// The multiplexed stream of attach, logs and exec when there is no tty: each frame is an 8-byte
// header (stream type: 0 stdin, 1 stdout, 2 stderr, 3 system error; three zero bytes; big-endian
// uint32 payload length) followed by the payload.
import { Writable } from 'node:stream';

export const enum StreamType {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  SystemErr = 3,
}

export const HEADER_SIZE = 8;

export function frameHeader(type: StreamType, length: number): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header[0] = type;
  header.writeUInt32BE(length, 4);
  return header;
}

/** One frame, header and payload, as a single buffer. */
export function frame(type: StreamType, payload: Buffer): Buffer {
  return Buffer.concat([frameHeader(type, payload.length), payload]);
}

/**
 * A Writable that frames what is written to it as `type` into `destination`, keeping the
 * destination's back-pressure: a write completes when the destination accepted it.
 */
export function framedWriter(destination: NodeJS.WritableStream, type: StreamType): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (chunk.length === 0) return cb();
      const ok = destination.write(frame(type, chunk));
      if (ok) cb();
      else destination.once('drain', () => cb());
    },
    final(cb) {
      cb();
    },
  });
}

/**
 * Parses a multiplexed stream that arrives in arbitrary chunks: headers and payloads may be split
 * anywhere. Payload bytes are delivered as they arrive (a large frame is not buffered whole).
 */
export class MultiplexedStreamReader extends Writable {
  private header = Buffer.alloc(HEADER_SIZE);
  private headerFill = 0;
  private remaining = 0;
  private current: StreamType = StreamType.Stdout;

  constructor(private readonly onData: (type: StreamType, payload: Buffer) => void) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      this.push(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  /** Feeds bytes synchronously; the Writable interface calls this too. */
  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining === 0) {
        const take = Math.min(HEADER_SIZE - this.headerFill, chunk.length - offset);
        chunk.copy(this.header, this.headerFill, offset, offset + take);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < HEADER_SIZE) return;
        this.headerFill = 0;
        const type = this.header[0]!;
        if (type > StreamType.SystemErr) throw new Error(`multiplexed stream: unknown stream type ${type}`);
        this.current = type as StreamType;
        this.remaining = this.header.readUInt32BE(4);
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      this.onData(this.current, chunk.subarray(offset, offset + take));
      this.remaining -= take;
      offset += take;
    }
  }

  /** True when the input ended on a frame boundary. */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.headerFill === 0;
  }
}
