// A streaming tar indexer for the build context: reads 512-byte headers (ustar, PAX and GNU long
// names, as Go's archive/tar in the docker CLI writes them) and hashes each file's bytes straight
// from the chunks that arrive, with no per-entry stream objects. It indexes; it never writes files.
import { createHash, type Hash } from 'node:crypto';

export interface TarEntryHeader {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'other';
  mode: number;
  size: number;
  linkname: string;
}

export interface TarIndexSink {
  /** A new entry; return true to be given its bytes as well (files kept in memory). */
  entry(header: TarEntryHeader): boolean;
  /** The entry's content hash (files only), and its bytes when asked for. */
  fileDone(header: TarEntryHeader, sha256: string, bytes?: Buffer): void;
}

const BLOCK = 512;

function octal(buf: Buffer, start: number, len: number): number {
  // Base-256 for sizes above 8 GiB (GNU/Go): the high bit of the first byte is set.
  if (buf[start]! & 0x80) {
    let n = 0;
    for (let i = start + 1; i < start + len; i++) n = n * 256 + buf[i]!;
    return n;
  }
  const text = buf.toString('latin1', start, start + len).replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function cstring(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end >= 0 && end < start + len ? end : start + len);
}

function parsePax(data: Buffer): Record<string, string> {
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

export class TarIndexer {
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes of the current entry's data still to come, and the padding after it. */
  private remaining = 0;
  private padding = 0;
  private current?: { header: TarEntryHeader; hash?: Hash; keep?: Buffer[]; meta?: Buffer[]; metaType?: string };
  private pax: Record<string, string> = {};
  private longName?: string;
  private longLink?: string;
  private ended = false;

  constructor(private readonly sink: TarIndexSink) {}

  write(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && !this.ended) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - pos);
        const slice = chunk.subarray(pos, pos + n);
        const c = this.current!;
        if (c.meta) c.meta.push(slice);
        else {
          c.hash?.update(slice);
          c.keep?.push(slice);
        }
        this.remaining -= n;
        pos += n;
        if (this.remaining === 0) this.finishData();
        continue;
      }
      if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - pos);
        this.padding -= n;
        pos += n;
        continue;
      }
      // A header block, possibly split across chunks.
      const need = BLOCK - this.pending.length;
      const take = chunk.subarray(pos, pos + need);
      pos += take.length;
      this.pending = this.pending.length === 0 && take.length === BLOCK ? take : Buffer.concat([this.pending, take]);
      if (this.pending.length < BLOCK) continue;
      const block = this.pending;
      this.pending = Buffer.alloc(0);
      this.header(block);
    }
  }

  /** Checks the archive ended cleanly (or at least on a block boundary). */
  end(): void {
    if (this.remaining > 0 || this.padding > 0 || this.pending.length > 0) throw new Error('Unexpected end of data');
  }

  private header(block: Buffer): void {
    if (block.every((b) => b === 0)) {
      // End of archive (two zero blocks; one is enough to stop).
      this.ended = true;
      return;
    }
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
    if (sum !== octal(block, 148, 8)) throw new Error('Invalid tar header: checksum mismatch');
    const flag = String.fromCharCode(block[156]!);
    const size = octal(block, 124, 12);
    const ustar = block.toString('latin1', 257, 262) === 'ustar';
    let name = cstring(block, 0, 100);
    const prefix = ustar ? cstring(block, 345, 155) : '';
    if (prefix) name = `${prefix}/${name}`;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      const header: TarEntryHeader = { name, type: 'other', mode: 0, size, linkname: '' };
      this.current = { header, meta: [], metaType: flag };
      this.startData(size);
      return;
    }
    const type: TarEntryHeader['type'] = flag === '0' || flag === '\0' || flag === '7' ? 'file' : flag === '5' ? 'directory' : flag === '2' ? 'symlink' : flag === '1' ? 'link' : 'other';
    const header: TarEntryHeader = {
      name: this.pax.path ?? this.longName ?? name,
      type,
      mode: octal(block, 100, 8) & 0o7777,
      size: this.pax.size !== undefined ? Number(this.pax.size) : size,
      linkname: this.pax.linkpath ?? this.longLink ?? cstring(block, 157, 100),
    };
    this.pax = {};
    this.longName = undefined;
    this.longLink = undefined;
    const keep = this.sink.entry(header);
    this.current = { header, ...(type === 'file' ? { hash: createHash('sha256'), ...(keep ? { keep: [] } : {}) } : {}) };
    this.startData(type === 'file' || type === 'other' ? header.size : 0);
  }

  private startData(size: number): void {
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size === 0) this.finishData();
  }

  private finishData(): void {
    const c = this.current!;
    this.current = undefined;
    if (c.meta) {
      const data = Buffer.concat(c.meta);
      if (c.metaType === 'x') this.pax = parsePax(data);
      else if (c.metaType === 'L') this.longName = data.toString('utf8').replace(/\0+$/, '');
      else if (c.metaType === 'K') this.longLink = data.toString('utf8').replace(/\0+$/, '');
      return;
    }
    if (c.header.type === 'file') this.sink.fileDone(c.header, c.hash!.digest('hex'), c.keep ? Buffer.concat(c.keep) : undefined);
  }
}
