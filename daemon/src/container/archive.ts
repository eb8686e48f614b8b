// `docker cp` and `docker export` on a container's root filesystem: paths resolved inside the
// rootfs (symlinks never lead out), the rootfs mounted for the time of the copy when the
// container is not running.
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { forbidden, invalidParameter, notFound } from '../errors';
import type { Container } from './container';
import type { Containers } from './containers';
import { resolveInRoot } from './scoped-path';
import { goFileMode, packPath, unpackInto } from './tar-tree';

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** Runs `fn` with the container's rootfs mounted, unmounting afterwards when it was not running. */
export async function withRootfs<T>(containers: Containers, c: Container, fn: (rootfs: string) => Promise<T>, keepUntil?: (value: T) => Promise<void>): Promise<T> {
  await c.released; // an exit's unmount must not undo this mount
  const rootfs = await containers.graph.mount(c.id);
  const release = async () => {
    if (!c.state.Running) await containers.graph.unmount(c.id).catch(() => undefined);
  };
  try {
    const value = await fn(rootfs);
    if (keepUntil) void keepUntil(value).finally(release);
    else await release();
    return value;
  } catch (err) {
    await release();
    throw err;
  }
}

async function statIn(rootfs: string, c: Container, inner: string): Promise<{ host: string; stat: PathStat; isDir: boolean }> {
  // A trailing "/" or "/." asks for what the link points to; otherwise the link itself is copied.
  const follow = /\/\.?$/.test(inner);
  const host = resolveInRoot(rootfs, inner, follow);
  const st = await lstat(host).catch(() => undefined);
  if (!st) throw notFound(`Could not find the file ${inner} in container ${c.name}`);
  if (follow && !st.isDirectory() && inner.endsWith('/')) throw invalidParameter(`not a directory: ${inner}`);
  const linkTarget = st.isSymbolicLink() ? await readlink(host) : '';
  return {
    host,
    isDir: st.isDirectory(),
    stat: { name: path.posix.basename(inner.replace(/\/+$/, '')) || '/', size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget },
  };
}

export function statPath(containers: Containers, c: Container, inner: string): Promise<PathStat> {
  return withRootfs(containers, c, async (rootfs) => (await statIn(rootfs, c, inner)).stat);
}

/** The tar of a path, with its stat for the X-Docker-Container-Path-Stat header. */
export function archivePath(containers: Containers, c: Container, inner: string, signal?: AbortSignal): Promise<{ stat: PathStat; tar: Readable }> {
  return withRootfs(
    containers,
    c,
    async (rootfs) => {
      const { host, stat } = await statIn(rootfs, c, inner);
      const name = inner.endsWith('/.') ? '.' : stat.name;
      return { stat, tar: packPath(host, name, signal) };
    },
    ({ tar }) => new Promise((resolve) => tar.once('close', () => resolve())),
  );
}

export function extractToPath(containers: Containers, c: Container, inner: string, tar: Readable, o: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void> {
  if (c.record.HostConfig.ReadonlyRootfs) throw forbidden('container rootfs is marked read-only');
  return withRootfs(containers, c, async (rootfs) => {
    const host = resolveInRoot(rootfs, inner, true);
    const st = await lstat(host).catch(() => undefined);
    if (!st) throw notFound(`Could not find the file ${inner} in container ${c.name}`);
    if (!st.isDirectory()) throw invalidParameter(`extraction point is not a directory`);
    await unpackInto(tar, host, { noOverwriteDirNonDir: o.noOverwriteDirNonDir, keepOwners: o.copyUIDGID });
  });
}

/** `docker export`: the whole root filesystem as a tar. */
export function exportRootfs(containers: Containers, c: Container, signal?: AbortSignal): Promise<Readable> {
  return withRootfs(
    containers,
    c,
    async (rootfs) => packPath(rootfs, '', signal),
    (tar) => new Promise((resolve) => tar.once('close', () => resolve())),
  );
}
