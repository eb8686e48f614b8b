// The shapes the renderer sees: small, serialisable views of engine objects, built by main's
// services from Engine API responses. Pure types (the `common` layer): no Node or DOM imports.

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface PortView {
  /** Host address and port, present only when the port is published. */
  hostIp?: string;
  hostPort?: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export interface ContainerView {
  id: string;
  /** The first name without its leading slash. */
  name: string;
  image: string;
  command: string;
  /** Unix seconds. */
  created: number;
  state: ContainerState;
  /** The engine's human status line: "Up 3 minutes", "Exited (0) 2 hours ago", as of when it was listed. */
  status: string;
  /** From inspect, so the app can keep "Up 5 minutes" current itself: ISO times and the exit code. */
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  ports: PortView[];
  /** The compose project label, for grouping; undefined when the container is not part of one. */
  project?: string;
  labels: Record<string, string>;
}

/** A change to the container list: a full list after (re)connecting, else only what changed. */
export interface ContainersChange {
  reset?: ContainerView[];
  upsert: ContainerView[];
  remove: string[];
}

export interface ImageView {
  id: string;
  /** repo:tag references; empty for a dangling image. */
  tags: string[];
  digests: string[];
  size: number;
  /** Unix seconds. */
  created: number;
  /** How many containers use it; -1 when the engine did not count. */
  containers: number;
}

export interface VolumeView {
  name: string;
  driver: string;
  mountpoint: string;
  createdAt?: string;
  labels: Record<string, string>;
}

export interface NetworkView {
  id: string;
  name: string;
  driver: string;
  scope: string;
  subnets: string[];
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A berthd job as GET /berth/jobs reports it (the Activity view). */
export interface JobView {
  id: string;
  name: string;
  description: string;
  state: JobState;
  exitCode: number | null;
  progress: { current?: number; total?: number; unit?: string; message?: string };
  error?: string;
  cancellable: boolean;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
}

export type EngineConnection = 'connecting' | 'connected' | 'disconnected';

export interface EngineStatus {
  connection: EngineConnection;
  /** The endpoint in DOCKER_HOST form: unix:///run/berth.sock, tcp://host:2376. */
  endpoint: string;
  /** The negotiated API version, once connected. */
  apiVersion?: string;
  /** "berthd" when the engine serves the Berth extensions, else the engine's own name. */
  engineName?: string;
  engineVersion?: string;
  os?: string;
  arch?: string;
  containers?: { total: number; running: number; paused: number; stopped: number };
  images?: number;
  /** Whether /berth/jobs is available (berthd); other engines have no Activity feed. */
  jobs: boolean;
  /** Why the last connection attempt failed, worded for a person. */
  error?: string;
}

export type Theme = 'light' | 'dark' | 'system';

export interface Settings {
  theme: Theme;
  /** DOCKER_HOST-style endpoint; empty means the environment's DOCKER_HOST or the default socket. */
  endpoint: string;
}

export interface ContainerStatsSample {
  id: string;
  /** Percent of one CPU (100 = one full core), as `docker stats` shows it. */
  cpuPercent: number;
  memoryBytes: number;
  memoryLimit: number;
  networkRx: number;
  networkTx: number;
  blockRead: number;
  blockWrite: number;
  at: string;
}

export interface LogOpenOptions {
  id: string;
  follow: boolean;
  timestamps: boolean;
  /** How many lines from the end; 'all' for the whole log. */
  tail: number | 'all';
  /** Unix seconds or a duration the engine accepts (e.g. "10m"). */
  since?: string;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

/**
 * Whole lines of one stream as they came: `text` is one or more lines joined by "\n", without
 * the last one's newline. A log travels in these rather than line by line, so a fast stream costs
 * a few strings per read instead of an object per line.
 */
export interface LogChunk {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface TerminalOpenOptions {
  containerId: string;
  /** Command to exec; defaults to a shell that exists in the image. */
  cmd?: string[];
  cols: number;
  rows: number;
}

export type RestartPolicy = 'no' | 'always' | 'unless-stopped' | 'on-failure';

/** What the Run dialog asks for: the common `docker run` flags. */
export interface RunOptions {
  image: string;
  name?: string;
  /** The command as words; empty keeps the image's default. */
  cmd?: string[];
  /** KEY=value lines. */
  env?: string[];
  ports?: { hostPort: number; containerPort: number; protocol: 'tcp' | 'udp' }[];
  /** Binds and volumes in -v form: /host:/path, name:/path[:ro]. */
  volumes?: string[];
  restart?: RestartPolicy;
}

/** One layer of a pull as the engine reports it ("Downloading", "Extracting", "Pull complete"). */
export interface LayerProgress {
  id: string;
  status: string;
  current?: number;
  total?: number;
}

/** A pull under way (or just ended), for the Images view's progress bars. */
export interface PullProgress {
  reference: string;
  /** The engine's latest overall line: "Pulling from library/busybox", "Digest: sha256:…". */
  status: string;
  layers: LayerProgress[];
  done: boolean;
  error?: string;
}

/** One layer of an image, bottom first: the instruction that made it and its size. */
export interface ImageLayerView {
  index: number;
  size: number;
  /** The history's created_by: the Dockerfile line (or the tool's note) that made the layer. */
  instruction: string;
  created?: string;
}

export type LayerChange = 'added' | 'modified' | 'removed';

export interface LayerTreeEntry {
  name: string;
  path: string;
  type: 'directory' | 'file' | 'symlink' | 'other';
  size: number;
  linkTarget?: string;
  /** What this layer did to the entry; null when it comes unchanged from below. */
  change: LayerChange | null;
}

/** One directory of an image as it looks at one layer (berthd's layer browser), paged. */
export interface LayerTreeView {
  layer: number;
  path: string;
  total: number;
  offset: number;
  entries: LayerTreeEntry[];
}

export interface ImageDetailView {
  id: string;
  tags: string[];
  size: number;
  created?: string;
  os?: string;
  arch?: string;
  cmd?: string[];
  layers: ImageLayerView[];
  /** Whether the engine can list each layer's files (berthd); other engines give history only. */
  browsable: boolean;
}

/** One entry of a directory inside a container (from the engine's archive of that directory). */
export interface ContainerFileEntry {
  name: string;
  path: string;
  type: 'directory' | 'file' | 'symlink' | 'other';
  size: number;
  linkTarget?: string;
  modified?: string;
}

/** What the build form asks for: `docker build` of a folder on the machine where main runs. */
export interface BuildRequest {
  /** The context folder: an absolute path on main's machine. */
  context: string;
  /** The Dockerfile's path inside the context, `/`-separated. */
  dockerfile: string;
  /** repo[:tag] references; the image is untagged when empty. */
  tags: string[];
  buildArgs: Record<string, string>;
  noCache: boolean;
  /** Pull newer versions of the base images first. */
  pull: boolean;
  /** The stage to stop at; the last stage when absent. */
  target?: string;
}

/** A context folder as main found it: its absolute path and the Dockerfiles in it. */
export interface BuildContextView {
  path: string;
  /** Dockerfile candidates relative to the folder, `/`-separated; the root's `Dockerfile` first. */
  dockerfiles: string[];
  /** Whether a .dockerignore at its root leaves files out of what is sent. */
  dockerignore: boolean;
}

/** What the machine main runs on offers the build form. */
export interface BuildHostView {
  /** Electron has a native folder picker; web mode types the path. */
  folderPicker: boolean;
  /** The home folder there, a starting point for a typed path. */
  home: string;
}

/** How a build ended: the image it made, or dockerd's error, or a cancel. */
export interface BuildEnd {
  buildId: string;
  imageId?: string;
  tags: string[];
  error?: string;
  cancelled?: boolean;
}
