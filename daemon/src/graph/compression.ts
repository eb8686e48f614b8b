// Layer blobs come uncompressed, gzip'd or zstd'd; which one is read from the first bytes, as
// dockerd's DetectCompression does. Node 20 has no zstd, so Debian's `zstd -d` decodes it.
import { spawn } from 'node:child_process';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { invalidParameter } from '../errors';

export type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

/** Reads the first bytes of a stream without losing them. */
async function peek(source: Readable, n: number): Promise<{ head: Buffer; rest: Readable }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const it = source[Symbol.asyncIterator]();
  while (size < n) {
    const r = await it.next();
    if (r.done) break;
    chunks.push(r.value as Buffer);
    size += (r.value as Buffer).length;
  }
  const head = Buffer.concat(chunks);
  const rest = new PassThrough({ highWaterMark: 1 << 20 });
  rest.write(head);
  (async () => {
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        if (!rest.write(r.value)) await new Promise((resolve) => rest.once('drain', resolve));
      }
      rest.end();
    } catch (err) {
      rest.destroy(err as Error);
    }
  })();
  return { head, rest };
}

/** The uncompressed stream of a layer blob, whatever its compression. */
export async function decompressed(source: Readable): Promise<Readable> {
  const { head, rest } = await peek(source, 6);
  const kind = detectCompression(head);
  switch (kind) {
    case 'none':
      return rest;
    case 'gzip': {
      // (a built-in loaded on first use, not at start: see components.ts)
      const gunzip = process.getBuiltinModule('node:zlib').createGunzip({ chunkSize: 1 << 20 });
      pipeline(rest, gunzip, () => undefined);
      return gunzip;
    }
    case 'zstd': {
      const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const out = child.stdout;
      child.on('error', (err) => out.destroy(invalidParameter(`cannot decompress a zstd layer: ${err.message} (run scripts/setup.sh to install zstd)`)));
      child.on('close', (code) => {
        if (code !== 0) out.destroy(invalidParameter(`the zstd layer is corrupt: ${stderr.trim() || `zstd exited ${code}`}`));
      });
      pipeline(rest, child.stdin, () => undefined);
      return out;
    }
    default:
      throw invalidParameter(`unsupported layer compression: ${kind}`);
  }
}
