// The builder's backend over the graph (images, layers, the graphdriver) and the container
// component's jobs. RUN steps are real containers (create, attach, start, wait, remove), as
// dockerd's are; COPY and WORKDIR only need a writable layer over the image, so they get a bare
// graphdriver container that lives for the step. The cache index maps a step's key to the image
// it made, one small file per key under DATA_ROOT/builder/cache.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import type { Engine } from '../engine/engine';
import type { Graph } from '../graph/graph';
import type { ContainerConfig, Digest } from '../graph/interfaces';
import { parseReference } from '../graph/reference';
import type { HostConfig, ContainerConfig as CreateConfig } from '../container/types';
import type { BuildBackend, BuildImage, CommitOptions, RunOptions } from './backend';
import { commitImage } from './commit';
import { notFound, statusOf } from '../errors';
import type { AuthConfig } from '../distribution/auth';
import { writeFileAtomic } from '../atomic-file';

export interface GraphBackendDeps {
  engine: Engine;
  graph: Graph;
  /** Where the cache index lives (DATA_ROOT/builder). */
  dir: string;
}

const hexOf = (id: string | undefined) => id?.replace(/^sha256:/, '');

export class GraphBuildBackend implements BuildBackend {
  /** The cache index as read or written so far: a warm build asks it once per step. */
  private readonly cacheIndex = new Map<string, Digest>();

  constructor(private readonly deps: GraphBackendDeps) {}

  private get graph(): Graph {
    return this.deps.graph;
  }

  private async load(id: Digest): Promise<BuildImage | undefined> {
    if (!this.graph.images.get(id)) return undefined;
    return { id, config: await this.graph.images.config(id) };
  }

  async getImage(nameOrId: string): Promise<BuildImage | undefined> {
    try {
      return await this.load(this.graph.resolve(nameOrId).record.id);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async pullImage(name: string, platform: string | undefined, progress: Writable, signal: AbortSignal, auth: Record<string, AuthConfig>): Promise<BuildImage> {
    const { engine } = this.deps;
    if (!engine.has('image.pull')) throw notFound(`No such image: ${name}`);
    const ref = parseReference(name);
    // The CLI keys Docker Hub's credentials by its index address.
    const registry = ref.name.split('/')[0]!;
    const credentials = auth[registry] ?? (registry === 'docker.io' ? auth['https://index.docker.io/v1/'] ?? auth['index.docker.io'] : undefined) ?? {};
    await engine.run('image.pull', {
      reference: ref.full, platform, auth: credentials,
      sink: (m) => void progress.write(JSON.stringify(m) + '\r\n'),
    }, { signal, hidden: true });
    const image = await this.getImage(ref.full);
    if (!image) throw notFound(`No such image: ${name}`);
    return image;
  }

  async createRootfs(containerId: string, image: BuildImage | undefined): Promise<string> {
    const chainId = image ? this.graph.images.get(image.id)?.chainId : undefined;
    await this.graph.driver.prepare(containerId, hexOf(chainId));
    return this.graph.driver.mount(containerId);
  }

  async removeRootfs(containerId: string): Promise<void> {
    await this.graph.driver.remove(containerId);
  }

  async createContainer(image: BuildImage, config: ContainerConfig, hostConfig: HostConfig): Promise<string> {
    const created = await this.deps.engine.run('container.create', {
      config: { ...(config as CreateConfig), Image: image.id, AttachStdout: true, AttachStderr: true },
      hostConfig,
    }, { hidden: true });
    return created.Id;
  }

  async runContainer(containerId: string, options: RunOptions): Promise<number> {
    const { engine } = this.deps;
    // Attach first, so not a byte of the step's output is missed.
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.on('data', (d: Buffer) => options.stdout.write(d));
    stderr.on('data', (d: Buffer) => options.stderr.write(d));
    const attachAbort = new AbortController();
    const attached = engine.run('container.attach', {
      id: containerId,
      request: { stdin: false, stdout: true, stderr: true, logs: false, stream: true },
      io: { input: null, stdout, stderr },
    }, { hidden: true, signal: attachAbort.signal }).catch(() => undefined);
    const kill = () => void engine.run('container.kill', { id: containerId, signal: 'KILL' }, { hidden: true }).catch(() => undefined);
    options.signal.addEventListener('abort', kill, { once: true });
    try {
      // A cancel that came before the start (the step's container only just created) has nothing
      // to kill yet: the step must not start at all; one that came during the start kills it now.
      options.signal.throwIfAborted();
      await engine.run('container.start', { id: containerId }, { hidden: true });
      if (options.signal.aborted) kill();
      const result = await engine.run('container.wait', { id: containerId, condition: 'not-running' }, { hidden: true });
      await Promise.race([attached, new Promise((r) => setTimeout(r, 2000))]);
      return result.StatusCode;
    } finally {
      options.signal.removeEventListener('abort', kill);
      attachAbort.abort();
    }
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.deps.engine.run('container.remove', { id: containerId, force: true, volumes: true }, { hidden: true });
  }

  async commit(containerId: string | undefined, parent: BuildImage | undefined, options: CommitOptions): Promise<BuildImage> {
    return commitImage(this.graph, { containerId, parent, ...options });
  }

  async tag(id: Digest, name: string): Promise<void> {
    await this.graph.tag(id, parseReference(name));
  }

  private cacheFile(key: string): string {
    return path.join(this.deps.dir, 'cache', key);
  }

  async cacheGet(key: string): Promise<BuildImage | undefined> {
    let id = this.cacheIndex.get(key);
    if (!id) {
      id = (await readFile(this.cacheFile(key), 'utf8').catch(() => ''))?.trim();
      if (!id) return undefined;
      this.cacheIndex.set(key, id);
    }
    // The image may have been removed since (docker rmi, prune): then it is a miss.
    const image = await this.load(id);
    if (!image) this.cacheIndex.delete(key);
    return image;
  }

  /** Forgets the cache (docker builder prune). */
  clearCache(): void {
    this.cacheIndex.clear();
  }

  async cachePut(key: string, id: Digest): Promise<void> {
    const file = this.cacheFile(key);
    await mkdir(path.dirname(file), { recursive: true });
    // A cache entry can always be recomputed: atomic, but not worth an fsync.
    await writeFileAtomic(file, id, { durable: false });
    this.cacheIndex.set(key, id);
  }
}
