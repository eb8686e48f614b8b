// A streaming reader of tar structure: it follows the bytes of an archive as they arrive (in any
// chunking) and says what they are: entries (ustar, PAX and GNU long names and sizes applied, as
// Go's archive/tar writes them), each regular file's content, and every other byte (headers,
// PAX/GNU records, padding, end blocks). It never copies or buffers content: the builder hashes
// a context's files from it, tar-split records a layer's non-content bytes with it. Payloads are
// sized as tar-stream (the unpacker both work beside) sizes them: every entry but a directory
// carries `size` bytes, and zero blocks are skipped, not taken as the end.

export interface TarEntryHeader {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'other';
  mode: number;
  /** Bytes of payload (a file's content), PAX size applied. */
  size: number;
  linkname: string;
  /** The PAX records that came before the entry, as they were (binary xattr values intact). */
  pax?: Buffer;
}

export interface TarVisitor {
  /** A new entry, before its payload. */
  entry(header: TarEntryHeader): void;
  /** A piece of a regular file's content: a view into the arriving chunk, to copy if kept. */
  content?(bytes: Buffer): void;
  /** A regular file's content is over. */
  contentEnd?(header: TarEntryHeader): void;
  /** Every byte that is not a regular file's content, in order: together with content, the whole archive. */
  raw?(bytes: Buffer): void;
}

const BLOCK = 512;
const FLAG_PAX = 0x78; // 'x'
const FLAG_GLOBAL = 0x67; // 'g'
const FLAG_LONG_NAME = 0x4c; // 'L'
const FLAG_LONG_LINK = 0x4b; // 'K'

function octal(buf: Buffer, start: number, len: number): number {
  // Base-256 for sizes above 8 GiB (GNU/Go): the high bit of the first byte is set.
  if (buf[start]! & 0x80) {
    let n = 0;
    for (let i = start + 1; i < start + len; i++) n = n * 256 + buf[i]!;
    return n;
  }
  const text = cstring(buf, start, len, 'latin1').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function cstring(buf: Buffer, start: number, len: number, encoding: BufferEncoding = 'utf8'): string {
  const end = buf.indexOf(0, start);
  return buf.toString(encoding, start, end >= 0 && end < start + len ? end : start + len);
}

/** PAX records (`<len> key=value\n`) as strings; binary values are read from TarEntryHeader.pax. */
export function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = Number(data.toString('latin1', pos, space));
    if (!Number.isInteger(len) || len <= 0) break;
    const record = data.toString('utf8', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

function typeOf(flag: number): TarEntryHeader['type'] {
  switch (flag) {
    case 0x30: // '0'
    case 0x00:
    case 0x37: // '7', contiguous
      return 'file';
    case 0x35:
      return 'directory';
    case 0x32:
      return 'symlink';
    case 0x31:
      return 'link';
    default:
      return 'other';
  }
}

export class TarHeaderReader {
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Bytes of the current payload still to come, and the padding after it. */
  private remaining = 0;
  private padding = 0;
  /** What the current payload is: a file's content, a PAX/GNU record (collected), or other bytes. */
  private payload: 'content' | 'meta' | 'raw' = 'raw';
  private current?: TarEntryHeader;
  private metaFlag = 0;
  private meta: Buffer[] = [];
  private paxData: Buffer[] = [];
  private longName?: string;
  private longLink?: string;

  constructor(
    private readonly visitor: TarVisitor,
    /** Check each header's checksum (a damaged or non-tar stream throws). */
    private readonly options: { verify: boolean } = { verify: true },
  ) {}

  write(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - pos);
        const part = chunk.subarray(pos, pos + n);
        if (this.payload === 'content') this.visitor.content?.(part);
        else {
          if (this.payload === 'meta') this.meta.push(Buffer.from(part));
          this.visitor.raw?.(part);
        }
        this.remaining -= n;
        pos += n;
        if (this.remaining === 0) this.endPayload();
        continue;
      }
      if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - pos);
        this.visitor.raw?.(chunk.subarray(pos, pos + n));
        this.padding -= n;
        pos += n;
        continue;
      }
      // A header block, possibly split across chunks: whole in the chunk, it is read in place.
      if (this.headerFill === 0 && chunk.length - pos >= BLOCK) {
        const block = chunk.subarray(pos, pos + BLOCK);
        pos += BLOCK;
        this.onHeader(block);
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.length - pos);
      chunk.copy(this.header, this.headerFill, pos, pos + n);
      this.headerFill += n;
      pos += n;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.onHeader(this.header);
      }
    }
  }

  /** Checks the archive ended on a block boundary, not inside a header or a payload. */
  end(): void {
    if (this.remaining > 0 || this.padding > 0 || this.headerFill > 0) throw new Error('Unexpected end of data');
  }

  private onHeader(block: Buffer): void {
    this.visitor.raw?.(block);
    if (block.every((b) => b === 0)) return;
    if (this.options.verify) {
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
      if (sum !== octal(block, 148, 8)) throw new Error('Invalid tar header: checksum mismatch');
    }
    const flag = block[156]!;
    let size = octal(block, 124, 12);
    if (flag === FLAG_PAX || flag === FLAG_GLOBAL || flag === FLAG_LONG_NAME || flag === FLAG_LONG_LINK) {
      this.metaFlag = flag;
      this.meta = [];
      this.startPayload('meta', size);
      return;
    }
    const pax = this.paxData.length > 0 ? Buffer.concat(this.paxData) : undefined;
    const records = pax ? parsePax(pax) : {};
    if (records.size !== undefined) size = Number(records.size);
    let name = records.path ?? this.longName;
    if (name === undefined) {
      name = cstring(block, 0, 100);
      // Only POSIX ustar has a prefix field; GNU keeps other fields there.
      const prefix = block.toString('latin1', 257, 263) === 'ustar\0' ? cstring(block, 345, 155) : '';
      if (prefix) name = `${prefix}/${name}`;
    }
    const type = typeOf(flag);
    const header: TarEntryHeader = {
      name,
      type,
      mode: octal(block, 100, 8) & 0o7777,
      size,
      linkname: records.linkpath ?? this.longLink ?? cstring(block, 157, 100),
      ...(pax ? { pax } : {}),
    };
    this.paxData = [];
    this.longName = undefined;
    this.longLink = undefined;
    this.current = header;
    this.visitor.entry(header);
    this.startPayload(type === 'file' ? 'content' : 'raw', type === 'directory' ? 0 : size);
  }

  private startPayload(kind: 'content' | 'meta' | 'raw', size: number): void {
    this.payload = kind;
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size === 0) this.endPayload();
  }

  private endPayload(): void {
    if (this.payload === 'meta') {
      const data = Buffer.concat(this.meta);
      this.meta = [];
      if (this.metaFlag === FLAG_PAX) this.paxData.push(data);
      else if (this.metaFlag === FLAG_LONG_NAME) this.longName = cstring(data, 0, data.length);
      else if (this.metaFlag === FLAG_LONG_LINK) this.longLink = cstring(data, 0, data.length);
      // A global PAX header ('g') names no entry: its bytes are kept as raw, its records unused.
    } else if (this.payload === 'content') {
      this.visitor.contentEnd?.(this.current!);
    }
    this.payload = 'raw';
  }
}
