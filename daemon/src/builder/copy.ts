// COPY and ADD: sources from the build context (or an earlier stage's or an image's root
// filesystem with --from) written into the mounted root filesystem of the step's container, as
// dockerd's classic builder does it: globs, a directory's contents copied into the destination,
// a destination ending in `/` (or an existing directory) taking the source's base name, owners
// reset to root unless --chown, local tar archives unpacked by ADD.
import { createReadStream } from 'node:fs';
import { chmod, copyFile, lchown, lstat, lutimes, mkdir, open, readdir, readFile, readlink, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { resolveInRoot } from '../container/scoped-path';
import { resolveUser } from '../drivers/exec/user';
import { decompressed } from '../graph/compression';
import { extractLayer } from '../drivers/graph/extract';
import { invalidParameter, notFound } from '../errors';

export interface CopySource {
  /** The directory sources are read from (the context, or a stage's mounted rootfs). */
  root: string;
  /** True for the build context: its errors say "build context". */
  isContext: boolean;
}

export interface CopyRequest {
  kind: 'COPY' | 'ADD';
  /** Source paths after substitution, relative to the source root. */
  sources: string[];
  /** Destination after substitution; relative ones are under `workdir`. */
  dest: string;
  workdir: string;
  /** --chown after substitution. */
  chown?: string;
  /** --chmod after substitution (octal). */
  chmod?: string;
}

/** One matched source: its path relative to the source root. */
export interface ResolvedSource {
  rel: string;
  isDir: boolean;
}

const hasWildcard = (p: string) => /[*?[]/.test(p);

/** Go's filepath.Match for one path segment set (no `**`). */
function matcher(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw invalidParameter(`syntax error in pattern: ${pattern}`);
      const cls = pattern.slice(i + 1, end);
      re += '[' + (cls.startsWith('^') || cls.startsWith('!') ? '^' + cls.slice(1) : cls) + ']';
      i = end;
    } else if (ch === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

/**
 * Where sources are looked up: a directory on disk (a stage's root filesystem), or the build
 * context's index, which answers without the context being unpacked.
 */
export interface SourceTree {
  /** The path with its symlinks followed inside the tree, and whether it is a directory; undefined when absent. */
  stat(rel: string): Promise<{ rel: string; isDir: boolean } | undefined>;
  /** Names in a directory. */
  list(dirRel: string): Promise<string[]>;
}

/** A directory on disk as a SourceTree (symlinks resolved inside it). */
export function diskTree(root: string): SourceTree {
  return {
    async stat(rel) {
      const full = resolveInRoot(root, rel);
      const st = await stat(full).catch(() => undefined);
      return st ? { rel: path.relative(root, full), isDir: st.isDirectory() } : undefined;
    },
    list: (dirRel) => readdir(resolveInRoot(root, dirRel)).catch(() => [] as string[]),
  };
}

/** Expands the sources (globs included) against the source tree; errors worded as dockerd's. */
export async function resolveSources(req: CopyRequest, from: CopySource, tree: SourceTree = diskTree(from.root)): Promise<ResolvedSource[]> {
  const out: ResolvedSource[] = [];
  for (const raw of req.sources) {
    if (/^https?:\/\//.test(raw)) {
      if (req.kind === 'COPY') throw invalidParameter(`${req.kind} failed: source can't be a URL for COPY`);
      throw invalidParameter(`${req.kind} failed: a URL source cannot be combined with --from`);
    }
    const clean = path.posix.normalize('/' + raw).slice(1);
    if (!hasWildcard(clean)) {
      const found = await tree.stat(clean);
      if (!found) {
        const where = from.isContext ? 'build context or excluded by .dockerignore' : 'source image';
        throw notFound(`${req.kind} failed: file not found in ${where}: stat ${raw}: file does not exist`);
      }
      out.push(found);
      continue;
    }
    // Walk only as deep as the pattern has segments.
    let candidates = [''];
    for (const seg of clean.split('/')) {
      const next: string[] = [];
      for (const dir of candidates) {
        if (!hasWildcard(seg)) {
          next.push(dir ? `${dir}/${seg}` : seg);
          continue;
        }
        const re = matcher(seg);
        for (const n of (await tree.list(dir)).sort()) if (re.test(n)) next.push(dir ? `${dir}/${n}` : n);
      }
      candidates = next;
    }
    for (const rel of candidates) {
      const found = await tree.stat(rel);
      if (found) out.push({ rel, isDir: found.isDir });
    }
  }
  if (out.length === 0) throw invalidParameter(`${req.kind} failed: no source files were specified`);
  return out;
}

interface Owner {
  uid: number;
  gid: number;
}

/** --chown resolved against the destination's /etc/passwd and /etc/group. */
export async function resolveChown(rootfs: string, chown: string | undefined): Promise<Owner | undefined> {
  if (!chown) return undefined;
  const [user, group] = chown.split(':', 2);
  const read = (f: string) => readFile(resolveInRoot(rootfs, f), 'utf8').catch(() => undefined);
  try {
    const r = resolveUser(`${user}:${group ?? user}`, [], await read('/etc/passwd'), await read('/etc/group'));
    return { uid: r.uid, gid: r.gid };
  } catch (err) {
    if (group !== undefined) throw invalidParameter(`unable to convert uid/gid chown string to host mapping: ${(err as Error).message}`);
    // Only a user name: its own primary group when no group has its name.
    const r = resolveUser(user!, [], await read('/etc/passwd'), await read('/etc/group'));
    return { uid: r.uid, gid: r.gid };
  }
}

function parseChmod(chmod: string | undefined): number | undefined {
  if (!chmod) return undefined;
  if (!/^[0-7]{1,4}$/.test(chmod)) throw invalidParameter(`invalid chmod parameter: ${chmod}: it must be an octal mode such as 755`);
  return parseInt(chmod, 8);
}

/** Whether `file` starts like a tar archive (plain or compressed) that ADD unpacks. */
async function isArchive(file: string): Promise<boolean> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return false;
  const fd = Buffer.alloc(512);
  let n: number;
  try {
    ({ bytesRead: n } = await handle.read(fd, 0, 512, 0));
  } finally {
    await handle.close();
  }
  if (n < 6) return false;
  const head = fd.subarray(0, n);
  if (head[0] === 0x1f && head[1] === 0x8b) return true; // gzip
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return true; // bzip2
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true; // xz
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return true; // zstd
  return n >= 262 && fd.subarray(257, 262).toString('latin1') === 'ustar';
}

/** Copies the resolved sources into `rootfs`. */
export async function performCopy(req: CopyRequest, from: CopySource, sources: ResolvedSource[], rootfs: string, neverUnpack = new Set<string>()): Promise<void> {
  let dest = req.dest;
  if (!path.posix.isAbsolute(dest)) dest = path.posix.join(req.workdir || '/', dest) + (dest.endsWith('/') || dest === '.' ? '/' : '');
  const destIsDirSyntax = dest.endsWith('/') || dest.endsWith('/.');
  if (sources.length > 1 && !destIsDirSyntax) throw invalidParameter(`When using ${req.kind} with more than one source file, the destination must be a directory and end with a /`);
  const owner = (await resolveChown(rootfs, req.chown)) ?? { uid: 0, gid: 0 };
  const mode = parseChmod(req.chmod);
  const destHost = resolveInRoot(rootfs, dest);
  const destStat = await stat(destHost).catch(() => undefined);

  for (const src of sources) {
    const srcHost = resolveInRoot(from.root, src.rel);
    if (src.isDir) {
      await mkdirOwned(rootfs, dest, owner);
      await copyTree(srcHost, destHost, owner, mode);
      continue;
    }
    if (req.kind === 'ADD' && from.isContext && !neverUnpack.has(src.rel) && (await isArchive(srcHost))) {
      await mkdirOwned(rootfs, dest, owner);
      const tar = await decompressed(createReadStream(srcHost));
      await extractLayer(tar, destHost, 'delete');
      continue;
    }
    const intoDir = destIsDirSyntax || destStat?.isDirectory();
    const target = intoDir ? path.posix.join(dest, path.posix.basename(src.rel)) : dest;
    await mkdirOwned(rootfs, path.posix.dirname(target), owner);
    await copyEntry(srcHost, resolveInRoot(rootfs, target, false), owner, mode);
  }
}

/** mkdir -p inside the rootfs; directories it creates get the owner, as dockerd's MkdirAllAndChown. */
async function mkdirOwned(rootfs: string, dir: string, owner: Owner): Promise<void> {
  const parts = dir.split('/').filter(Boolean);
  let current = '/';
  for (const part of parts) {
    current = path.posix.join(current, part);
    const host = resolveInRoot(rootfs, current);
    const st = await lstat(host).catch(() => undefined);
    if (st?.isDirectory()) continue;
    if (st) throw invalidParameter(`cannot copy to ${dir}: ${current} exists and is not a directory`);
    await mkdir(host, { mode: 0o755 });
    await lchown(host, owner.uid, owner.gid);
  }
}

async function copyTree(srcDir: string, destDir: string, owner: Owner, mode: number | undefined): Promise<void> {
  for (const name of await readdir(srcDir)) {
    await copyEntry(path.join(srcDir, name), path.join(destDir, name), owner, mode);
  }
}

/** One entry (recursively for directories); the owner is reset, modes and mtimes are kept. */
async function copyEntry(src: string, dest: string, owner: Owner, mode: number | undefined): Promise<void> {
  const st = await lstat(src);
  const existing = await lstat(dest).catch(() => undefined);
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) await rm(dest, { recursive: true, force: true });
    if (!existing?.isDirectory()) await mkdir(dest);
    await copyTree(src, dest, owner, mode);
  } else {
    if (existing) await rm(dest, { recursive: true, force: true });
    if (st.isSymbolicLink()) {
      await symlink(await readlink(src), dest);
    } else if (st.isFile()) {
      await copyFile(src, dest);
    } else {
      return; // Sockets, fifos and devices in a context are skipped.
    }
  }
  await lchown(dest, owner.uid, owner.gid);
  // After the chown, which clears set-id bits.
  if (!st.isSymbolicLink()) await chmod(dest, mode ?? st.mode & 0o7777);
  await lutimes(dest, st.atime, st.mtime);
}
