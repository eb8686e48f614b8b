// The graph's interfaces, in one place: the content store (blobs by digest, containerd's shape),
// images, references and layers. Implementations live beside this file; other components (the
// container store, distribution) depend on these interfaces only.
import type { Readable } from 'node:stream';
import type { GraphDriver } from '../drivers/graph/graph-driver';

/** "sha256:<64 hex>". */
export type Digest = string;

export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** Reads committed blobs. */
export interface Provider {
  info(digest: Digest): Promise<BlobInfo | undefined>;
  /** A stream of the blob's bytes; fails with a 404 EngineError when the blob is absent. */
  reader(digest: Digest): Readable;
  /** The blob's file, for readers that want random access (extraction, save). */
  path(digest: Digest): string;
}

/**
 * One blob being written. Nothing is visible until `commit` succeeds: the bytes go to a private
 * temporary file, `commit` checks the size and digest, fsyncs and renames into place.
 */
export interface Writer {
  write(chunk: Buffer): Promise<void>;
  /** Bytes written so far. */
  readonly offset: number;
  /** The digest of the bytes written so far. */
  digest(): Digest;
  /** Makes the blob visible; throws (and discards it) when `expected` size or digest do not match. */
  commit(expected?: { size?: number; digest?: Digest }): Promise<BlobInfo>;
  /** Discards the blob. */
  abort(): Promise<void>;
}

export interface Ingester {
  writer(): Promise<Writer>;
}

/** Content is deleted only by the graph's garbage collection: whatever no image refers to. */
export interface ContentStore extends Provider, Ingester {
  list(): Promise<BlobInfo[]>;
  delete(digest: Digest): Promise<void>;
}

/** An image: its config (by digest, which is the image id) and its layers' blobs. */
export interface ImageRecord {
  /** The config's digest: the image id. */
  id: Digest;
  /** The uncompressed layer tar blobs, bottom first; their digests are the config's diff ids. */
  layers: Digest[];
  /** The chain id of the top layer (undefined for an image without layers). */
  chainId?: Digest;
  /** When the image was last tagged (Metadata.LastTagTime), ISO 8601. */
  lastTagTime?: string;
  /** repo@digest names of the registry manifests it was pulled by (RepoDigests). */
  repoDigests?: string[];
  /** Manifest blobs kept for the image (an OCI layout it was loaded from, a pull). */
  manifests?: Digest[];
  /**
   * The image this one was committed on (dockerd's Parent): set by the builder's steps and by
   * POST /commit. Untagged parents are build intermediates, hidden from the list and kept by prune.
   */
  parent?: Digest;
}

export interface ImageStore {
  get(id: Digest): ImageRecord | undefined;
  list(): ImageRecord[];
  /** The image's parsed config (the OCI/docker image config JSON). */
  config(id: Digest): Promise<ImageConfig>;
  put(record: ImageRecord): Promise<void>;
  delete(id: Digest): Promise<void>;
}

/** A normalised reference: docker.io/library/busybox:latest or name@sha256:… */
export interface Reference {
  /** Full repository name: "docker.io/library/busybox". */
  name: string;
  tag?: string;
  digest?: Digest;
  /** What `docker images` shows: "busybox", "localhost:5000/x". */
  familiarName: string;
  /** familiarName:tag or familiarName@digest. */
  familiar: string;
  /** name:tag or name@digest. */
  full: string;
}

export interface ReferenceStore {
  /** The image id a reference points to. */
  get(ref: Reference): Digest | undefined;
  /** Points `ref` at `id`, replacing what it pointed to. */
  add(ref: Reference, id: Digest): Promise<void>;
  remove(ref: Reference): Promise<void>;
  /** Every reference to an image, tags and digests. */
  referencesOf(id: Digest): Reference[];
  all(): { ref: Reference; id: Digest }[];
}

export interface LayerInfo {
  chainId: Digest;
  diffId: Digest;
  parent?: Digest;
  /** Bytes of the unpacked layer's regular files. */
  size: number;
  /** Set when the layer's tar is rebuilt from a tar-split record (no blob kept): its length. */
  tarSize?: number;
}

export interface LayerStore {
  readonly driver: GraphDriver;
  get(chainId: Digest): LayerInfo | undefined;
  /** Unpacks a layer (an uncompressed, gzip or zstd tar) onto its parent; returns the existing layer when it is already there. */
  register(tar: Readable, parent: Digest | undefined, expectedDiffId?: Digest): Promise<LayerInfo>;
  /** The layers of a chain, bottom first. */
  chain(chainId: Digest): LayerInfo[];
}

/** The subset of the image config the engine reads; unknown keys are kept as they are. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  author?: string;
  comment?: string;
  docker_version?: string;
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: HistoryEntry[];
  [key: string]: unknown;
}

export interface ContainerConfig {
  User?: string;
  Env?: string[];
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
  OnBuild?: string[] | null;
  Healthcheck?: unknown;
  [key: string]: unknown;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/**
 * What the container component tells the graph about its use of images, so that removing an
 * image that a container uses is refused (409) and GC keeps container layers.
 */
export interface ImageUsers {
  /** Containers created from the image, with whether each runs. */
  containersUsing(imageId: Digest): { id: string; running: boolean }[];
}
