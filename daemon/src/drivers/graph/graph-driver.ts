// The graphdriver interface: how layers sit on disk and how a container's root filesystem is made
// of them (the image's layers read-only, one writable layer on top). overlay.ts and vfs.ts
// implement it; the layer store chooses one by the `storage-driver` setting.
import type { Readable } from 'node:stream';
import type { Hasher } from './extract';

/** A change in a container's writable layer, as `GET /containers/{id}/changes` reports it. */
export interface Change {
  Path: string;
  /** 0: modified, 1: added, 2: deleted (dockerd's ChangeType). */
  Kind: 0 | 1 | 2;
}

export interface AppliedLayer {
  /** Bytes of regular files the layer holds. */
  size: number;
  /** sha256 of the uncompressed tar stream that was applied. */
  diffId: string;
}

/** What one layer changed against the layers below it (paths relative to the root). */
export interface LayerDelta {
  touched: Set<string>;
  removed: Set<string>;
}

export interface PreparedRootfs {
  /** Where the container's root filesystem appears once mounted. */
  rootfs: string;
  /** The writable layer: what the container changed (overlay's upperdir; vfs: the rootfs itself). */
  upper: string;
}

/** A layer unpacked before its id is known (overlay unpacks without its parent on disk). */
export interface StagedLayer extends AppliedLayer {
  dir: string;
}

export interface GraphDriver {
  /** "overlay2" or "vfs", as `docker info` shows it. */
  readonly name: string;
  /** `docker info`'s DriverStatus. */
  status(): [string, string][];
  /** GraphDriver.Data of `docker inspect` for an image (by its top layer) or a container. */
  metadata(id: string, kind: 'layer' | 'container', parent?: string): Record<string, string>;

  /**
   * Unpacks a layer tar into a new layer `id` on top of `parent`. The layer becomes visible only
   * when this resolves; on failure nothing of it is left. Hostile archives are refused (400).
   */
  applyLayer(id: string, parent: string | undefined, tar: Readable, signal?: AbortSignal): Promise<AppliedLayer>;
  hasLayer(id: string): boolean;
  /**
   * Drivers whose layers need no parent on disk to unpack (overlay) can unpack a tar while it
   * streams in, before the image's manifest names its place in a chain; vfs cannot.
   */
  stageLayer?(tar: Readable, signal?: AbortSignal, hasher?: Hasher): Promise<StagedLayer>;
  /** Makes a staged layer the layer `id` over `parent`; false when `id` was already there (the staged copy is dropped). */
  commitStaged?(staged: StagedLayer, id: string, parent: string | undefined): Promise<boolean>;
  discardStaged?(staged: StagedLayer): Promise<void>;
  removeLayer(id: string): Promise<void>;
  /** The directory holding a layer's own files (overlay: its diff; vfs: its full tree). */
  layerDir(id: string): string;
  /**
   * What the layer itself changed, for drivers whose layer directories hold full trees (vfs);
   * overlay's layer directories are that delta already.
   */
  layerDelta?(id: string): Promise<LayerDelta | undefined>;
  /** Ids of every layer on disk (for garbage collection after a crash). */
  listLayers(): Promise<string[]>;

  /**
   * Creates a container's writable layer over the image layer `parent` (undefined: an empty rootfs).
   * Idempotent. Does not mount: `mount` does, at container start.
   */
  prepare(containerId: string, parent: string | undefined): Promise<PreparedRootfs>;
  /** Mounts (overlay) the container's rootfs and returns its path; idempotent. */
  mount(containerId: string): Promise<string>;
  unmount(containerId: string): Promise<void>;
  /** Unmounts and deletes the container's writable layer. */
  remove(containerId: string): Promise<void>;
  /** Containers that have a writable layer on disk. */
  listContainers(): Promise<string[]>;
  /** The image layer a container's writable layer sits on (kept by garbage collection). */
  containerParent(containerId: string): string | undefined;
  /** What the container changed against its image. */
  changes(containerId: string): Promise<Change[]>;
  /** The container's changes as a layer tar (whiteouts as `.wh.` entries), for commit. */
  diff(containerId: string): Readable;
}
