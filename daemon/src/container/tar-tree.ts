// Directory trees to and from tar streams, for `docker cp` (GET/PUT archive) and `docker export`.
// Packing walks with lstat and never follows symlinks; unpacking refuses names that climb out
// and never writes through a symlink, so an archive cannot reach outside its target directory.
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readlink, mkdir, symlink, link, lchown, chmod, lutimes, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { pack as tarPack, extract as tarExtract, type Headers, type Pack } from 'tar-stream';
import { invalidParameter } from '../errors';


/** Adds `hostPath` (and what is below it, for a directory) to `pack` under the name `name`. */
export async function packTree(pack: Pack, hostPath: string, name: string, signal?: AbortSignal): Promise<void> {
  const st = await lstat(hostPath);
  const base = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
  if (signal?.aborted) throw signal.reason as Error;
  if (st.isDirectory()) {
    if (name !== '' && name !== '.') await entry(pack, { ...base, name: name.endsWith('/') ? name : `${name}/`, type: 'directory' });
    const children = (await readdir(hostPath)).sort();
    for (const child of children) {
      await packTree(pack, path.join(hostPath, child), name === '' || name === '.' ? child : `${name.replace(/\/$/, '')}/${child}`, signal);
    }
  } else if (st.isSymbolicLink()) {
    await entry(pack, { ...base, type: 'symlink', linkname: await readlink(hostPath) });
  } else if (st.isFile()) {
    await new Promise<void>((resolve, reject) => {
      const sink = pack.entry({ ...base, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
      createReadStream(hostPath).on('error', reject).pipe(sink);
    });
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    const rdev = st.rdev;
    await entry(pack, { ...base, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: (rdev >>> 8) & 0xfff, devminor: (rdev & 0xff) | ((rdev >>> 12) & 0xfff00) });
  } else if (st.isFIFO()) {
    await entry(pack, { ...base, type: 'fifo' });
  }
  // Sockets are not archived, as in Docker.
}

function entry(pack: Pack, header: Headers): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
}

/** A tar stream of `hostPath` named `name` (empty: the directory's contents at the top). */
export function packPath(hostPath: string, name: string, signal?: AbortSignal): Readable {
  const pack = tarPack();
  packTree(pack, hostPath, name, signal).then(
    () => pack.finalize(),
    (err: unknown) => pack.destroy(err as Error),
  );
  return pack;
}

/** The entry name as a clean relative path, or a 400 when it would leave the target. */
function cleanName(raw: string): string {
  const parts: string[] = [];
  for (const p of raw.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') throw invalidParameter(`refusing to extract "${raw}": the path leaves the destination directory`);
    parts.push(p);
  }
  return parts.join('/');
}

/** Creates the parents of `rel` under `root` as real directories; refuses to pass a symlink. */
async function ensureParents(root: string, rel: string): Promise<void> {
  const parts = rel.split('/').slice(0, -1);
  let cur = root;
  for (const p of parts) {
    cur = path.join(cur, p);
    const st = await lstat(cur).catch(() => undefined);
    if (!st) await mkdir(cur, { mode: 0o755 });
    else if (!st.isDirectory()) throw invalidParameter(`refusing to extract below "${path.relative(root, cur)}": it is not a directory`);
  }
}

export interface UnpackOptions {
  /** Refuse to replace a directory with a non-directory or the reverse (docker cp's default). */
  noOverwriteDirNonDir: boolean;
  /** Keep the archive's owners (copyUIDGID); otherwise files belong to root, as dockerd does. */
  keepOwners: boolean;
}

export async function unpackInto(tar: Readable, root: string, o: UnpackOptions): Promise<void> {
  const ex = tarExtract();
  const done = pipeline(tar, ex);
  // A refusal below ends the loop early; the pipeline's own "premature close" is not the error.
  done.catch(() => undefined);
  for await (const e of ex) {
    const h = e.header;
    const rel = cleanName(h.name);
    if (rel === '') {
      e.resume();
      continue;
    }
    await ensureParents(root, rel);
    const target = path.join(root, rel);
    const existing = await lstat(target).catch(() => undefined);
    const isDir = h.type === 'directory';
    if (existing) {
      if (o.noOverwriteDirNonDir && existing.isDirectory() !== isDir) {
        e.resume();
        throw invalidParameter(`cannot overwrite ${existing.isDirectory() ? 'directory' : 'non-directory'} "/${rel}" with ${isDir ? 'directory' : 'non-directory'} "${h.name}"`);
      }
      if (!(isDir && existing.isDirectory())) await rm(target, { recursive: true, force: true });
    }
    const mode = (h.mode ?? 0o644) & 0o7777;
    switch (h.type) {
      case 'directory':
        if (!existing?.isDirectory()) await mkdir(target, { mode });
        e.resume();
        break;
      case 'file':
      case 'contiguous-file':
        await pipeline(e, createWriteStream(target, { mode }));
        break;
      case 'symlink':
        await symlink(h.linkname ?? '', target);
        e.resume();
        break;
      case 'link': {
        const source = path.join(root, cleanName(h.linkname ?? ''));
        const st = await lstat(source).catch(() => undefined);
        if (!st || st.isSymbolicLink()) throw invalidParameter(`refusing to extract hard link "${h.name}" to "${h.linkname}"`);
        await link(source, target);
        e.resume();
        break;
      }
      default:
        // Devices and fifos are not created by docker cp either; skip them.
        e.resume();
        continue;
    }
    if (h.type !== 'symlink') await chmod(target, mode).catch(() => undefined);
    await lchown(target, o.keepOwners ? h.uid ?? 0 : 0, o.keepOwners ? h.gid ?? 0 : 0).catch(() => undefined);
    if (h.mtime) await lutimes(target, h.mtime, h.mtime).catch(() => undefined);
  }
  await done;
}

/** Go's os.FileMode of a stat, which docker cp's X-Docker-Container-Path-Stat carries. */
export function goFileMode(st: { mode: number; isDirectory(): boolean; isSymbolicLink(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): number {
  let m = st.mode & 0o777;
  if (st.mode & 0o4000) m |= 1 << 23;
  if (st.mode & 0o2000) m |= 1 << 22;
  if (st.mode & 0o1000) m |= 1 << 20;
  if (st.isDirectory()) m |= 2 ** 31;
  if (st.isSymbolicLink()) m |= 1 << 27;
  if (st.isFIFO()) m |= 1 << 25;
  if (st.isSocket()) m |= 1 << 24;
  if (st.isCharacterDevice()) m |= (1 << 26) | (1 << 21);
  if (st.isBlockDevice()) m |= 1 << 26;
  return m >>> 0;
}
