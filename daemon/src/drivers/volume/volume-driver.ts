// The volumedriver: named and anonymous volumes (the local driver), and the mounts of a container
// (binds, volumes, tmpfs, --volumes-from) as the container layer asks for them at create, start,
// stop and remove. The implementation is VolumeManager (manager.ts) over LocalVolumes (local.ts).
import type { HostConfig } from '../../container/types';

/** A volume's record on disk (<data-root>/volumes/<name>/volume.json). */
export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  CreatedAt: string;
  Labels: Record<string, string>;
  /** The local driver's options: type, device, o (and size for tmpfs). */
  Options: Record<string, string>;
  /** Created for an image VOLUME or `-v /path`: removed with the container by `rm -v`/`--rm`. */
  Anonymous: boolean;
  /** Containers that refer to it (created, running or stopped): it cannot be removed meanwhile. */
  refs: string[];
}

/** The Engine API's Volume. */
export interface VolumeView {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: Record<string, string> | null;
  Status?: Record<string, string>;
  UsageData?: { Size: number; RefCount: number } | null;
}

/** A container's mount as inspect shows it (MountPoint in the API). */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** The volume's name (volumes only). */
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** Copy the image's content at Destination into a new empty volume (not with nocopy). */
  copyImageData?: boolean;
  /** tmpfs size and mode. */
  tmpfsOptions?: string[];
}

/** What the OCI spec gets: the same shape as drivers/exec's OciMount. */
export interface SpecMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface ContainerVolumeSpec {
  id: string;
  hostConfig: HostConfig;
  /** The image's and the request's Config.Volumes: anonymous volumes at these paths. */
  volumes?: Record<string, unknown> | null;
}

export interface VolumeDriver {
  /**
   * At create: parses -v, --mount, the image's VOLUMEs and --volumes-from, creates the named
   * volumes that do not exist yet and the anonymous ones, and takes a reference on each. Returns the
   * mount points (inspect's Mounts). A bad spec is a 400 with dockerd's words.
   */
  register(spec: ContainerVolumeSpec, resolveContainer: (ref: string) => string): Promise<MountPoint[]>;
  /**
   * At start: mounts what the local driver must (type/device options), fills new volumes from the
   * image at `rootfs`, and returns the mounts for the OCI spec.
   */
  prepare(containerId: string, rootfs: string): Promise<SpecMount[]>;
  /** After the container's process exits. */
  release(containerId: string): Promise<void>;
  /** At rm: drops its references; `removeAnonymous` (rm -v, --rm) removes its anonymous volumes. */
  remove(containerId: string, removeAnonymous: boolean): Promise<void>;
  /** inspect's Mounts. */
  mounts(containerId: string): MountPoint[];
}
