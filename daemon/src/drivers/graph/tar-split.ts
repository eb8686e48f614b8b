// Tar-split: what a layer tar holds besides its files' contents (headers, PAX records, padding,
// the end blocks), recorded while the layer unpacks. With the unpacked files it rebuilds the
// original tar byte for byte, so `docker save` gives back the layer with its diff id without the
// graph keeping a second copy of every layer (dockerd keeps the same kind of record).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { gzipSync, gunzipSync } from 'node:zlib';
import path from 'node:path';
import { Readable } from 'node:stream';
import { cleanName } from './layer-writer';

const BLOCK = 512;
const REGULAR = new Set([0x30, 0x00, 0x37]); // '0', NUL, '7'
const META = new Set([0x78, 0x67, 0x4c, 0x4b]); // 'x', 'g', 'L', 'K'

function cstring(buf: Buffer, start: number, end: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('utf8', start, nul >= 0 && nul < end ? nul : end);
}

function parseSize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if (field[0]! & 0x80) {
    // GNU base-256: big-endian binary in the remaining bytes.
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = cstring(field, 0, field.length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(data.toString('utf8', pos, space), 10);
    if (!len) break;
    const record = data.toString('utf8', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

/** SCHILY.xattr.* records of a PAX header, their values as raw bytes (they may be binary). */
function paxXattrs(data: Buffer): Map<string, Buffer> | undefined {
  let out: Map<string, Buffer> | undefined;
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(data.toString('latin1', pos, space), 10);
    if (!len) break;
    const eq = data.indexOf(0x3d, space + 1);
    if (eq > 0 && eq < pos + len) {
      const key = data.toString('utf8', space + 1, eq);
      if (key.startsWith('SCHILY.xattr.')) (out ??= new Map()).set(key.slice('SCHILY.xattr.'.length), Buffer.from(data.subarray(eq + 1, pos + len - 1)));
    }
    pos += len;
  }
  return out;
}

/**
 * Follows the bytes of a tar stream and records everything but regular files' contents. With
 * `record: false` it only notes each entry's extended attributes byte for byte (tar-stream
 * decodes PAX values as UTF-8, which mangles binary ones such as security.capability).
 */
export class TarSplitRecorder {
  private readonly records: Buffer[] = [];
  private entries = 0;
  private xattrs?: Map<string, Buffer>;
  private readonly entryXattrs = new Map<number, Map<string, Buffer>>();

  constructor(private readonly options: { record: boolean } = { record: true }) {}

  /** The extended attributes of the `index`th entry (0-based, in stream order), if it had any. */
  xattrsOf(index: number): Map<string, Buffer> | undefined {
    const x = this.entryXattrs.get(index);
    this.entryXattrs.delete(index);
    return x;
  }

  private raw: Buffer[] = [];
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** What the current payload is: a file's content (skipped), metadata (kept, parsed) or other (kept). */
  private payload: 'file' | 'meta' | 'raw' | null = null;
  private remaining = 0;
  private padding = 0;
  private metaType = 0;
  private meta: Buffer[] = [];
  private pax: Record<string, string> = {};
  private longName?: string;

  feed(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - pos);
        const part = chunk.subarray(pos, pos + n);
        if (this.payload !== 'file' && this.options.record) this.raw.push(Buffer.from(part));
        if (this.payload === 'meta') this.meta.push(Buffer.from(part));
        this.remaining -= n;
        pos += n;
        if (this.remaining === 0) this.endPayload();
        continue;
      }
      if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - pos);
        if (this.options.record) this.raw.push(Buffer.from(chunk.subarray(pos, pos + n)));
        this.padding -= n;
        pos += n;
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.length - pos);
      chunk.copy(this.header, this.headerFill, pos, pos + n);
      this.headerFill += n;
      pos += n;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.onHeader(Buffer.from(this.header));
      }
    }
  }

  private onHeader(h: Buffer): void {
    if (this.options.record) this.raw.push(h);
    if (h.every((b) => b === 0)) return;
    const type = h[156]!;
    let size = parseSize(h);
    if (META.has(type)) {
      this.startPayload('meta', size);
      this.metaType = type;
      return;
    }
    if (this.pax.size) size = parseInt(this.pax.size, 10);
    let name = this.pax.path ?? this.longName;
    if (!name) {
      const base = cstring(h, 0, 100);
      const ustar = h.toString('latin1', 257, 263) === 'ustar\0';
      const prefix = ustar ? cstring(h, 345, 500) : '';
      name = prefix ? `${prefix}/${base}` : base;
    }
    this.pax = {};
    this.longName = undefined;
    if (this.xattrs) this.entryXattrs.set(this.entries, this.xattrs);
    this.xattrs = undefined;
    this.entries++;
    if (REGULAR.has(type) && size > 0) {
      this.flushRaw();
      const p = Buffer.from(cleanName(name), 'utf8');
      const rec = Buffer.alloc(1 + 4 + p.length + 8);
      rec[0] = 0x46; // 'F'
      rec.writeUInt32BE(p.length, 1);
      p.copy(rec, 5);
      rec.writeDoubleBE(size, 5 + p.length);
      this.records.push(rec);
      this.startPayload('file', size);
    } else if (size > 0 && type !== 0x35) {
      // Any payload but a directory's is read by the unpacker as data: keep it (tar-stream agrees).
      this.startPayload('raw', size);
    }
  }

  private startPayload(kind: 'file' | 'meta' | 'raw', size: number): void {
    this.payload = kind;
    this.remaining = size;
    this.meta = [];
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size === 0) this.endPayload();
  }

  private endPayload(): void {
    if (this.payload === 'meta') {
      const data = Buffer.concat(this.meta);
      if (this.metaType === 0x78) {
        this.pax = { ...this.pax, ...parsePax(data) };
        this.xattrs = paxXattrs(data);
      }
      else if (this.metaType === 0x4c) this.longName = cstring(data, 0, data.length);
    }
    this.payload = null;
    this.meta = [];
  }

  private flushRaw(): void {
    if (this.raw.length === 0) return;
    const data = Buffer.concat(this.raw);
    this.raw = [];
    const head = Buffer.alloc(5);
    head[0] = 0x52; // 'R'
    head.writeUInt32BE(data.length, 1);
    this.records.push(head, data);
  }

  /** The record, gzip'd (headers compress tenfold). */
  finish(): Buffer {
    this.flushRaw();
    return gzipSync(Buffer.concat(this.records));
  }
}

/** Rebuilds the layer tar from its record and the unpacked files under `root`. */
export function assembleTar(record: Buffer, root: string): Readable {
  const data = gunzipSync(record);
  return Readable.from((async function* () {
    let pos = 0;
    while (pos < data.length) {
      const kind = data[pos]!;
      if (kind === 0x52) {
        const len = data.readUInt32BE(pos + 1);
        yield data.subarray(pos + 5, pos + 5 + len);
        pos += 5 + len;
      } else if (kind === 0x46) {
        const len = data.readUInt32BE(pos + 1);
        const rel = data.toString('utf8', pos + 5, pos + 5 + len);
        const size = data.readDoubleBE(pos + 5 + len);
        pos += 5 + len + 8;
        const file = path.join(root, rel);
        // Opened without following a symlink: the path must still be the regular file unpacked.
        const fh = await open(file, 'r');
        let sent = 0;
        try {
          for await (const chunk of createReadStream('', { fd: fh.fd, autoClose: false, end: size - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
            sent += chunk.length;
            yield chunk;
          }
        } finally {
          await fh.close();
        }
        if (sent !== size) throw new Error(`layer file ${rel} changed since it was unpacked (${sent} of ${size} bytes)`);
      } else {
        throw new Error('corrupt tar-split record');
      }
    }
  })(), { objectMode: false });
}
