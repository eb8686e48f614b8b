// The distribution component on the Engine: pull, push, login, manifest inspection and search as
// jobs. Pulls of the same image and platform share one PullOperation; each request is its own job
// (visible, cancellable), and the download stops when the last of them is cancelled.
import path from 'node:path';
import type { Engine } from '../engine/engine';
import { Puller, registryAndPath, type GraphStores, type PullResult } from './puller';
import { Pusher, type PushedTag } from './pusher';
import { PullOperation } from './pull-operation';
import { ProgressOutput, type ProgressSink } from './progress';
import { RegistryHosts, type HostsConfig } from './hosts';
import { DistributionMetadata } from './metadata';
import { login, type LoginResult } from './login';
import { search, HUB_INDEX, type SearchResult } from './search';
import { RegistrySession } from './registry-client';
import { formatPlatform, parsePlatform, type Platform } from './manifest';
import { translatePullError } from './puller';
import type { AuthConfig } from './auth';
import { parseReference, referenceWithTag } from '../graph/reference';
import type { Reference } from '../graph/interfaces';
import { EngineError, invalidParameter } from '../errors';

declare module '../engine/engine' {
  interface JobTable {
    /** `sink` receives dockerd's progress messages. */
    'image.pull': { args: { reference: string; platform?: string; auth: AuthConfig; sink: ProgressSink }; result: void };
    'image.push': { args: { name: string; tag?: string; auth: AuthConfig; sink: ProgressSink }; result: PushedTag[] };
    'registry.login': { args: { auth: AuthConfig }; result: LoginResult };
    'distribution.inspect': { args: { name: string; auth: AuthConfig }; result: DistributionInspect };
    'image.search': { args: { term: string; limit?: number; filters: Map<string, string[]>; auth: AuthConfig }; result: SearchResult[] };
  }
}

export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: Platform[];
}

export interface DistributionOptions {
  graph: GraphStores;
  dataRoot: string;
  config: () => HostsConfig & { maxConcurrentDownloads: number; maxConcurrentUploads: number };
  /** Where /images/search goes for Docker Hub (tests point it at a local fake). */
  searchIndex?: string;
}

export class Distribution {
  readonly hosts: RegistryHosts;
  readonly metadata: DistributionMetadata;
  private readonly puller: Puller;
  private readonly pusher: Pusher;
  private readonly inflight = new Map<string, PullOperation<PullResult>>();

  constructor(private readonly engine: Engine, private readonly options: DistributionOptions) {
    this.hosts = new RegistryHosts(options.config);
    this.metadata = new DistributionMetadata(path.join(options.dataRoot, 'distribution'));
    this.puller = new Puller({ graph: options.graph, hosts: this.hosts, metadata: this.metadata, maxConcurrentDownloads: () => options.config().maxConcurrentDownloads });
    this.pusher = new Pusher({ graph: options.graph, hosts: this.hosts, metadata: this.metadata, maxConcurrentUploads: () => options.config().maxConcurrentUploads });
  }

  register(): void {
    this.engine.register('image.pull', async (job) => {
      // Without tag or digest (docker pull -a), every tag of the repository.
      const ref = parseReference(job.args.reference, null);
      const platform = job.args.platform ? parsePlatform(job.args.platform) : undefined;
      const refs = ref.tag || ref.digest ? [ref] : await this.allTags(ref, job.args.auth, job.signal);
      let updated = false;
      for (const r of refs) {
        const key = `${r.full}|${platform ? formatPlatform(platform) : ''}`;
        let op = this.inflight.get(key);
        if (!op) {
          const created = new PullOperation<PullResult>((sink, signal) => this.puller.pull({
            ref: r,
            platform,
            credentials: job.args.auth,
            signal,
            onProgress: (current, total, message) => job.setProgress({ current, total, unit: 'bytes', message }),
          }, new ProgressOutput(sink)));
          op = created;
          this.inflight.set(key, created);
          void created.done.then(
            () => this.engine.events.publish('image', 'pull', r.familiar, { name: r.familiarName }),
            () => undefined,
          ).finally(() => this.inflight.delete(key));
        }
        const result = await op.attach(job.args.sink, job.signal);
        updated ||= result.updated;
      }
      if (refs.length > 1 || (!ref.tag && !ref.digest)) {
        new ProgressOutput(job.args.sink).message(undefined, `Status: ${updated ? 'Downloaded newer image' : 'Image is up to date'} for ${ref.familiarName}`);
      }
    });

    this.engine.register('image.push', async (job) => {
      const repository = parseReference(job.args.name, null);
      const base = repository.tag || repository.digest ? parseReference(repository.name, null) : repository;
      const tag = job.args.tag || repository.tag || undefined;
      const pushed = await this.pusher.push(
        { repository: base, tag, credentials: job.args.auth, signal: job.signal },
        new ProgressOutput(job.args.sink),
        (t) => referenceWithTag(base.name, t),
      ).catch((err: unknown) => {
        // As for pulls: the registry's refusal is a 500 from berthd, not a 401.
        throw err instanceof EngineError && err.status === 401 ? new EngineError(500, err.message) : err;
      });
      for (const p of pushed) this.engine.events.publish('image', 'push', p.ref.familiar, { name: p.ref.familiarName });
      return pushed;
    });

    this.engine.register('registry.login', async (job) => login(this.hosts, job.args.auth, job.signal));

    this.engine.register('distribution.inspect', async (job) => this.inspect(job.args.name, job.args.auth, job.signal));

    this.engine.register('image.search', async (job) => search(this.hosts, { ...job.args, credentials: job.args.auth, signal: job.signal }, this.options.searchIndex ?? HUB_INDEX));
  }

  private async allTags(repo: Reference, credentials: AuthConfig, signal: AbortSignal): Promise<Reference[]> {
    const { registry, path: repoPath } = registryAndPath(repo);
    const session = await RegistrySession.open({ hosts: this.hosts, registry, path: repoPath, credentials, purpose: 'pull', signal });
    const tags = await session.tags(signal).catch((err: unknown) => {
      throw translatePullError(err, repo);
    });
    return tags.sort().map((t) => referenceWithTag(repo.name, t));
  }

  /** GET /distribution/{name}/json: the manifest's descriptor and the platforms it serves. */
  private async inspect(name: string, credentials: AuthConfig, signal: AbortSignal): Promise<DistributionInspect> {
    const ref = parseReference(name);
    const { registry, path: repoPath } = registryAndPath(ref);
    const session = await RegistrySession.open({ hosts: this.hosts, registry, path: repoPath, credentials, purpose: 'pull', signal });
    const fetched = await session.manifest(ref.digest ?? ref.tag!, signal).catch((err: unknown) => {
      throw translatePullError(err, ref);
    });
    const Descriptor = { mediaType: fetched.mediaType, digest: fetched.digest, size: fetched.body.length };
    if (fetched.manifest.kind === 'list') {
      return { Descriptor, Platforms: fetched.manifest.manifests.filter((d) => d.platform).map((d) => d.platform!) };
    }
    const config = JSON.parse((await session.blobBytes(fetched.manifest.config, { signal })).toString('utf8')) as Partial<Platform> & { 'os.version'?: string };
    const platform: Platform = { architecture: config.architecture ?? '', os: config.os ?? '' };
    if (config.variant) platform.variant = config.variant;
    if (config['os.version']) platform['os.version'] = config['os.version'];
    return { Descriptor, Platforms: [platform] };
  }
}

/** `fromImage` and `tag` of POST /images/create as one reference, with dockerd's precedence rules. */
export function pullReference(fromImage: string, tag: string | undefined): Reference {
  const image = parseReference(fromImage, null);
  if (image.digest) return image;
  if (tag) {
    if (tag.startsWith('sha256:')) return parseReference(`${image.name}@${tag}`);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw invalidParameter(`invalid tag format`);
    return parseReference(`${image.name}:${tag}`);
  }
  return image;
}
