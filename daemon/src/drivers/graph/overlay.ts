// The overlay graphdriver (dockerd's overlay2 layout): each layer is a `diff` directory holding
// only its own files, whiteouts as 0/0 character devices and opaque directories marked with
// `trusted.overlay.opaque`. A container gets an upper and work directory over its image's layers.
// Lower directories are named by short links in `l/` and the mount runs from inside the driver's
// home with relative paths, so an image of a few hundred layers still fits the one page of mount
// options the kernel accepts.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, statfsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, symlink, writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import { PassThrough, type Readable } from 'node:stream';
import type { AppliedLayer, Change, GraphDriver, PreparedRootfs, StagedLayer } from './graph-driver';
import { extractLayer, type Hasher } from './extract';
import { opaqueDirs, overlayChanges, packChanges } from './changes';
import { isMounted, mountOverlay, unmount, run } from './mounts';
import { removeDirByRename } from './remove-dir';
import { notFound, systemError } from '../../errors';

/** The kernel copies at most one page of mount options. */
const MOUNT_OPTIONS_MAX = 4095;

/** A short, stable name for a layer's link: 12 base-32 characters of its id's hash. */
export function shortLink(id: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const h = createHash('sha256').update(id).digest();
  let out = '';
  for (let i = 0; i < 12; i++) out += alphabet[h[i]! & 31];
  return out;
}

export class OverlayDriver implements GraphDriver {
  readonly name = 'overlay2';

  constructor(readonly home: string) {
    mkdirSync(path.join(home, 'l'), { recursive: true, mode: 0o700 });
    mkdirSync(path.join(home, 'containers'), { recursive: true, mode: 0o700 });
    mkdirSync(path.join(home, 'empty'), { recursive: true, mode: 0o755 });
    // Staging directories of layers whose unpacking a crash interrupted.
    for (const name of readdirSafe(home)) if (name.startsWith('tmp-')) rmSync(path.join(home, name), { recursive: true, force: true });
  }

  /**
   * Whether overlay mounts work on this data root (it cannot sit on overlay itself, for one). A
   * success is remembered beside the layers for this kernel and this filesystem: the probe's mount
   * and umount are two process starts, a visible part of the VM's boot under emulation.
   */
  static async supported(home: string): Promise<{ ok: boolean; reason?: string }> {
    const marker = path.join(home, 'probed');
    const stamp = `${os.release()} ${statSync(home).dev}`;
    if (readFileSafe(marker) === stamp) return { ok: true };
    const probe = path.join(home, `probe-${randomBytes(4).toString('hex')}`);
    try {
      for (const d of ['lower1', 'lower2', 'upper', 'work', 'merged']) await mkdir(path.join(probe, d), { recursive: true });
      const r = await run('mount', ['-t', 'overlay', 'overlay', '-o', 'lowerdir=lower1:lower2,upperdir=upper,workdir=work', 'merged'], probe);
      if (r.code !== 0) return { ok: false, reason: r.stderr };
      await unmount(path.join(probe, 'merged'));
      // A torn write only mismatches, and the next start probes again.
      await writeFile(marker, stamp + '\n');
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    } finally {
      await unmount(path.join(probe, 'merged')).catch(() => undefined);
      await rm(probe, { recursive: true, force: true });
    }
  }

  status(): [string, string][] {
    return [['Backing Filesystem', backingFilesystem(this.home)], ['Supports d_type', 'true'], ['Using metacopy', 'false'], ['Native Overlay Diff', 'false'], ['userxattr', 'false']];
  }

  metadata(id: string, kind: 'layer' | 'container'): Record<string, string> {
    if (kind === 'container') {
      const dir = this.containerDir(id);
      return {
        LowerDir: this.lowerDirs(readFileSafe(path.join(dir, 'parent'))).map((d) => path.join(this.home, d)).join(':'),
        MergedDir: path.join(dir, 'merged'),
        UpperDir: path.join(dir, 'diff'),
        WorkDir: path.join(dir, 'work'),
      };
    }
    const parent = readFileSafe(path.join(this.home, id, 'parent'));
    const data: Record<string, string> = {
      MergedDir: path.join(this.home, id, 'merged'),
      UpperDir: path.join(this.home, id, 'diff'),
      WorkDir: path.join(this.home, id, 'work'),
    };
    if (parent) data.LowerDir = this.lowerDirs(parent).map((d) => path.join(this.home, d)).join(':');
    return data;
  }

  layerDir(id: string): string {
    return path.join(this.home, id, 'diff');
  }

  hasLayer(id: string): boolean {
    return existsSync(path.join(this.home, id, 'diff'));
  }

  async applyLayer(id: string, parent: string | undefined, tar: Readable, signal?: AbortSignal): Promise<AppliedLayer> {
    // Layers do not need their parent on disk to unpack, so an image's layers unpack in parallel.
    const staged = await this.stageLayer(tar, signal);
    await this.commitStaged(staged, id, parent);
    return { size: staged.size, diffId: staged.diffId };
  }

  async stageLayer(tar: Readable, signal?: AbortSignal, hasher?: Hasher): Promise<StagedLayer> {
    const staging = path.join(this.home, `tmp-${randomBytes(8).toString('hex')}`);
    await mkdir(path.join(staging, 'diff'), { recursive: true, mode: 0o755 });
    try {
      const result = await extractLayer(tar, path.join(staging, 'diff'), 'overlay', signal, hasher);
      return { size: result.size, diffId: result.diffId, dir: staging };
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
  }

  async commitStaged(staged: StagedLayer, id: string, parent: string | undefined): Promise<boolean> {
    if (this.hasLayer(id)) {
      await this.discardStaged(staged);
      return false;
    }
    try {
      const link = shortLink(id);
      await writeFile(path.join(staged.dir, 'link'), link);
      if (parent) await writeFile(path.join(staged.dir, 'parent'), parent);
      await rm(path.join(this.home, 'l', link), { force: true });
      await symlink(`../${id}/diff`, path.join(this.home, 'l', link));
      try {
        await rename(staged.dir, path.join(this.home, id));
      } catch (err) {
        // Another load unpacked the same layer meanwhile: theirs is as good as ours.
        if (!this.hasLayer(id)) throw err;
        await this.discardStaged(staged);
        return false;
      }
      return true;
    } catch (err) {
      await this.discardStaged(staged);
      throw err;
    }
  }

  async discardStaged(staged: StagedLayer): Promise<void> {
    await rm(staged.dir, { recursive: true, force: true });
  }

  async removeLayer(id: string): Promise<void> {
    const link = readFileSafe(path.join(this.home, id, 'link'));
    if (link) await rm(path.join(this.home, 'l', link), { force: true });
    await removeDirByRename(this.home, id);
  }

  async listLayers(): Promise<string[]> {
    return (await readdir(this.home)).filter((n) => /^[a-f0-9]{64}$/.test(n));
  }

  /** `l/LINK` paths of a layer and its parents, top first. */
  private lowerDirs(top: string | undefined): string[] {
    const out: string[] = [];
    let id = top;
    while (id) {
      const link = readFileSafe(path.join(this.home, id, 'link'));
      if (!link) throw systemError(`layer ${id} is missing from ${this.home}: the image's layers are damaged; remove the image and load or pull it again`);
      out.push(`l/${link}`);
      id = readFileSafe(path.join(this.home, id, 'parent'));
    }
    return out;
  }

  private containerDir(id: string): string {
    return path.join(this.home, 'containers', id);
  }

  async prepare(containerId: string, parent: string | undefined): Promise<PreparedRootfs> {
    const dir = this.containerDir(containerId);
    if (parent && !this.hasLayer(parent)) throw notFound(`layer ${parent} does not exist`);
    for (const d of ['diff', 'work', 'merged']) await mkdir(path.join(dir, d), { recursive: true, mode: 0o755 });
    await writeFile(path.join(dir, 'parent'), parent ?? '');
    return { rootfs: path.join(dir, 'merged'), upper: path.join(dir, 'diff') };
  }

  /** The mount options for a container, relative to the driver's home. */
  mountOptions(containerId: string): string {
    const lowers = this.lowerDirs(readFileSafe(path.join(this.containerDir(containerId), 'parent')));
    const rel = `containers/${containerId}`;
    const options = `lowerdir=${lowers.length > 0 ? lowers.join(':') : 'empty'},upperdir=${rel}/diff,workdir=${rel}/work`;
    if (options.length > MOUNT_OPTIONS_MAX) {
      throw systemError(`the image has too many layers (${lowers.length}) to mount with overlay: the mount options exceed one page`);
    }
    return options;
  }

  async mount(containerId: string): Promise<string> {
    const dir = this.containerDir(containerId);
    if (!existsSync(dir)) throw notFound(`no root filesystem for container ${containerId}: it was never prepared`);
    const merged = path.join(dir, 'merged');
    if (isMounted(merged)) return merged;
    await mountOverlay(this.home, this.mountOptions(containerId), `containers/${containerId}/merged`);
    return merged;
  }

  async unmount(containerId: string): Promise<void> {
    await unmount(path.join(this.containerDir(containerId), 'merged'));
  }

  async remove(containerId: string): Promise<void> {
    await this.unmount(containerId);
    await rm(this.containerDir(containerId), { recursive: true, force: true });
  }

  async listContainers(): Promise<string[]> {
    return readdir(path.join(this.home, 'containers'));
  }

  containerParent(containerId: string): string | undefined {
    return readFileSafe(path.join(this.containerDir(containerId), 'parent'));
  }

  async changes(containerId: string): Promise<Change[]> {
    const parent = (await readFile(path.join(this.containerDir(containerId), 'parent'), 'utf8').catch(() => '')) || undefined;
    const lowers = this.lowerDirs(parent).map((l) => path.join(this.home, l));
    return overlayChanges(path.join(this.containerDir(containerId), 'diff'), lowers);
  }

  diff(containerId: string): Readable {
    const upper = path.join(this.containerDir(containerId), 'diff');
    const stream = new PassThrough();
    this.changes(containerId).then(
      async (changes) => packChanges(upper, changes, await opaqueDirs(upper)).pipe(stream),
      (err: Error) => stream.destroy(err),
    );
    return stream;
  }
}

/** The data root's filesystem, named as dockerd names it in `docker info`. */
function backingFilesystem(dir: string): string {
  const names: Record<number, string> = { 0xef53: 'extfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x01021994: 'tmpfs', 0x2fc12fc1: 'zfs', 0x794c7630: 'overlayfs' };
  try {
    return names[statfsSync(dir).type] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readFileSafe(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
