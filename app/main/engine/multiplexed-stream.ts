// Decodes the Engine API's multiplexed stream (logs, attach and exec without a tty): frames of an
// 8-byte header — stream type (0 stdin, 1 stdout, 2 stderr), three zero bytes, a big-endian uint32
// payload length — then the payload. Chunks from the socket split headers and payloads anywhere,
// so the decoder keeps the partial header and the bytes still owed to the current frame; payload
// pieces are handed on as they arrive instead of buffering whole frames (a frame can be large).

export type StreamKind = 'stdin' | 'stdout' | 'stderr';

export interface FramePiece {
  stream: StreamKind;
  data: Buffer;
}

const kinds: Record<number, StreamKind> = { 0: 'stdin', 1: 'stdout', 2: 'stderr' };
const HEADER = 8;

export class MultiplexedStreamDecoder {
  private readonly header = Buffer.alloc(HEADER);
  private headerFilled = 0;
  private owed = 0;
  private current: StreamKind = 'stdout';

  /** Feeds one chunk; returns the payload pieces it completes or continues, in order. */
  push(chunk: Buffer): FramePiece[] {
    const pieces: FramePiece[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.owed > 0) {
        const take = Math.min(this.owed, chunk.length - at);
        pieces.push({ stream: this.current, data: chunk.subarray(at, at + take) });
        this.owed -= take;
        at += take;
        continue;
      }
      const take = Math.min(HEADER - this.headerFilled, chunk.length - at);
      chunk.copy(this.header, this.headerFilled, at, at + take);
      this.headerFilled += take;
      at += take;
      if (this.headerFilled < HEADER) break;
      this.headerFilled = 0;
      const kind = kinds[this.header[0]!];
      if (!kind || this.header[1] !== 0 || this.header[2] !== 0 || this.header[3] !== 0) {
        throw new Error(`malformed multiplexed stream: bad frame header ${this.header.toString('hex')}`);
      }
      this.current = kind;
      this.owed = this.header.readUInt32BE(4);
    }
    return pieces;
  }

  /** True when the stream stopped cleanly between frames. */
  get atFrameBoundary(): boolean {
    return this.owed === 0 && this.headerFilled === 0;
  }
}

/** Encodes one frame; the client uses it only in tests, the daemon has its own encoder. */
export function encodeFrame(stream: StreamKind, payload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER);
  header[0] = stream === 'stdin' ? 0 : stream === 'stdout' ? 1 : 2;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
