// What the builder asks of the rest of berthd, in a handful of verbs (moby's builder.Backend):
// images by name, a writable root filesystem over an image, a command run in it, its changes
// committed as a new image, tags, and the build cache's index. graph-backend.ts implements it
// over the graph and the container component's jobs.
import type { Writable } from 'node:stream';
import type { ContainerConfig, Digest, HistoryEntry, ImageConfig } from '../graph/interfaces';
import type { HostConfig } from '../container/types';
import type { AuthConfig } from '../distribution/auth';

export interface BuildImage {
  id: Digest;
  config: ImageConfig;
}

export interface CommitOptions {
  /** The new image's config (the `config` object). */
  config: ContainerConfig;
  /** What dockerd keeps as container_config: the config with the step's Cmd, for inspect. */
  containerConfig: ContainerConfig;
  history: HistoryEntry;
  author?: string;
  /** For scratch builds: the platform of the new image. */
  platform?: { os: string; architecture: string; variant?: string };
}

export interface RunOptions {
  stdout: Writable;
  stderr: Writable;
  signal: AbortSignal;
}

export interface BuildBackend {
  /** A local image by reference or id; undefined when there is none. */
  getImage(nameOrId: string): Promise<BuildImage | undefined>;
  /** Fetches an image from its registry; throws a 404-worded error when it cannot. */
  pullImage(name: string, platform: string | undefined, progress: Writable, signal: AbortSignal, auth: Record<string, AuthConfig>): Promise<BuildImage>;
  /** A new container id with a writable layer over `image` (scratch when undefined), mounted: its rootfs path. */
  createRootfs(containerId: string, image: BuildImage | undefined): Promise<string>;
  /** A real container (as `docker create` makes) over `image` for a RUN step; its id. */
  createContainer(image: BuildImage, config: ContainerConfig, hostConfig: HostConfig): Promise<string>;
  /** Starts it with its output going to `options`; resolves to its exit code. A cancel kills it. */
  runContainer(containerId: string, options: RunOptions): Promise<number>;
  /** Removes a container made by createContainer (forcibly). */
  removeContainer(containerId: string): Promise<void>;
  /**
   * A new image on `parent`: with the container's changes as a layer when `containerId` is given
   * and it changed anything, otherwise an empty-layer history entry only.
   */
  commit(containerId: string | undefined, parent: BuildImage | undefined, options: CommitOptions): Promise<BuildImage>;
  /** Unmounts and removes what createRootfs made. */
  removeRootfs(containerId: string): Promise<void>;
  tag(id: Digest, name: string): Promise<void>;
  /** The build cache's index: the image a step made from a parent, by the step's key. */
  cacheGet(key: string): Promise<BuildImage | undefined>;
  cachePut(key: string, id: Digest): Promise<void>;
}
