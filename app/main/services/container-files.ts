// A container's files, read through the engine's archive endpoint, so it works for stopped
// containers and images without `ls`. The archive of a directory holds its whole subtree; only
// the headers are read (file bodies are skipped as they stream past) and the direct children kept.
import path from 'node:path';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import type { ContainerFileEntry } from '../../shared/views.js';
import { EngineError } from '../engine/engine-error.js';
import type { EngineService } from './engine-service.js';

const MAX_ENTRIES = 5000;
const MAX_FILE = 64 << 20;

const kind = (t: string | null | undefined): ContainerFileEntry['type'] =>
  t === 'directory' ? 'directory' : t === 'file' || t === 'contiguous-file' ? 'file' : t === 'symlink' ? 'symlink' : 'other';

/** The direct children of the archived directory, from a tar whose top entry is that directory. */
export async function listArchive(tar: Readable, dir: string): Promise<ContainerFileEntry[]> {
  const entries: ContainerFileEntry[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      // Names are relative to the directory's parent: "etc/", "etc/passwd", "etc/ssl/certs/…".
      const parts = header.name.replace(/^\.\//, '').replace(/\/+$/, '').split('/');
      if (parts.length === 2 && entries.length < MAX_ENTRIES) {
        entries.push({
          name: parts[1]!,
          path: path.posix.join(dir, parts[1]!),
          type: kind(header.type),
          size: header.size ?? 0,
          linkTarget: header.linkname ?? undefined,
          modified: header.mtime?.toISOString(),
        });
      }
      stream.on('end', next);
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  tar.pipe(ex);
  await done;
  return entries.sort((a, b) => Number(b.type === 'directory') - Number(a.type === 'directory') || a.name.localeCompare(b.name));
}

export class ContainerFiles {
  constructor(private readonly engine: EngineService) {}

  async list(id: string, dir: string): Promise<ContainerFileEntry[]> {
    const abs = path.posix.resolve('/', dir);
    const res = await this.engine.client().containerArchive(id, abs);
    return listArchive(res, abs);
  }

  async read(id: string, file: string): Promise<{ name: string; base64: string }> {
    const abs = path.posix.resolve('/', file);
    const res = await this.engine.client().containerArchive(id, abs);
    const ex = extract();
    let content: Buffer | undefined;
    let tooBig = false;
    const done = new Promise<void>((resolve, reject) => {
      ex.on('entry', (header, stream, next) => {
        if (content === undefined && header.type === 'file') {
          if ((header.size ?? 0) > MAX_FILE) {
            tooBig = true;
            stream.resume();
          } else {
            const chunks: Buffer[] = [];
            stream.on('data', (c: Buffer) => chunks.push(c));
            stream.on('end', () => { content = Buffer.concat(chunks); });
          }
        } else {
          stream.resume();
        }
        stream.on('end', next);
      });
      ex.on('finish', resolve);
      ex.on('error', reject);
    });
    res.pipe(ex);
    await done;
    if (tooBig) throw new EngineError(413, `${abs} is larger than 64 MiB; copy it with docker cp instead`);
    if (content === undefined) throw new EngineError(400, `${abs} is not a regular file`);
    return { name: path.posix.basename(abs), base64: content.toString('base64') };
  }
}
