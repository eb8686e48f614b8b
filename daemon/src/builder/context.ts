// The build context: the tar (plain or compressed) that `POST /build` streams, unpacked into a
// private directory under the data root as it arrives (never held in memory), with .dockerignore
// applied. The unpacking refuses entries that would escape the directory, as layer unpacking does.
// Content hashes of the files COPY and ADD use are computed on demand, for the build cache.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { decompressed } from '../graph/compression';
import { extractLayer } from '../drivers/graph/extract';
import { DockerIgnore } from './dockerignore';
import { invalidParameter, notFound } from '../errors';

export class BuildContext {
  private readonly hashes = new Map<string, string>();

  private constructor(readonly root: string, readonly ignore: DockerIgnore) {}

  /** Unpacks `body` into `dir` (created, and removed again on failure). */
  static async fromTar(body: Readable, dir: string, signal?: AbortSignal): Promise<BuildContext> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      const tar = await decompressed(body);
      await extractLayer(tar, dir, 'delete', signal);
      const ignoreText = await readFile(path.join(dir, '.dockerignore'), 'utf8').catch(() => '');
      let ignore: DockerIgnore;
      try {
        ignore = DockerIgnore.parse(ignoreText);
      } catch (err) {
        throw invalidParameter(`failed to parse .dockerignore: ${(err as Error).message}`);
      }
      const ctx = new BuildContext(dir, ignore);
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
      for await (const chunk of createReadStream(full)) h.update(chunk as Buffer);
    }
    const digest = h.digest('hex');
    this.hashes.set(rel, digest);
    return digest;
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
