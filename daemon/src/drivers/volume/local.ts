// The local volume driver: a volume is <data-root>/volumes/<name>/_data, with its record beside
// it in volume.json (written atomically). With the options type/device/o it is a mount instead
// (tmpfs, a bind of a host directory, a block device) made when a container first needs it and
// undone when the last one stops, as dockerd's local driver does.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { conflict, invalidParameter, notFound, systemError } from '../../errors';
import { isMounted, run, unmount } from '../graph/mounts';
import type { VolumeRecord, VolumeView } from './volume-driver';
import { writeFileAtomicSync } from '../../atomic-file';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const OPTION_KEYS = ['type', 'device', 'o', 'size'];


export function validateVolumeName(name: string): void {
  if (!NAME.test(name)) {
    throw invalidParameter(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

function validateOptions(name: string, opts: Record<string, string>): void {
  for (const key of Object.keys(opts)) {
    if (!OPTION_KEYS.includes(key)) throw invalidParameter(`create ${name}: invalid option key: "${key}"`);
  }
  const bind = (opts.o ?? '').split(',').includes('bind');
  if (opts.device && !opts.type && !bind) throw invalidParameter(`create ${name}: missing "type" option`);
  if (opts.type && opts.type !== 'tmpfs' && !opts.device) throw invalidParameter(`create ${name}: missing "device" option`);
  if (bind && opts.device && !existsSync(opts.device)) throw invalidParameter(`create ${name}: failed to mount local volume: mount ${opts.device}: no such file or directory`);
  if (opts.size && opts.type !== 'tmpfs') throw invalidParameter(`create ${name}: quota size requested but no quota support`);
}

/** Bytes of regular files and symlinks below `dir` (what `docker system df -v` shows). */
export async function directorySize(dir: string): Promise<number> {
  let total = 0;
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const p = path.join(dir, entry);
    const st = await lstat(p).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) total += await directorySize(p);
    else total += st.size;
  }
  return total;
}

export class LocalVolumes {
  private readonly volumes = new Map<string, VolumeRecord>();
  /** Volume → containers that have it mounted now (for option volumes: mount on first, unmount on last). */
  private readonly active = new Map<string, Set<string>>();

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true, mode: 0o701 });
    for (const name of readdirSync(root)) {
      try {
        this.volumes.set(name, JSON.parse(readFileSync(this.recordFile(name), 'utf8')) as VolumeRecord);
      } catch {
        // Not a volume (or a half-created one whose record never landed).
      }
    }
  }

  private recordFile(name: string): string {
    return path.join(this.root, name, 'volume.json');
  }

  dataPath(name: string): string {
    return path.join(this.root, name, '_data');
  }

  private save(v: VolumeRecord): void {
    writeFileAtomicSync(this.recordFile(v.Name), JSON.stringify(v, null, 1));
    this.volumes.set(v.Name, v);
  }

  list(): VolumeRecord[] {
    return [...this.volumes.values()];
  }

  has(name: string): boolean {
    return this.volumes.has(name);
  }

  get(name: string): VolumeRecord {
    const v = this.volumes.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  view(v: VolumeRecord): VolumeView {
    return {
      Name: v.Name,
      Driver: v.Driver,
      Mountpoint: this.dataPath(v.Name),
      CreatedAt: v.CreatedAt,
      Labels: v.Labels,
      Scope: 'local',
      Options: Object.keys(v.Options).length > 0 ? v.Options : null,
    };
  }

  /**
   * Creates the volume, or returns the existing one of that name (dockerd's create is idempotent
   * for the same driver). `created` says which.
   */
  create(name: string | undefined, options: Record<string, string> = {}, labels: Record<string, string> = {}, anonymous = false): { volume: VolumeRecord; created: boolean } {
    const volumeName = name || randomBytes(32).toString('hex');
    validateVolumeName(volumeName);
    const existing = this.volumes.get(volumeName);
    if (existing) return { volume: existing, created: false };
    validateOptions(volumeName, options);
    mkdirSync(this.dataPath(volumeName), { recursive: true, mode: 0o755 });
    const volume: VolumeRecord = { Name: volumeName, Driver: 'local', CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), Labels: labels, Options: options, Anonymous: anonymous, refs: [] };
    this.save(volume);
    return { volume, created: true };
  }

  remove(name: string, force = false): void {
    const v = this.volumes.get(name);
    if (!v) {
      if (force) return;
      throw notFound(`get ${name}: no such volume`);
    }
    if (v.refs.length > 0) throw conflict(`remove ${name}: volume is in use - [${v.refs.join(', ')}]`);
    if (isMounted(this.dataPath(name))) throw conflict(`remove ${name}: volume is mounted`);
    rmSync(path.join(this.root, name), { recursive: true, force: true });
    this.volumes.delete(name);
  }

  reference(name: string, containerId: string): void {
    const v = this.get(name);
    if (!v.refs.includes(containerId)) {
      v.refs.push(containerId);
      this.save(v);
    }
  }

  dereference(name: string, containerId: string): void {
    const v = this.volumes.get(name);
    if (v && v.refs.includes(containerId)) {
      v.refs = v.refs.filter((r) => r !== containerId);
      this.save(v);
    }
  }

  /** Makes the volume's data available to `holder` and returns its path. */
  async mount(name: string, holder: string): Promise<string> {
    const v = this.get(name);
    const target = this.dataPath(name);
    const holders = this.active.get(name) ?? new Set<string>();
    if (Object.keys(v.Options).length > 0 && holders.size === 0 && !isMounted(target)) {
      const o = v.Options;
      const flags = [o.o, o.size ? `size=${o.size}` : ''].filter(Boolean).join(',');
      const args = [...(o.type ? ['-t', o.type] : []), ...(flags ? ['-o', flags] : []), o.device || o.type || 'none', target];
      const r = await run('mount', args);
      if (r.code !== 0) throw systemError(`error while mounting volume '${target}': failed to mount local volume: ${r.stderr}`);
    }
    holders.add(holder);
    this.active.set(name, holders);
    return target;
  }

  async unmount(name: string, holder: string): Promise<void> {
    const holders = this.active.get(name);
    holders?.delete(holder);
    if (holders && holders.size > 0) return;
    this.active.delete(name);
    const v = this.volumes.get(name);
    if (v && Object.keys(v.Options).length > 0) await unmount(this.dataPath(name));
  }

  /** Whether the volume's directory holds nothing yet (a new volume is filled from the image). */
  isEmpty(name: string): boolean {
    const dir = this.dataPath(name);
    return statSync(dir).isDirectory() && readdirSync(dir).length === 0;
  }

  async unmountAll(): Promise<void> {
    for (const name of [...this.active.keys()]) {
      this.active.get(name)?.clear();
      await this.unmount(name, '');
    }
  }
}
