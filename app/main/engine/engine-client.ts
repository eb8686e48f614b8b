// The app's engine client: typed verbs over the Docker Engine API (types generated from the spec
// in spec/engine-api.ts) plus berthd's /berth extensions. It works unchanged against berthd and
// any dockerd or podman that serves the same API.
import type { IncomingMessage } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { components, operations } from './spec/engine-api.js';
import { EngineTransport, type PingResult } from './engine-transport.js';
import { readJsonLines } from './json-lines.js';
import type { Endpoint } from './endpoint.js';

export type Schemas = components['schemas'];
export type ContainerSummary = Schemas['ContainerSummary'];
export type ContainerInspect = Schemas['ContainerInspectResponse'];
export type ImageSummary = Schemas['ImageSummary'];
export type Volume = Schemas['Volume'];
export type Network = Schemas['Network'];
export type EventMessage = Schemas['EventMessage'];
export type SystemInfo = Schemas['SystemInfo'];
export type SystemVersion = Schemas['SystemVersion'];
export type ExecConfig = NonNullable<operations['ContainerExec']['requestBody']>['content']['application/json'];
export type ExecInspect = operations['ExecInspect']['responses'][200]['content']['application/json'];
export type ProgressMessage = { status?: string; id?: string; progress?: string; progressDetail?: { current?: number; total?: number }; error?: string; errorDetail?: { message?: string } };
/** A line of the classic builder's progress: log text, a pull's status, the image id, or the error. */
export type BuildMessage = ProgressMessage & { stream?: string; aux?: { ID?: string }; errorDetail?: { code?: number; message?: string } };
export interface BuildQuery { tags: string[]; dockerfile: string; buildArgs: Record<string, string>; noCache: boolean; pull: boolean; forceRm: boolean; target?: string }
export type ContainerStats = Schemas['ContainerStatsResponse'];
export type ImageHistory = operations['ImageHistory']['responses'][200]['content']['application/json'];
export type ContainerCreateBody = NonNullable<operations['ContainerCreate']['requestBody']>['content']['application/json'];

/** berthd's job snapshot (GET /berth/jobs) and feed lines (GET /berth/jobs/events). */
export interface BerthJob {
  id: string; name: string; description: string; state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  exitCode: number | null; progress: { current?: number; total?: number; unit?: string; message?: string };
  error?: string; cancellable: boolean; createdAt: string; startedAt?: string; endedAt?: string;
}
export interface BerthJobEvent { kind: string; job: BerthJob }
export interface BerthImageLayer { index: number; diffId: string; chainId: string; size: number; instruction: string; comment: string; created: string }
export interface BerthTreeEntry { name: string; path: string; type: 'directory' | 'file' | 'symlink' | 'other'; size: number; mode: number; uid: number; gid: number; linkTarget?: string; change: 'added' | 'modified' | 'removed' | null }
export interface BerthTreePage { layer: number; path: string; total: number; offset: number; entries: BerthTreeEntry[] }

export interface LogsOptions { follow: boolean; timestamps: boolean; tail: number | 'all'; since?: string; signal?: AbortSignal }

export class EngineClient {
  readonly transport: EngineTransport;

  constructor(endpoint: Endpoint) {
    this.transport = new EngineTransport(endpoint);
  }

  get endpointName(): string {
    return this.transport.endpointName;
  }

  ping(): Promise<PingResult> {
    return this.transport.ping();
  }

  version(): Promise<SystemVersion> {
    return this.transport.request('GET', '/version');
  }

  info(): Promise<SystemInfo> {
    return this.transport.request('GET', '/info');
  }

  // Containers
  listContainers(all = true, filters?: Record<string, string[]>): Promise<ContainerSummary[]> {
    return this.transport.request('GET', '/containers/json', { query: { all, filters } });
  }
  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.transport.request('GET', `/containers/${enc(id)}/json`);
  }
  async createContainer(body: ContainerCreateBody, name?: string): Promise<string> {
    const res = await this.transport.request<{ Id: string }>('POST', '/containers/create', { query: { name }, body });
    return res.Id;
  }
  startContainer(id: string): Promise<void> {
    return this.transport.request('POST', `/containers/${enc(id)}/start`);
  }
  stopContainer(id: string, timeoutSeconds?: number): Promise<void> {
    return this.transport.request('POST', `/containers/${enc(id)}/stop`, { query: { t: timeoutSeconds } });
  }
  restartContainer(id: string, timeoutSeconds?: number): Promise<void> {
    return this.transport.request('POST', `/containers/${enc(id)}/restart`, { query: { t: timeoutSeconds } });
  }
  pauseContainer(id: string): Promise<void> {
    return this.transport.request('POST', `/containers/${enc(id)}/pause`);
  }
  unpauseContainer(id: string): Promise<void> {
    return this.transport.request('POST', `/containers/${enc(id)}/unpause`);
  }
  killContainer(id: string, signal?: string): Promise<void> {
    return this.transport.request('POST', `/containers/${enc(id)}/kill`, { query: { signal } });
  }
  removeContainer(id: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    return this.transport.request('DELETE', `/containers/${enc(id)}`, { query: { force: options.force, v: options.volumes } });
  }
  /** The raw log stream: multiplexed frames unless the container has a tty. */
  containerLogs(id: string, o: LogsOptions): Promise<IncomingMessage> {
    return this.transport.stream('GET', `/containers/${enc(id)}/logs`, {
      query: { stdout: true, stderr: true, follow: o.follow, timestamps: o.timestamps, tail: String(o.tail), since: o.since },
      signal: o.signal,
    });
  }
  async *containerStats(id: string, signal?: AbortSignal): AsyncGenerator<ContainerStats> {
    const res = await this.transport.stream('GET', `/containers/${enc(id)}/stats`, { query: { stream: true }, signal });
    yield* readJsonLines<ContainerStats>(res);
  }
  /** Attaches to the main process (hijacked): its output, and its stdin when it has one open. */
  attachContainer(id: string, stdin: boolean): Promise<Duplex> {
    return this.transport.hijack('POST', `/containers/${enc(id)}/attach`, { query: { stream: true, stdin, stdout: true, stderr: true } });
  }
  /** A tar stream of `path` inside the container (GET /containers/{id}/archive). */
  containerArchive(id: string, path: string, signal?: AbortSignal): Promise<IncomingMessage> {
    return this.transport.stream('GET', `/containers/${enc(id)}/archive`, { query: { path }, signal });
  }
  resizeContainer(id: string, cols: number, rows: number): Promise<void> {
    return this.transport.request('POST', `/containers/${enc(id)}/resize`, { query: { w: cols, h: rows } });
  }

  // Exec
  async createExec(containerId: string, config: ExecConfig): Promise<string> {
    const res = await this.transport.request<{ Id: string }>('POST', `/containers/${enc(containerId)}/exec`, { body: config });
    return res.Id;
  }
  /** Starts an exec and hands back the hijacked connection: stdin in, output out. */
  startExec(execId: string, tty: boolean): Promise<Duplex> {
    return this.transport.hijack('POST', `/exec/${enc(execId)}/start`, { body: { Detach: false, Tty: tty } });
  }
  resizeExec(execId: string, cols: number, rows: number): Promise<void> {
    return this.transport.request('POST', `/exec/${enc(execId)}/resize`, { query: { w: cols, h: rows } });
  }
  inspectExec(execId: string): Promise<ExecInspect> {
    return this.transport.request('GET', `/exec/${enc(execId)}/json`);
  }

  // Images
  listImages(): Promise<ImageSummary[]> {
    return this.transport.request('GET', '/images/json');
  }
  inspectImage(name: string): Promise<Schemas['ImageInspect']> {
    return this.transport.request('GET', `/images/${enc(name)}/json`);
  }
  imageHistory(name: string): Promise<ImageHistory> {
    return this.transport.request('GET', `/images/${enc(name)}/history`);
  }
  tagImage(source: string, target: string): Promise<void> {
    const { fromImage: repo, tag } = splitReference(target);
    return this.transport.request('POST', `/images/${enc(source)}/tag`, { query: { repo, tag } });
  }
  async pruneImages(all: boolean): Promise<number> {
    const res = await this.transport.request<{ SpaceReclaimed?: number }>('POST', '/images/prune', { query: { filters: { dangling: [all ? 'false' : 'true'] } } });
    return res?.SpaceReclaimed ?? 0;
  }
  async pruneVolumes(): Promise<number> {
    const res = await this.transport.request<{ SpaceReclaimed?: number }>('POST', '/volumes/prune');
    return res?.SpaceReclaimed ?? 0;
  }
  removeImage(id: string, options: { force?: boolean } = {}): Promise<unknown> {
    return this.transport.request('DELETE', `/images/${enc(id)}`, { query: { force: options.force } });
  }
  /** Pulls an image; yields the engine's JSON progress messages, throwing on an error message. */
  async *pullImage(reference: string, signal?: AbortSignal): AsyncGenerator<ProgressMessage> {
    const { fromImage, tag } = splitReference(reference);
    const res = await this.transport.stream('POST', '/images/create', { query: { fromImage, tag }, signal });
    for await (const m of readJsonLines<ProgressMessage>(res)) {
      if (m.error || m.errorDetail?.message) throw new Error(m.errorDetail?.message ?? m.error);
      yield m;
    }
  }

  /**
   * Builds an image with the classic builder (POST /build): `context` is the tar, streamed as it
   * is made. Yields the progress lines; an error arrives as a line, not as an exception, so the
   * log before it is kept. Aborting closes the request, which cancels the build on the engine.
   */
  async *buildImage(context: Readable, q: BuildQuery, signal?: AbortSignal): AsyncGenerator<BuildMessage> {
    const res = await this.transport.stream('POST', '/build', {
      query: {
        t: q.tags, dockerfile: q.dockerfile, buildargs: JSON.stringify(q.buildArgs), nocache: q.noCache || undefined,
        pull: q.pull || undefined, rm: true, forcerm: q.forceRm || undefined, target: q.target,
      },
      body: context,
      headers: { 'Content-Type': 'application/x-tar' },
      signal,
    });
    yield* readJsonLines<BuildMessage>(res);
  }

  // Volumes and networks
  async listVolumes(): Promise<Volume[]> {
    const res = await this.transport.request<{ Volumes?: Volume[] | null }>('GET', '/volumes');
    return res.Volumes ?? [];
  }
  removeVolume(name: string): Promise<void> {
    return this.transport.request('DELETE', `/volumes/${enc(name)}`);
  }
  listNetworks(): Promise<Network[]> {
    return this.transport.request('GET', '/networks');
  }
  removeNetwork(id: string): Promise<void> {
    return this.transport.request('DELETE', `/networks/${enc(id)}`);
  }

  /**
   * Opens the events stream from `since` (unix seconds, fractional). Resolves once the engine has
   * answered, so the caller knows it is connected before any event arrives.
   */
  async events(since: string | undefined, signal?: AbortSignal): Promise<AsyncGenerator<EventMessage>> {
    const res = await this.transport.stream('GET', '/events', { query: { since }, signal });
    return readJsonLines<EventMessage>(res);
  }

  // berthd extensions: engines other than berthd answer 404 here.
  listJobs(): Promise<BerthJob[]> {
    return this.transport.request('GET', '/berth/jobs');
  }
  async jobEvents(signal?: AbortSignal): Promise<AsyncGenerator<BerthJobEvent>> {
    const res = await this.transport.stream('GET', '/berth/jobs/events', { signal });
    return readJsonLines<BerthJobEvent>(res);
  }
  /** berthd's layer browser: the layers bottom first, with their instruction and size. */
  imageLayers(name: string): Promise<BerthImageLayer[]> {
    return this.transport.request('GET', `/berth/images/${name.split('/').map(enc).join('/')}/layers`);
  }
  /** One directory of an image at one layer, paged; `changes` keeps only what the layer changed. */
  layerTree(name: string, index: number, o: { path: string; offset: number; limit: number; changes: boolean }): Promise<BerthTreePage> {
    return this.transport.request('GET', `/berth/images/${name.split('/').map(enc).join('/')}/layers/${index}/tree`, {
      query: { path: o.path, offset: o.offset, limit: o.limit, changes: o.changes ? 1 : undefined },
    });
  }
  cancelJob(id: string): Promise<void> {
    return this.transport.request('POST', `/berth/jobs/${enc(id)}/cancel`);
  }

  close(): void {
    this.transport.close();
  }
}

const enc = encodeURIComponent;

/** "busybox" → busybox:latest; "host:5000/x/y:1@sha256:..." keeps the registry port out of the tag. */
export function splitReference(reference: string): { fromImage: string; tag?: string } {
  if (reference.includes('@')) return { fromImage: reference };
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  if (colon > slash) return { fromImage: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { fromImage: reference, tag: 'latest' };
}
