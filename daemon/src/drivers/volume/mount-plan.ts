// A container's mounts from what the client sent: `-v` (HostConfig.Binds), `--mount`
// (HostConfig.Mounts), the image's VOLUMEs and `--volumes-from`, merged by destination as dockerd
// merges them (volumes-from first, then binds and mounts, then image volumes fill the rest).
import path from 'node:path';
import { existsSync } from 'node:fs';
import { invalidParameter } from '../../errors';
import type { MountPoint } from './volume-driver';

const PROPAGATION = ['shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate'];

/** A mount still to be resolved: for volumes `Name` may be empty (anonymous). */
export interface PlannedMount extends MountPoint {
  /** The volume must be created with these (a --mount volume's labels and driver options). */
  volumeLabels?: Record<string, string>;
  volumeOptions?: Record<string, string>;
}

function checkDestination(spec: string, dest: string): string {
  if (!dest || !path.posix.isAbsolute(dest)) throw invalidParameter(`invalid mount config for type "volume": invalid mount path: '${dest}' mount path must be absolute`);
  if (dest === '/') throw invalidParameter(`invalid volume specification: '${spec}': invalid mount config: destination can't be '/'`);
  return path.posix.normalize(dest);
}

/** One `-v` spec: `src:dst[:opts]` where src is an absolute host path or a volume name. */
export function parseBind(spec: string): PlannedMount {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) throw invalidParameter(`invalid volume specification: '${spec}'`);
  const [source, rawDest, mode = ''] = parts as [string, string, string?];
  const dest = checkDestination(spec, rawDest);
  const flags = mode ? mode.split(',') : [];
  for (const f of flags) {
    if (!['ro', 'rw', 'z', 'Z', 'nocopy', ...PROPAGATION].includes(f)) throw invalidParameter(`invalid mode: ${mode}`);
  }
  const rw = !flags.includes('ro');
  const propagation = flags.find((f) => PROPAGATION.includes(f)) ?? '';
  if (path.isAbsolute(source)) {
    return { Type: 'bind', Source: path.normalize(source), Destination: dest, Mode: mode, RW: rw, Propagation: propagation || 'rprivate' };
  }
  if (propagation) throw invalidParameter(`invalid volume specification: '${spec}': propagation mode is only valid for bind mounts`);
  return { Type: 'volume', Name: source, Source: '', Destination: dest, Driver: 'local', Mode: mode || 'z', RW: rw, Propagation: '', copyImageData: !flags.includes('nocopy') };
}

/** HostConfig.Mounts entries (`--mount type=…`). */
export interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; CreateMountpoint?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> } | null; Subpath?: string } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number } | null;
}

export function parseMount(m: ApiMount): PlannedMount {
  const type = m.Type ?? '';
  const target = m.Target ?? '';
  if (!target || !path.posix.isAbsolute(target)) throw invalidParameter(`invalid mount config for type "${type}": invalid mount path: '${target}' mount path must be absolute`);
  const dest = path.posix.normalize(target);
  const rw = m.ReadOnly !== true;
  switch (type) {
    case 'bind': {
      if (!m.Source) throw invalidParameter('invalid mount config for type "bind": field Source must not be empty');
      if (!existsSync(m.Source) && !m.BindOptions?.CreateMountpoint) throw invalidParameter(`invalid mount config for type "bind": bind source path does not exist: ${m.Source}`);
      const propagation = m.BindOptions?.Propagation || 'rprivate';
      if (!PROPAGATION.includes(propagation)) throw invalidParameter(`invalid mount config for type "bind": invalid propagation mode: ${propagation}`);
      return { Type: 'bind', Source: path.normalize(m.Source), Destination: dest, Mode: '', RW: rw, Propagation: propagation };
    }
    case 'volume': {
      const driver = m.VolumeOptions?.DriverConfig?.Name || 'local';
      if (driver !== 'local') throw invalidParameter(`invalid mount config for type "volume": volume driver "${driver}" is not available: berthd has the local driver only`);
      if (m.Source && path.isAbsolute(m.Source)) throw invalidParameter(`invalid mount config for type "volume": invalid volume name: "${m.Source}": use type=bind for host paths`);
      return {
        Type: 'volume', Name: m.Source ?? '', Source: '', Destination: dest, Driver: 'local', Mode: 'z', RW: rw, Propagation: '',
        copyImageData: m.VolumeOptions?.NoCopy !== true, volumeLabels: m.VolumeOptions?.Labels, volumeOptions: m.VolumeOptions?.DriverConfig?.Options,
      };
    }
    case 'tmpfs': {
      if (m.Source) throw invalidParameter('invalid mount config for type "tmpfs": field Source must not be specified');
      const options: string[] = [];
      if (m.TmpfsOptions?.SizeBytes) options.push(`size=${m.TmpfsOptions.SizeBytes}`);
      if (m.TmpfsOptions?.Mode) options.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
      return { Type: 'tmpfs', Source: '', Destination: dest, Mode: '', RW: rw, Propagation: '', tmpfsOptions: options };
    }
    default:
      throw invalidParameter(`invalid mount config: mount type unknown: "${type}"`);
  }
}

export interface PlanInput {
  binds: string[];
  mounts: ApiMount[];
  /** Config.Volumes: anonymous volumes at these paths unless something else is mounted there. */
  imageVolumes: string[];
  /** The mount points of each --volumes-from container, with its mode (ro|rw|''). */
  volumesFrom: { points: MountPoint[]; mode: string }[];
}

export function planMounts(input: PlanInput): PlannedMount[] {
  const byDest = new Map<string, PlannedMount>();
  for (const { points, mode } of input.volumesFrom) {
    for (const p of points) {
      if (p.Type === 'tmpfs') continue;
      byDest.set(p.Destination, { ...p, RW: mode === 'ro' ? false : mode === 'rw' ? true : p.RW, copyImageData: false });
    }
  }
  const explicit = new Set<string>();
  for (const planned of [...input.binds.map(parseBind), ...input.mounts.map(parseMount)]) {
    if (explicit.has(planned.Destination)) throw invalidParameter(`Duplicate mount point: ${planned.Destination}`);
    explicit.add(planned.Destination);
    byDest.set(planned.Destination, planned);
  }
  for (const dest of input.imageVolumes) {
    const d = checkDestination(dest, dest);
    if (!byDest.has(d)) byDest.set(d, { Type: 'volume', Name: '', Source: '', Destination: d, Driver: 'local', Mode: '', RW: true, Propagation: '', copyImageData: true });
  }
  return [...byDest.values()];
}

/** `--volumes-from id[:ro|rw]`. */
export function parseVolumesFrom(spec: string): { ref: string; mode: string } {
  const [ref, mode = ''] = spec.split(':');
  if (!ref || !['', 'ro', 'rw'].includes(mode)) throw invalidParameter(`invalid --volumes-from specification: '${spec}'`);
  return { ref, mode };
}
