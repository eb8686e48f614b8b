// Tar-split: what a layer tar holds besides its files' contents (headers, PAX records, padding,
// the end blocks), recorded while the layer unpacks; tar-headers.ts tells the bytes apart. With
// the unpacked files it rebuilds the original tar byte for byte, so `docker save` gives back the
// layer with its diff id without the graph keeping a second copy of every layer (dockerd keeps
// the same kind of record).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { cleanName } from './layer-writer';
import { TarHeaderReader, type TarEntryHeader } from './tar-headers';

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
  private raw: Buffer[] = [];
  private entries = 0;
  private readonly entryXattrs = new Map<number, Map<string, Buffer>>();
  private readonly reader: TarHeaderReader;

  constructor(options: { record: boolean } = { record: true }) {
    // No checksum check: tar-stream, unpacking beside it, reports a damaged archive.
    this.reader = new TarHeaderReader({
      entry: (header) => {
        const xattrs = header.pax && paxXattrs(header.pax);
        if (xattrs) this.entryXattrs.set(this.entries, xattrs);
        this.entries++;
        if (options.record && header.type === 'file' && header.size > 0) this.fileRecord(header);
      },
      // The reader's bytes are views into chunks and into a header buffer it reuses: copied.
      raw: options.record ? (bytes) => void this.raw.push(Buffer.from(bytes)) : undefined,
    }, { verify: false });
  }

  /** The extended attributes of the `index`th entry (0-based, in stream order), if it had any. */
  xattrsOf(index: number): Map<string, Buffer> | undefined {
    const x = this.entryXattrs.get(index);
    this.entryXattrs.delete(index);
    return x;
  }

  feed(chunk: Buffer): void {
    this.reader.write(chunk);
  }

  /** A file's content is not recorded: its name and size stand for it. */
  private fileRecord(header: TarEntryHeader): void {
    this.flushRaw();
    const p = Buffer.from(cleanName(header.name), 'utf8');
    const rec = Buffer.alloc(1 + 4 + p.length + 8);
    rec[0] = 0x46; // 'F'
    rec.writeUInt32BE(p.length, 1);
    p.copy(rec, 5);
    rec.writeDoubleBE(header.size, 5 + p.length);
    this.records.push(rec);
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
    // (a built-in loaded on first use, not at start: see components.ts)
    return process.getBuiltinModule('node:zlib').gzipSync(Buffer.concat(this.records));
  }
}

/** Rebuilds the layer tar from its record and the unpacked files under `root`. */
export function assembleTar(record: Buffer, root: string): Readable {
  const data = process.getBuiltinModule('node:zlib').gunzipSync(record);
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
