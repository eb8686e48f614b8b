// Applies the entries of one layer tar to a directory, refusing anything that would write outside
// it: `..` names, hardlinks to outside, and any path whose parent is not a real directory of the
// layer (a symlink planted by an earlier entry is never followed). Owners, modes, mtimes, xattrs,
// device nodes and fifos are kept as dockerd keeps them. Whiteouts become what the driver needs:
// overlay's 0/0 character devices and opaque xattr, or plain deletion for vfs.
import { constants as fsc } from 'node:fs';
import { lstat, mkdir, open, rm, symlink, link, lchown, lutimes, chmod, utimes, readdir, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { Headers } from 'tar-stream';
import { invalidParameter, EngineError } from '../../errors';
import { makeSpecialFiles, setXattrs, type SpecialFile, type Xattr } from './special-files';

export type WhiteoutMode = 'overlay' | 'delete';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';
/** Space kept free on the data root: a layer that would eat into it is refused, not half-written. */
const RESERVE = 64 * 1024 * 1024;
/** Tests use this: every refusal of a hostile archive is a 400 with this prefix. */
export const REFUSED = 'refusing to unpack layer';

const refuse = (why: string) => invalidParameter(`${REFUSED}: ${why}`);

/** A tar entry name as a clean path relative to the layer root ('' is the root itself). */
export function cleanName(name: string): string {
  const normal = path.posix.normalize('/' + name.replace(/\\/g, '/'));
  return normal === '/' ? '' : normal.slice(1).replace(/\/$/, '');
}

/** Entry names must stay inside the layer: `..` components that climb above the root are refused. */
function safeName(raw: string, what = 'entry'): string {
  const parts = raw.replace(/\\/g, '/').split('/');
  let depth = 0;
  for (const p of parts) {
    if (p === '..') depth--;
    else if (p !== '' && p !== '.') depth++;
    if (depth < 0) throw refuse(`${what} ${JSON.stringify(raw)} points outside the layer`);
  }
  return cleanName(raw);
}

type Kind = 'dir' | 'other';

/** Files up to this size are buffered and written in the background. */
const SMALL_FILE = 1024 * 1024;
/** Background writes in flight at once (libuv's pool runs 4; the rest queue there cheaply). */
const WRITERS = 32;
/** Modes the kernel would strip at creation: files that need them get an explicit chmod. */
const UMASK = process.umask();

/**
 * Creates a regular file that must not exist yet (O_EXCL|O_NOFOLLOW: nothing planted there is
 * followed), writes it, and sets owner, mode and times with as few syscalls as the values allow.
 */
async function writeFile(full: string, body: Iterable<Buffer> | AsyncIterable<Buffer>, meta: { uid: number; gid: number; mode: number; mtime: Date }): Promise<void> {
  const fh = await open(full, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, meta.mode & 0o777);
  try {
    let pos = 0;
    for await (const chunk of body) {
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.length - off, pos);
        off += bytesWritten;
        pos += bytesWritten;
      }
    }
    if (meta.uid !== process.getuid?.() || meta.gid !== process.getgid?.()) await fh.chown(meta.uid, meta.gid);
    // chown clears setuid/setgid, so the mode comes after it.
    if ((meta.mode & 0o7000) !== 0 || (meta.mode & UMASK) !== 0 || meta.uid !== process.getuid?.()) await fh.chmod(meta.mode);
    await fh.utimes(meta.mtime, meta.mtime);
  } finally {
    await fh.close();
  }
}

export class LayerWriter {
  size = 0;
  private readonly kinds = new Map<string, Kind>();
  /** Paths this layer wrote, which an opaque marker in the same layer must keep (vfs). */
  readonly created = new Set<string>();
  /** Paths this layer's whiteouts removed. */
  readonly removed = new Set<string>();
  private readonly dirTimes: { rel: string; mtime: Date }[] = [];
  private readonly specials = new Map<string, SpecialFile & { uid: number; gid: number; mtime: Date }>();
  private readonly xattrs: Xattr[] = [];
  /** Directories this layer created empty: a name under one that we did not make does not exist. */
  private readonly fresh = new Set<string>();
  /** Small files being written in the background, by path; at most WRITERS at once. */
  private readonly pending = new Map<string, Promise<void>>();
  private failure: unknown;
  private freeCheckedAt = 0;
  private free = Number.POSITIVE_INFINITY;

  constructor(private readonly root: string, private readonly mode: WhiteoutMode) {
    // overlay unpacks into an empty directory; vfs over a copy of the parent.
    if (mode === 'overlay') this.fresh.add('');
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : path.join(this.root, rel);
  }

  private async kindOf(rel: string): Promise<Kind | undefined> {
    const known = this.kinds.get(rel);
    if (known) return known;
    if (this.specials.has(rel)) return 'other';
    const slash = rel.lastIndexOf('/');
    if (this.fresh.has(slash < 0 ? '' : rel.slice(0, slash))) return undefined;
    try {
      const st = await lstat(this.abs(rel));
      const kind: Kind = st.isDirectory() ? 'dir' : 'other';
      this.kinds.set(rel, kind);
      return kind;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Makes sure every parent of `rel` is a real directory of this layer, creating missing ones. */
  private async ensureParents(rel: string, original: string): Promise<void> {
    const parts = rel.split('/');
    let cur = '';
    for (let i = 0; i < parts.length - 1; i++) {
      cur = cur === '' ? parts[i]! : `${cur}/${parts[i]}`;
      const kind = await this.kindOf(cur);
      if (kind === 'dir') continue;
      if (kind === 'other') throw refuse(`entry ${JSON.stringify(original)} would be written through ${JSON.stringify(cur)}, which is not a directory (a symlink or file planted to escape the layer?)`);
      await mkdir(this.abs(cur), { mode: 0o755 });
      this.kinds.set(cur, 'dir');
      this.fresh.add(cur);
      this.created.add(cur);
    }
  }

  /** Removes whatever is at `rel` unless it is a directory and `keepDir` is set. */
  private async clear(rel: string, keepDir: boolean): Promise<boolean> {
    await this.settle(rel);
    this.specials.delete(rel);
    const kind = await this.kindOf(rel);
    if (kind === undefined) return false;
    if (kind === 'dir' && keepDir) return true;
    if (kind === 'dir') await this.settle(); // nothing may still be writing inside it
    await rm(this.abs(rel), { recursive: true, force: true });
    this.kinds.delete(rel);
    if (kind === 'dir') {
      for (const k of [...this.kinds.keys()]) if (k.startsWith(rel + '/')) this.kinds.delete(k);
    }
    return false;
  }

  private async checkSpace(bytes: number): Promise<void> {
    // statfs is cheap, but not per entry: every 256 MiB written, or for any file of that size.
    if (bytes < 256 * 1024 * 1024 && this.size - this.freeCheckedAt < 256 * 1024 * 1024 && this.free !== Number.POSITIVE_INFINITY) {
      if (bytes + RESERVE < this.free - (this.size - this.freeCheckedAt)) return;
    }
    const st = await statfs(this.root);
    this.free = st.bavail * st.bsize;
    this.freeCheckedAt = this.size;
    if (bytes + RESERVE > this.free) {
      throw new EngineError(507, `${REFUSED}: an entry of ${bytes} bytes does not fit in the ${this.free} bytes free on the data root (a tar bomb, or the disk is full)`);
    }
  }

  async entry(header: Headers, body: AsyncIterable<Buffer>, xattrs?: Map<string, Buffer>): Promise<void> {
    const rel = safeName(header.name);
    const base = path.posix.basename(rel);
    if (base.startsWith(WHITEOUT_PREFIX)) return this.whiteout(rel, base, header.name);
    if (rel === '') return; // The layer root's own metadata stays the driver's.
    await this.ensureParents(rel, header.name);
    const full = this.abs(rel);
    const uid = header.uid ?? 0;
    const gid = header.gid ?? 0;
    const mode = header.mode ?? 0o644;
    const mtime = header.mtime ?? new Date(0);

    switch (header.type) {
      case 'directory': {
        const existed = await this.clear(rel, true);
        if (!existed) {
          await mkdir(full, { mode: 0o700 });
          this.fresh.add(rel);
        }
        this.kinds.set(rel, 'dir');
        await lchown(full, uid, gid);
        await chmod(full, mode);
        this.dirTimes.push({ rel, mtime });
        break;
      }
      case 'file':
      case 'contiguous-file': {
        await this.clear(rel, false);
        const size = header.size ?? 0;
        await this.checkSpace(size);
        this.kinds.set(rel, 'other');
        this.size += size;
        if (size <= SMALL_FILE) {
          // Small files are read whole and written in the background, many at once: unpacking
          // is bound by syscall latency, not bandwidth.
          const chunks: Buffer[] = [];
          for await (const chunk of body) chunks.push(chunk);
          await this.background(rel, () => writeFile(full, chunks, { uid, gid, mode, mtime }));
        } else {
          await writeFile(full, body, { uid, gid, mode, mtime });
        }
        break;
      }
      case 'symlink': {
        await this.clear(rel, false);
        // The target is data: it is never followed while unpacking, so it may point anywhere.
        await symlink(header.linkname ?? '', full);
        // dockerd counts a symlink's own size (its target's length) in a layer's size.
        this.size += Buffer.byteLength(header.linkname ?? '');
        await lchown(full, uid, gid);
        await lutimes(full, mtime, mtime);
        this.kinds.set(rel, 'other');
        break;
      }
      case 'link': {
        const target = safeName(header.linkname ?? '', 'hardlink target');
        if (target === '') throw refuse(`hardlink ${JSON.stringify(header.name)} has no target`);
        await this.ensureParents(target, header.linkname ?? '');
        await this.settle(target);
        const targetKind = await this.kindOf(target);
        if (targetKind === 'dir') throw refuse(`hardlink ${JSON.stringify(header.name)} points at a directory`);
        const pending = this.specials.get(target);
        await this.clear(rel, false);
        if (pending) {
          this.specials.set(rel, { ...pending, path: rel });
        } else {
          if (targetKind === undefined) throw refuse(`hardlink ${JSON.stringify(header.name)} points at ${JSON.stringify(header.linkname)}, which is not in the layer`);
          await link(this.abs(target), full);
        }
        this.kinds.set(rel, 'other');
        break;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        await this.clear(rel, false);
        const kind = header.type === 'fifo' ? 'p' : header.type === 'block-device' ? 'b' : 'c';
        this.specials.set(rel, { path: rel, kind, mode, major: header.devmajor ?? 0, minor: header.devminor ?? 0, uid, gid, mtime });
        this.kinds.set(rel, 'other');
        break;
      }
      default:
        // Other types (GNU volume headers, sparse maps) carry nothing a layer needs.
        for await (const chunk of body) void chunk;
        return;
    }
    this.created.add(rel);
    this.collectXattrs(rel, xattrs);
  }

  private collectXattrs(rel: string, xattrs: Map<string, Buffer> | undefined): void {
    for (const [name, value] of xattrs ?? []) {
      // overlay's own attributes (opaque, redirect, metacopy) would let a layer reshape the mount.
      if (name.startsWith('trusted.overlay.')) continue;
      this.xattrs.push({ path: rel, name, value });
    }
  }

  private async whiteout(rel: string, base: string, original: string): Promise<void> {
    const dir = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);
    if (dir !== '') await this.ensureParents(rel, original);
    if (base === OPAQUE) {
      if (this.mode === 'overlay') {
        this.xattrs.push({ path: dir === '' ? '.' : dir, name: 'trusted.overlay.opaque', value: Buffer.from('y') });
      } else {
        // Everything below the directory that an earlier layer put there disappears.
        for (const name of await readdir(this.abs(dir))) {
          const child = dir === '' ? name : `${dir}/${name}`;
          if (!this.created.has(child)) {
            await this.clear(child, false);
            this.removed.add(child);
          }
        }
      }
      return;
    }
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') throw refuse(`whiteout ${JSON.stringify(original)} names no file`);
    const target = dir === '' ? name : `${dir}/${name}`;
    await this.clear(target, false);
    this.removed.add(target);
    if (this.mode === 'overlay') {
      this.specials.set(target, { path: target, kind: 'c', mode: 0, major: 0, minor: 0, uid: 0, gid: 0, mtime: new Date(0) });
      this.kinds.set(target, 'other');
    }
  }

  private async background(rel: string, work: () => Promise<void>): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.pending.size >= WRITERS) await Promise.race(this.pending.values());
    const p = work().then(
      () => {
        this.pending.delete(rel);
      },
      (err: unknown) => {
        this.pending.delete(rel);
        this.failure ??= err;
      },
    );
    this.pending.set(rel, p);
  }

  /** Waits for a background write of `rel` (before replacing or linking it) and reports failures. */
  private async settle(rel?: string): Promise<void> {
    if (rel === undefined) await Promise.all(this.pending.values());
    else await this.pending.get(rel);
    if (this.failure) throw this.failure;
  }

  /** Waits for background writes; on failure too, so nothing writes after the caller cleans up. */
  async drain(): Promise<void> {
    await Promise.allSettled(this.pending.values());
  }

  /** Makes the batched files and attributes, then sets directory times last (children change them). */
  async finish(): Promise<void> {
    await this.settle();
    const specials = [...this.specials.values()];
    await makeSpecialFiles(this.root, specials);
    for (const s of specials) {
      const full = this.abs(s.path);
      await lchown(full, s.uid, s.gid);
      if (s.mtime.getTime() !== 0) await lutimes(full, s.mtime, s.mtime);
    }
    await setXattrs(this.root, this.xattrs);
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const { rel, mtime } = this.dirTimes[i]!;
      await utimes(this.abs(rel), mtime, mtime);
    }
  }
}

