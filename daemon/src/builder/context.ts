// The build context: the tar (plain or compressed) that `POST /build` streams, unpacked into a
// private directory under the data root as it arrives (never held in memory), with .dockerignore
// applied. Each file's content hash is taken while it is written, so the build cache never reads
// the context twice. Entries that would land outside the directory (`..`, a path through a
// symlink the archive made) are refused, as layer unpacking refuses them.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, lstat, mkdir, readdir, readFile, readlink, rm, symlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, type Headers } from 'tar-stream';
import { decompressed } from '../graph/compression';
import { DockerIgnore } from './dockerignore';
import { invalidParameter, notFound } from '../errors';

export class BuildContext {
  private readonly hashes = new Map<string, string>();
  /** sha256 of each regular file's bytes, taken as it was unpacked. */
  private contentHashes = new Map<string, string>();

  private constructor(readonly root: string, readonly ignore: DockerIgnore) {}

  /** Unpacks `body` into `dir` (created, and removed again on failure). */
  static async fromTar(body: Readable, dir: string, signal?: AbortSignal): Promise<BuildContext> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      const tar = await decompressed(body);
      const contentHashes = await unpack(tar, dir, signal);
      const ignoreText = await readFile(path.join(dir, '.dockerignore'), 'utf8').catch(() => '');
      let ignore: DockerIgnore;
      try {
        ignore = DockerIgnore.parse(ignoreText);
      } catch (err) {
        throw invalidParameter(`failed to parse .dockerignore: ${(err as Error).message}`);
      }
      const ctx = new BuildContext(dir, ignore);
      ctx.contentHashes = contentHashes;
      return ctx;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Reads the Dockerfile, then leaves out of the context what .dockerignore excludes (the
   * Dockerfile and .dockerignore themselves included when they are excluded, as dockerd does).
   */
  async readDockerfile(name: string): Promise<string> {
    const rel = this.relative(name);
    let text: string;
    try {
      text = await readFile(path.join(this.root, rel), 'utf8');
    } catch {
      throw notFound(`Cannot locate specified Dockerfile: ${name}`);
    }
    if (text.length === 0) throw invalidParameter(`the Dockerfile (${name}) cannot be empty`);
    if (!this.ignore.empty) await this.prune('');
    return text;
  }

  /** A context path made relative and clean; `..` cannot climb out. */
  relative(p: string): string {
    return path.posix.normalize('/' + p.replace(/\\/g, '/')).slice(1);
  }

  private async prune(rel: string): Promise<void> {
    for (const name of await readdir(path.join(this.root, rel))) {
      const child = rel ? `${rel}/${name}` : name;
      const st = await lstat(path.join(this.root, child));
      if (this.ignore.excludes(child)) {
        // A directory may still hold re-included entries (`!dir/keep`): only walk it then.
        if (st.isDirectory() && (await this.hasIncluded(child))) {
          await this.prune(child);
          continue;
        }
        await rm(path.join(this.root, child), { recursive: true, force: true });
      } else if (st.isDirectory()) {
        await this.prune(child);
      }
    }
  }

  private async hasIncluded(rel: string): Promise<boolean> {
    for (const name of await readdir(path.join(this.root, rel))) {
      const child = `${rel}/${name}`;
      if (!this.ignore.excludes(child)) return true;
      const st = await lstat(path.join(this.root, child));
      if (st.isDirectory() && (await this.hasIncluded(child))) return true;
    }
    return false;
  }

  /**
   * The content hash of a context path for the build cache: a file's bytes and mode, a symlink's
   * target, a directory's entries recursively. Mtimes and owners are left out (COPY resets owners;
   * a fresh checkout must still hit the cache).
   */
  async hash(rel: string): Promise<string> {
    const known = this.hashes.get(rel);
    if (known) return known;
    const full = path.join(this.root, rel);
    const st = await lstat(full);
    const h = createHash('sha256');
    h.update(`${(st.mode & 0o170000).toString(8)} ${(st.mode & 0o7777).toString(8)}\n`);
    if (st.isSymbolicLink()) {
      h.update(await readlink(full));
    } else if (st.isDirectory()) {
      for (const name of (await readdir(full)).sort()) {
        h.update(`${name}\0${await this.hash(rel ? `${rel}/${name}` : name)}\n`);
      }
    } else if (st.isFile()) {
      const known = this.contentHashes.get(rel);
      if (known) h.update(known);
      else h.update(await fileHash(full));
    }
    const digest = h.digest('hex');
    this.hashes.set(rel, digest);
    return digest;
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

async function fileHash(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

const refuse = (why: string) => invalidParameter(`refusing to unpack the build context: ${why}`);

/**
 * Unpacks the context tar into `root`; returns the content hash of every regular file. Owners are
 * not kept (COPY and ADD give files to root or to --chown); modes and mtimes are.
 */
async function unpack(tar: Readable, root: string, signal?: AbortSignal): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  const symlinks = new Set<string>();
  const dirs = new Set<string>(['']);
  /** Names already unpacked: only those need clearing first (a later entry replaces an earlier one). */
  const seen = new Set<string>();
  const extract = tarExtract();
  const inside = (name: string): string => {
    const normal = path.posix.normalize('/' + name.replace(/\\/g, '/'));
    const rel = normal === '/' ? '' : normal.slice(1).replace(/\/$/, '');
    if (name.split('/').includes('..') && path.posix.normalize(name).startsWith('..')) throw refuse(`${name} points outside the context`);
    // A path through a symlink the archive planted could write anywhere.
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) if (symlinks.has(parts.slice(0, i).join('/'))) throw refuse(`${name} goes through a symlink`);
    return rel;
  };
  const ensureParent = async (rel: string) => {
    const parent = path.posix.dirname(rel);
    if (parent === '.' || dirs.has(parent)) return;
    await mkdir(path.join(root, parent), { recursive: true, mode: 0o755 });
    for (let p = parent; p !== '.' && !dirs.has(p); p = path.posix.dirname(p)) dirs.add(p);
  };
  const consume = async (header: Headers, stream: Readable) => {
    const rel = inside(header.name);
    const full = path.join(root, rel);
    const mode = (header.mode ?? 0o644) & 0o7777;
    if (rel === '' || (header.type !== 'file' && header.type !== 'contiguous-file')) stream.resume();
    if (rel === '') return;
    await ensureParent(rel);
    // Never write through what an earlier entry of the same name left (a symlink above all).
    if (seen.has(rel) && header.type !== 'directory') await rm(full, { force: true, recursive: true });
    seen.add(rel);
    switch (header.type) {
      case 'directory':
        await mkdir(full, { recursive: true, mode: mode | 0o700 });
        dirs.add(rel);
        break;
      case 'file':
      case 'contiguous-file': {
        const h = createHash('sha256');
        stream.on('data', (chunk: Buffer) => h.update(chunk));
        await pipeline(stream, createWriteStream(full, { mode }));
        hashes.set(rel, h.digest('hex'));
        if (header.mtime) await utimes(full, header.mtime, header.mtime);
        return;
      }
      case 'symlink':
        await symlink(header.linkname ?? '', full);
        symlinks.add(rel);
        break;
      case 'link': {
        const target = inside(header.linkname ?? '');
        await link(path.join(root, target), full);
        const known = hashes.get(target);
        if (known) hashes.set(rel, known);
        break;
      }
      default:
        // Devices, fifos and extended headers have no place in a build context.
        break;
    }
  };
  const done = (async () => {
    for await (const entry of extract) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('cancelled');
      await consume(entry.header, entry as unknown as Readable);
    }
  })();
  try {
    await Promise.all([pipeline(tar, extract), done]);
  } catch (err) {
    extract.destroy();
    tar.destroy();
    if (err instanceof Error && /Unexpected end of data|Invalid tar header/i.test(err.message)) {
      throw invalidParameter(`the build context is not a valid tar archive: ${err.message}`);
    }
    throw err;
  }
  return hashes;
}
