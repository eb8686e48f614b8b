// The vfs graphdriver: every layer and every container is a full copy of the tree below it. Slow
// and large, but it works on any filesystem, which makes it the fallback where overlay cannot
// mount (a data root on overlayfs, a kernel without it).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { AppliedLayer, Change, GraphDriver, LayerDelta, PreparedRootfs } from './graph-driver';
import { extractLayer } from './extract';
import { packChanges, treeChanges } from './changes';
import { run } from './mounts';
import { removeDirByRename } from './remove-dir';
import { notFound, systemError } from '../../errors';

/** Copies a tree with owners, modes, times, xattrs, devices and hardlinks (reflinks where the filesystem can). */
async function copyTree(from: string, to: string): Promise<void> {
  const r = await run('cp', ['-a', '--reflink=auto', '--', `${from}/.`, to]);
  if (r.code !== 0) throw systemError(`copying layer ${from} failed: ${r.stderr}`);
}

function readFileSafe(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export class VfsDriver implements GraphDriver {
  readonly name = 'vfs';

  constructor(readonly home: string) {
    mkdirSync(path.join(home, 'containers'), { recursive: true, mode: 0o700 });
    for (const name of readdirSync(home)) if (name.startsWith('tmp-')) rmSync(path.join(home, name), { recursive: true, force: true });
  }

  status(): [string, string][] {
    return [];
  }

  metadata(): Record<string, string> {
    return {};
  }

  layerDir(id: string): string {
    return path.join(this.home, id, 'root');
  }

  hasLayer(id: string): boolean {
    return existsSync(this.layerDir(id));
  }

  async applyLayer(id: string, parent: string | undefined, tar: Readable, signal?: AbortSignal): Promise<AppliedLayer> {
    if (parent && !this.hasLayer(parent)) throw notFound(`parent layer ${parent} does not exist`);
    const staging = path.join(this.home, `tmp-${randomBytes(8).toString('hex')}`);
    await mkdir(path.join(staging, 'root'), { recursive: true, mode: 0o755 });
    try {
      if (parent) await copyTree(this.layerDir(parent), path.join(staging, 'root'));
      const result = await extractLayer(tar, path.join(staging, 'root'), 'delete', signal);
      if (parent) await writeFile(path.join(staging, 'parent'), parent);
      // A full copy does not show what this layer changed: keep that for the image browser.
      await writeFile(path.join(staging, 'delta.json'), JSON.stringify({ touched: result.touched, removed: result.removed }));
      try {
        await rename(staging, path.join(this.home, id));
      } catch (err) {
        if (!this.hasLayer(id)) throw err;
        await rm(staging, { recursive: true, force: true });
      }
      return { size: result.size, diffId: result.diffId };
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
  }

  async layerDelta(id: string): Promise<LayerDelta | undefined> {
    try {
      const d = JSON.parse(await readFile(path.join(this.home, id, 'delta.json'), 'utf8')) as { touched: string[]; removed: string[] };
      return { touched: new Set(d.touched), removed: new Set(d.removed) };
    } catch {
      return undefined;
    }
  }

  async removeLayer(id: string): Promise<void> {
    await removeDirByRename(this.home, id);
  }

  async listLayers(): Promise<string[]> {
    return (await readdir(this.home)).filter((n) => /^[a-f0-9]{64}$/.test(n));
  }

  private containerDir(id: string): string {
    return path.join(this.home, 'containers', id);
  }

  async prepare(containerId: string, parent: string | undefined): Promise<PreparedRootfs> {
    const dir = this.containerDir(containerId);
    const rootfs = path.join(dir, 'rootfs');
    if (!existsSync(rootfs)) {
      if (parent && !this.hasLayer(parent)) throw notFound(`layer ${parent} does not exist`);
      const staging = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
      await mkdir(path.join(staging, 'rootfs'), { recursive: true, mode: 0o755 });
      if (parent) await copyTree(this.layerDir(parent), path.join(staging, 'rootfs'));
      await writeFile(path.join(staging, 'parent'), parent ?? '');
      await rename(staging, dir);
    }
    return { rootfs, upper: rootfs };
  }

  async mount(containerId: string): Promise<string> {
    const rootfs = path.join(this.containerDir(containerId), 'rootfs');
    if (!existsSync(rootfs)) throw notFound(`no root filesystem for container ${containerId}: it was never prepared`);
    return rootfs;
  }

  async unmount(): Promise<void> {
    // Nothing is mounted: the rootfs is a plain directory.
  }

  async remove(containerId: string): Promise<void> {
    await rm(this.containerDir(containerId), { recursive: true, force: true });
  }

  async listContainers(): Promise<string[]> {
    return (await readdir(path.join(this.home, 'containers'))).filter((n) => !n.includes('.tmp-'));
  }

  containerParent(containerId: string): string | undefined {
    return readFileSafe(path.join(this.containerDir(containerId), 'parent'));
  }

  async changes(containerId: string): Promise<Change[]> {
    const parent = this.containerParent(containerId);
    return treeChanges(path.join(this.containerDir(containerId), 'rootfs'), parent ? this.layerDir(parent) : undefined);
  }

  diff(containerId: string): Readable {
    const stream = new PassThrough();
    this.changes(containerId).then(
      (changes) => packChanges(path.join(this.containerDir(containerId), 'rootfs'), changes).pipe(stream),
      (err: Error) => stream.destroy(err),
    );
    return stream;
  }
}
