// The build context: the tar (plain or compressed) that `POST /build` streams. It is spooled as
// it arrives (spool.ts: in memory while small, else one file under the data root) while an index
// of its entries is built, each file's content hash taken on the way. The cache needs only the
// index: a build whose steps all hit the cache never unpacks anything and writes nothing. The
// first step that needs the files (a COPY or ADD that misses) unpacks the context, with
// .dockerignore applied. Entries that would land outside the context (`..`, a path through a
// symlink the archive made) are refused.
import { createHash } from 'node:crypto';
import { closeSync, futimesSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { link, mkdir, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable, finished } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, type Headers } from 'tar-stream';
import { decompressed, detectCompression } from '../graph/compression';
import { DockerIgnore } from './dockerignore';
import { TarIndexer } from './tar-index';
import { Spool } from './spool';
import type { SourceTree } from './copy';
import { resolveScoped } from '../container/scoped-path';
import { invalidParameter, notFound } from '../errors';

interface IndexEntry {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  linkname?: string;
  /** sha256 of a file's bytes. */
  content?: string;
}

/** Small files the builder reads itself (the Dockerfile, .dockerignore) are kept from the stream. */
const KEPT_MAX = 16 * 1024 * 1024;

export class BuildContext implements SourceTree {
  private readonly hashes = new Map<string, string>();
  private children = new Map<string, Set<string>>();
  private unpacked?: Promise<void>;
  ignore = new DockerIgnore([]);

  private constructor(
    /** Where the files are once unpacked. */
    readonly root: string,
    private readonly spool: Spool,
    private entries: Map<string, IndexEntry>,
    private readonly kept: Map<string, Buffer>,
  ) {
    this.reindex();
  }

  /** Spools `body` (beside `dir` if it is large) and indexes it; `keep` names the files to keep in memory (the Dockerfile). */
  static async fromTar(body: Readable, dir: string, signal?: AbortSignal, keep: string[] = ['Dockerfile']): Promise<BuildContext> {
    const spool = new Spool(`${dir}.tar`);
    try {
      const wanted = new Set([...keep.map(clean), '.dockerignore']);
      const { entries, kept } = await spoolAndIndex(await plainTar(body), spool, wanted, signal);
      const ctx = new BuildContext(dir, spool, entries, kept);
      try {
        ctx.ignore = DockerIgnore.parse(kept.get('.dockerignore')?.toString('utf8') ?? '');
      } catch (err) {
        throw invalidParameter(`failed to parse .dockerignore: ${(err as Error).message}`);
      }
      return ctx;
    } catch (err) {
      spool.release();
      if (spool.onDisk) await rm(spool.onDisk, { force: true });
      throw err;
    }
  }

  /**
   * The Dockerfile's text; then what .dockerignore excludes leaves the context (the Dockerfile and
   * .dockerignore themselves included when they are excluded, as dockerd does).
   */
  async readDockerfile(name: string): Promise<string> {
    const rel = this.resolve(clean(name))?.rel ?? clean(name);
    const entry = this.entries.get(rel);
    const text = this.kept.get(rel)?.toString('utf8');
    if (!entry || entry.type !== 'file' || text === undefined) throw notFound(`Cannot locate specified Dockerfile: ${name}`);
    if (text.length === 0) throw invalidParameter(`the Dockerfile (${name}) cannot be empty`);
    if (!this.ignore.empty) {
      this.entries = new Map([...this.entries].filter(([r]) => !this.ignore.excludes(r)));
      this.reindex();
    }
    return text;
  }

  /** Unpacks the context (once) for the steps that copy from it. */
  materialize(signal?: AbortSignal): Promise<void> {
    this.unpacked ??= (async () => {
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      await unpack(this.spool.read(), this.root, signal, (rel) => rel === '' || this.entries.has(rel) || this.children.has(rel));
    })();
    return this.unpacked;
  }

  private reindex(): void {
    const children = new Map<string, Set<string>>([['', new Set()]]);
    for (const rel of this.entries.keys()) {
      let child = rel;
      for (let parent = path.posix.dirname(rel); ; parent = path.posix.dirname(parent)) {
        const key = parent === '.' ? '' : parent;
        let set = children.get(key);
        if (!set) children.set(key, (set = new Set()));
        set.add(path.posix.basename(child));
        if (key === '') break;
        child = key;
      }
    }
    this.children = children;
  }

  private isDir(rel: string): boolean {
    return rel === '' || this.entries.get(rel)?.type === 'directory' || (!this.entries.has(rel) && this.children.has(rel));
  }

  /** A path with its symlinks followed inside the context; undefined when it is not there. */
  private resolve(rel: string): { rel: string; isDir: boolean } | undefined {
    let parts: string[];
    try {
      parts = resolveScoped(rel, (p) => {
        const entry = this.entries.get(p.join('/'));
        return entry?.type === 'symlink' ? entry.linkname ?? '' : undefined;
      });
    } catch {
      return undefined; // a symlink loop: nothing there
    }
    const final = parts.join('/');
    if (final !== '' && !this.entries.has(final) && !this.children.has(final)) return undefined;
    return { rel: final, isDir: this.isDir(final) };
  }

  async stat(rel: string): Promise<{ rel: string; isDir: boolean } | undefined> {
    return this.resolve(clean(rel));
  }

  async list(dirRel: string): Promise<string[]> {
    const r = this.resolve(clean(dirRel));
    return r?.isDir ? [...(this.children.get(r.rel) ?? [])] : [];
  }

  /** A context path made relative and clean; `..` cannot climb out. */
  relative(p: string): string {
    return clean(p);
  }

  /**
   * The content hash of a context path for the build cache: a file's bytes and mode, a symlink's
   * target, a directory's entries recursively. Mtimes and owners are left out (COPY resets owners;
   * a fresh checkout must still hit the cache).
   */
  async hash(rel: string): Promise<string> {
    const known = this.hashes.get(rel);
    if (known) return known;
    const entry = this.entries.get(rel);
    const dir = this.isDir(rel);
    const h = createHash('sha256');
    const mode = entry?.mode ?? 0o755;
    h.update(`${dir ? 'd' : entry?.type ?? '?'} ${(mode & 0o7777).toString(8)}\n`);
    if (entry?.type === 'symlink') h.update(entry.linkname ?? '');
    else if (dir) for (const name of [...(this.children.get(rel) ?? [])].sort()) h.update(`${name}\0${await this.hash(rel ? `${rel}/${name}` : name)}\n`);
    else h.update(entry?.content ?? '');
    const digest = h.digest('hex');
    this.hashes.set(rel, digest);
    return digest;
  }

  /**
   * Removes the spool and the unpacked files: renamed aside at once (so a new build never sees
   * them) and deleted in the background, so the build's answer does not wait for the deletion.
   */
  async remove(): Promise<void> {
    await this.unpacked?.catch(() => undefined);
    this.spool.release();
    // A build that hit the cache all the way made nothing on disk: nothing to remove.
    const made = [this.spool.onDisk, this.unpacked ? this.root : undefined].filter((p) => p !== undefined);
    if (made.length === 0) return;
    const trash = path.join(path.dirname(path.dirname(this.root)), 'trash');
    await mkdir(trash, { recursive: true });
    for (const p of made) {
      const aside = path.join(trash, path.basename(p));
      try {
        await rename(p, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') await rm(p, { recursive: true, force: true });
        continue;
      }
      void rm(aside, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

const clean = (p: string) => path.posix.normalize('/' + p.replace(/\\/g, '/')).slice(1).replace(/\/$/, '');

/** Entry names as clean relative paths; `..` that climbs out and paths through planted symlinks are refused. */
function checker(): { inside(name: string): string; symlink(rel: string): void } {
  const symlinks = new Set<string>();
  return {
    inside(name: string): string {
      if (path.posix.normalize(name.replace(/\\/g, '/')).startsWith('../')) throw refuse(`${name} points outside the context`);
      const rel = clean(name);
      const parts = rel.split('/');
      for (let i = 1; i < parts.length; i++) if (symlinks.has(parts.slice(0, i).join('/'))) throw refuse(`${name} goes through a symlink`);
      return rel;
    },
    symlink: (rel) => void symlinks.add(rel),
  };
}

/**
 * The context as a plain tar: a compressed one (the CLI's --compress) decompressed, a plain one
 * the body itself, with no stream in between to copy its chunks.
 */
async function plainTar(body: Readable): Promise<Readable> {
  const { head, rest } = await sniff(body, 6);
  return detectCompression(head) === 'none' ? rest : decompressed(rest);
}

/** The first `n` bytes of a stream (fewer if it is shorter), and the stream to read it all from. */
function sniff(stream: Readable, n: number): Promise<{ head: Buffer; rest: Readable }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const done = (ended: boolean) => {
      stream.off('data', onData).off('end', onEnd).off('error', reject);
      stream.pause();
      const head = Buffer.concat(parts);
      // A stream that ended cannot take its bytes back: a new one holds them.
      if (ended) return resolve({ head, rest: Readable.from(head.length > 0 ? [head] : [], { objectMode: false }) });
      stream.unshift(head);
      resolve({ head, rest: stream });
    };
    const onData = (chunk: Buffer) => {
      parts.push(chunk);
      size += chunk.length;
      if (size >= n) done(false);
    };
    const onEnd = () => done(true);
    stream.on('data', onData).once('end', onEnd).once('error', reject);
  });
}

/** Writes the tar to `spool` as it streams and indexes its entries. */
async function spoolAndIndex(tar: Readable, spool: Spool, wanted: Set<string>, signal?: AbortSignal): Promise<{ entries: Map<string, IndexEntry>; kept: Map<string, Buffer> }> {
  const entries = new Map<string, IndexEntry>();
  const kept = new Map<string, Buffer>();
  const check = checker();
  const indexer = new TarIndexer({
    entry(header) {
      const rel = check.inside(header.name);
      if (rel === '') return false;
      if (header.type === 'directory') entries.set(rel, { type: 'directory', mode: header.mode });
      else if (header.type === 'symlink') {
        entries.set(rel, { type: 'symlink', mode: header.mode, linkname: header.linkname });
        check.symlink(rel);
      } else if (header.type === 'link') {
        const targetRel = check.inside(header.linkname);
        const target = entries.get(targetRel);
        if (target) entries.set(rel, { ...target });
        const keptTarget = kept.get(targetRel);
        if (keptTarget && wanted.has(rel)) kept.set(rel, keptTarget);
      }
      return header.type === 'file' && wanted.has(rel) && header.size <= KEPT_MAX;
    },
    fileDone(header, sha256, bytes) {
      const rel = clean(header.name);
      entries.set(rel, { type: 'file', mode: header.mode, content: sha256 });
      if (bytes) kept.set(rel, bytes);
    },
  });
  try {
    signal?.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const cancel = () => tar.destroy(signal!.reason instanceof Error ? signal!.reason : new Error('cancelled'));
      signal?.addEventListener('abort', cancel, { once: true });
      // Flowing, each chunk as it came: an async iterator joins the chunks that wait into one copy.
      tar.on('data', (chunk: Buffer) => {
        try {
          spool.write(chunk);
          indexer.write(chunk);
        } catch (err) {
          tar.destroy(err as Error);
        }
      });
      finished(tar, (err) => {
        signal?.removeEventListener('abort', cancel);
        if (err) reject(err);
        else resolve();
      });
      tar.resume();
    });
    indexer.end();
  } catch (err) {
    tar.destroy();
    if (err instanceof Error && /Unexpected end of data|Invalid tar header/i.test(err.message)) {
      throw invalidParameter(`the build context is not a valid tar archive: ${err.message}`);
    }
    throw err;
  } finally {
    spool.end();
  }
  return { entries, kept };
}

const refuse = (why: string) => invalidParameter(`refusing to unpack the build context: ${why}`);

/**
 * Unpacks the context tar into `root`; returns the content hash of every regular file. Owners are
 * not kept (COPY and ADD give files to root or to --chown); modes and mtimes are.
 */
async function unpack(tar: Readable, root: string, signal?: AbortSignal, wanted: (rel: string) => boolean = () => true): Promise<Map<string, string>> {
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
    mkdirSync(path.join(root, parent), { recursive: true, mode: 0o755 });
    for (let p = parent; p !== '.' && !dirs.has(p); p = path.posix.dirname(p)) dirs.add(p);
  };
  const consume = async (header: Headers, stream: Readable) => {
    const rel = inside(header.name);
    const full = path.join(root, rel);
    const mode = (header.mode ?? 0o644) & 0o7777;
    // Left out by .dockerignore: read past it.
    if (!wanted(rel)) {
      stream.resume();
      return;
    }
    if (rel === '' || (header.type !== 'file' && header.type !== 'contiguous-file')) stream.resume();
    if (rel === '') return;
    await ensureParent(rel);
    // Never write through what an earlier entry of the same name left (a symlink above all).
    if (seen.has(rel) && header.type !== 'directory') await rm(full, { force: true, recursive: true });
    seen.add(rel);
    switch (header.type) {
      case 'directory':
        mkdirSync(full, { recursive: true, mode: mode | 0o700 });
        dirs.add(rel);
        break;
      case 'file':
      case 'contiguous-file': {
        // Synchronous writes: a context is many small files, and a thread-pool round trip per
        // open, write, close and utimes costs more than the writes themselves.
        const h = createHash('sha256');
        const fd = openSync(full, 'w', mode);
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            h.update(chunk);
            writeSync(fd, chunk);
          }
          if (header.mtime) futimesSync(fd, header.mtime, header.mtime);
        } finally {
          closeSync(fd);
        }
        hashes.set(rel, h.digest('hex'));
        return;
      }
      case 'symlink':
        await symlink(header.linkname ?? '', full);
        symlinks.add(rel);
        break;
      case 'link': {
        const target = inside(header.linkname ?? '');
        // Its target may have been left out by .dockerignore: then so is the link.
        await link(path.join(root, target), full).catch(() => undefined);
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
