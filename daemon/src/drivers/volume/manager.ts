// VolumeManager: the volumes (through the local driver) and each container's mounts. A container's
// mount points are kept in <data-root>/volumes/.containers/<id>.json so inspect, --volumes-from
// and rm -v work without the container layer knowing volumes.
import { mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { invalidParameter, notFound, systemError } from '../../errors';
import type { Logger } from '../../log';
import { run } from '../graph/mounts';
import { LocalVolumes, directorySize } from './local';
import { parseVolumesFrom, planMounts } from './mount-plan';
import type { ContainerVolumeSpec, MountPoint, SpecMount, VolumeDriver, VolumeRecord, VolumeView } from './volume-driver';
import { writeFileAtomicSync } from '../../atomic-file';

export interface VolumeManagerOptions {
  dataRoot: string;
  log: Logger;
  /** Where volume events go (the Engine's event bus). */
  publish?: (action: string, volume: string, attributes: Record<string, string>) => void;
}

export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}


export class VolumeManager implements VolumeDriver {
  readonly local: LocalVolumes;
  private readonly plansDir: string;
  private readonly plans = new Map<string, MountPoint[]>();

  constructor(private readonly options: VolumeManagerOptions) {
    this.local = new LocalVolumes(path.join(options.dataRoot, 'volumes'));
    this.plansDir = path.join(options.dataRoot, 'volumes', '.containers');
    mkdirSync(this.plansDir, { recursive: true, mode: 0o700 });
    for (const f of readdirSync(this.plansDir)) {
      if (!f.endsWith('.json')) continue;
      try {
        this.plans.set(f.slice(0, -5), JSON.parse(readFileSync(path.join(this.plansDir, f), 'utf8')) as MountPoint[]);
      } catch {
        // Unreadable: the container has no recorded mounts.
      }
    }
  }

  private publish(action: string, volume: string, attributes: Record<string, string> = {}): void {
    this.options.publish?.(action, volume, { driver: 'local', ...attributes });
  }

  // ---- volumes ----

  list(): VolumeRecord[] {
    return this.local.list();
  }

  view(name: string): VolumeView {
    return this.local.view(this.local.get(name));
  }

  create(req: VolumeCreateRequest): VolumeView {
    const driver = req.Driver || 'local';
    if (driver !== 'local') throw notFound(`plugin "${driver}" not found`);
    const { volume, created } = this.local.create(req.Name || undefined, req.DriverOpts ?? {}, req.Labels ?? {}, false);
    if (created) this.publish('create', volume.Name);
    return this.local.view(volume);
  }

  /** (VolumeDriver) At container rm. Volumes themselves go with removeVolume. */
  async remove(containerId: string, removeAnonymous: boolean): Promise<void> {
    const points = this.plans.get(containerId) ?? [];
    for (const p of points) {
      if (p.Type !== 'volume' || !p.Name) continue;
      this.local.dereference(p.Name, containerId);
      const v = this.local.has(p.Name) ? this.local.get(p.Name) : undefined;
      if (removeAnonymous && v?.Anonymous && v.refs.length === 0) {
        try {
          this.local.remove(p.Name);
          this.publish('destroy', p.Name);
        } catch (err) {
          this.options.log.warn('could not remove an anonymous volume', { volume: p.Name, error: err });
        }
      }
    }
    this.plans.delete(containerId);
    rmSync(path.join(this.plansDir, `${containerId}.json`), { force: true });
  }

  removeVolume(name: string, force = false): void {
    const existed = this.local.has(name);
    this.local.remove(name, force);
    if (existed) this.publish('destroy', name);
  }

  /** Removes unused volumes (anonymous only unless `all`, as dockerd ≥ 23) that `keep` does not keep. */
  async prune(all: boolean, keep: (v: VolumeRecord) => boolean): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of this.local.list()) {
      if (v.refs.length > 0 || (!all && !v.Anonymous) || keep(v)) continue;
      const size = await directorySize(this.local.dataPath(v.Name));
      try {
        this.removeVolume(v.Name);
        deleted.push(v.Name);
        reclaimed += size;
      } catch (err) {
        this.options.log.warn('volume prune: could not remove', { volume: v.Name, error: err });
      }
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  /** Volumes with their sizes and reference counts (`docker system df`). */
  async usage(): Promise<VolumeView[]> {
    const out: VolumeView[] = [];
    for (const v of this.local.list()) {
      out.push({ ...this.local.view(v), UsageData: { Size: await directorySize(this.local.dataPath(v.Name)), RefCount: v.refs.length } });
    }
    return out;
  }

  // ---- containers ----

  async register(spec: ContainerVolumeSpec, resolveContainer: (ref: string) => string): Promise<MountPoint[]> {
    const hc = spec.hostConfig;
    const volumesFrom = (hc.VolumesFrom ?? []).map((s) => {
      const { ref, mode } = parseVolumesFrom(s);
      const id = resolveContainer(ref);
      return { points: this.plans.get(id) ?? [], mode };
    });
    const planned = planMounts({
      binds: hc.Binds ?? [],
      mounts: (hc.Mounts ?? []) as never[],
      imageVolumes: Object.keys(spec.volumes ?? {}),
      volumesFrom,
    });
    const created: string[] = [];
    const points: MountPoint[] = [];
    try {
      for (const p of planned) {
        const { volumeLabels, volumeOptions, ...point } = p;
        if (point.Type === 'volume') {
          const anonymous = !point.Name;
          const r = this.local.create(point.Name || undefined, volumeOptions ?? {}, volumeLabels ?? {}, anonymous);
          if (r.created) {
            created.push(r.volume.Name);
            this.publish('create', r.volume.Name);
          }
          point.Name = r.volume.Name;
          point.Source = this.local.dataPath(r.volume.Name);
          this.local.reference(r.volume.Name, spec.id);
        } else if (point.Type === 'bind' && !existsSync(point.Source)) {
          // dockerd creates a missing -v host directory (not for --mount, checked in parseMount).
          mkdirSync(point.Source, { recursive: true });
        }
        points.push(point);
      }
    } catch (err) {
      for (const p of points) if (p.Name) this.local.dereference(p.Name, spec.id);
      for (const name of created) this.local.remove(name, true);
      throw err;
    }
    this.plans.set(spec.id, points);
    writeFileAtomicSync(path.join(this.plansDir, `${spec.id}.json`), JSON.stringify(points));
    return points;
  }

  mounts(containerId: string): MountPoint[] {
    // Internal fields (copyImageData, tmpfsOptions) are not part of the API's MountPoint.
    return (this.plans.get(containerId) ?? []).map((p) => ({ Type: p.Type, ...(p.Name ? { Name: p.Name } : {}), Source: p.Source, Destination: p.Destination, ...(p.Driver ? { Driver: p.Driver } : {}), Mode: p.Mode, RW: p.RW, Propagation: p.Propagation }));
  }

  async prepare(containerId: string, rootfs: string): Promise<SpecMount[]> {
    const points = this.plans.get(containerId) ?? [];
    const out: SpecMount[] = [];
    const mounted: string[] = [];
    try {
      for (const p of points) {
        const ro = p.RW ? 'rw' : 'ro';
        if (p.Type === 'tmpfs') {
          out.push({ destination: p.Destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...(p.tmpfsOptions ?? []), ro] });
          continue;
        }
        let source = p.Source;
        if (p.Type === 'volume' && p.Name) {
          source = await this.local.mount(p.Name, containerId);
          mounted.push(p.Name);
          if (p.copyImageData && this.local.isEmpty(p.Name)) await copyImageData(rootfs, p.Destination, source);
          this.publish('mount', p.Name, { container: containerId, destination: p.Destination, 'read/write': String(p.RW), propagation: p.Propagation });
        }
        out.push({ destination: p.Destination, type: 'bind', source, options: ['rbind', ro, p.Propagation || 'rprivate'] });
      }
    } catch (err) {
      for (const name of mounted) await this.local.unmount(name, containerId).catch(() => undefined);
      throw err;
    }
    return out;
  }

  async release(containerId: string): Promise<void> {
    for (const p of this.plans.get(containerId) ?? []) {
      if (p.Type !== 'volume' || !p.Name) continue;
      await this.local.unmount(p.Name, containerId);
      this.publish('unmount', p.Name, { container: containerId });
    }
  }

  async shutdown(): Promise<void> {
    await this.local.unmountAll();
  }
}

/**
 * Fills a new volume with what the image has at `destination`, as dockerd does for a volume that
 * is empty when first mounted. The image path is resolved inside the rootfs (no escape by symlink).
 */
async function copyImageData(rootfs: string, destination: string, target: string): Promise<void> {
  const inRoot = path.join(rootfs, destination);
  if (!existsSync(inRoot)) return;
  let real: string;
  try {
    real = realpathSync(inRoot);
  } catch {
    return;
  }
  const root = realpathSync(rootfs);
  if (real !== root && !real.startsWith(root + path.sep)) throw invalidParameter(`the image's ${destination} points outside the container's root filesystem`);
  if (!lstatSync(real).isDirectory()) return;
  const r = await run('cp', ['-a', `${real}/.`, `${target}/`]);
  if (r.code !== 0) throw systemError(`error copying the image's ${destination} into its volume: ${r.stderr}`);
}
