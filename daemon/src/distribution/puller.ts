// A pull: manifest (the platform's entry of a list), config, then the layers, downloaded a few at
// a time into the content store (verified, then committed) and registered in order on the layer
// store as each download completes. The image and its reference are recorded last, so a pull that
// fails or is cancelled leaves no reference; what it committed is removed, and what a crash leaves
// is what the graph's collection at start frees.
import { once } from 'node:events';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import type { ContentStore, Digest, ImageConfig, ImageStore, LayerInfo, LayerStore, Reference, ReferenceStore } from '../graph/interfaces';
import { chainIds } from '../graph/reference';
import { sha256 } from '../graph/content-store';
import { decompressed } from '../graph/compression';
import { coalesce } from '../graph/load-archive';
import { registerLayer, stageLayer } from './unpack';
import type { StagedLayer } from '../drivers/graph/graph-driver';
import { RegistrySession } from './registry-client';
import { hostPlatform, selectPlatform, MediaType, type Descriptor, type ImageManifest, type Platform } from './manifest';
import { ByteProgress, type ProgressOutput } from './progress';
import type { RegistryHosts } from './hosts';
import type { AuthConfig } from './auth';
import type { DistributionMetadata } from './metadata';
import { EngineError, invalidParameter, notFound, systemError } from '../errors';
import { abortError } from '../engine/job';

/** The graph as a pull and a push use it: its stores, through their interfaces only. */
export interface GraphStores {
  content: ContentStore;
  images: ImageStore;
  references: ReferenceStore;
  layers: Pick<LayerStore, 'driver' | 'get' | 'chain'> & {
    register(tar: Readable, parent: Digest | undefined, expectedDiffId: Digest, signal?: AbortSignal): Promise<LayerInfo>;
    /** Takes a layer the driver staged, with its tar-split record (drivers with stageLayer). */
    adopt?(staged: StagedLayer, parent: Digest | undefined, tarSplit: Buffer, tarSize: number): Promise<LayerInfo>;
    /** A layer's tar rebuilt from its tar-split record (layers kept without a blob). */
    tarStream?(chainId: Digest): Promise<{ stream: Readable; size: number } | undefined>;
  };
  /** Runs a write with the graph's garbage collection held off until it ends. */
  writing<T>(work: () => Promise<T>): Promise<T>;
}

export interface PullDeps {
  graph: GraphStores;
  hosts: RegistryHosts;
  metadata: DistributionMetadata;
  maxConcurrentDownloads: () => number;
}

export interface PullRequest {
  /** With a tag or a digest. */
  ref: Reference;
  platform?: Platform;
  credentials: AuthConfig;
  signal: AbortSignal;
  /** Bytes downloaded so far of the total, for the job's progress. */
  onProgress?: (done: number, total: number, message: string) => void;
}

export interface PullResult {
  id: Digest;
  manifestDigest: Digest;
  /** The reference now points at a different image (or did not exist). */
  updated: boolean;
}

const GZIP_LAYERS: string[] = [MediaType.dockerLayer, MediaType.ociLayerGzip];

/** The 12 hex digits dockerd shows for a layer. */
export const shortId = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);

/** Splits a reference into its registry and the repository path inside it. */
export function registryAndPath(ref: Reference): { registry: string; path: string } {
  const slash = ref.name.indexOf('/');
  return { registry: ref.name.slice(0, slash), path: ref.name.slice(slash + 1) };
}

/** A counting semaphore: at most `n` holders. */
class Slots {
  private free: number;
  private readonly queue: (() => void)[] = [];
  constructor(n: number) {
    this.free = Math.max(1, n);
  }
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }
  release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.free++;
  }
}

export class Puller {
  constructor(private readonly deps: PullDeps) {}

  async pull(req: PullRequest, out: ProgressOutput): Promise<PullResult> {
    const { ref, signal } = req;
    const { registry, path } = registryAndPath(ref);
    const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
    const sessionOptions = { hosts: this.deps.hosts, registry, path, credentials: req.credentials, purpose: 'pull' as const, signal };
    let session = await RegistrySession.open(sessionOptions);

    // The manifest, from a mirror when one answers, else from the registry itself.
    let fetched;
    for (;;) {
      try {
        fetched = await session.manifest(tagOrDigest, signal);
        break;
      } catch (err) {
        const next = session.endpoint.mirror && !signal.aborted ? await session.fallback(sessionOptions) : undefined;
        if (!next) throw translatePullError(err, ref);
        session = next;
      }
    }
    const manifestDigest = fetched.digest;
    let manifest: ImageManifest;
    if (fetched.manifest.kind === 'list') {
      const entry = selectPlatform(fetched.manifest, req.platform ?? hostPlatform());
      const inner = await session.manifest(entry.digest, signal).catch((err: unknown) => {
        throw translatePullError(err, ref);
      });
      if (inner.manifest.kind !== 'image') throw invalidParameter(`the manifest list entry ${entry.digest} of ${ref.familiar} is itself a list`);
      manifest = inner.manifest;
    } else {
      manifest = fetched.manifest;
    }
    out.message(tagOrDigest, `Pulling from ${path}`);

    const id = manifest.config.digest;
    const { images } = this.deps.graph;
    return this.deps.graph.writing(async () => {
      if (!images.get(id)) await this.download(session, manifest, req, out, registry, path);
      if (signal.aborted) throw abortError(signal);
      return this.record(ref, id, manifestDigest, out);
    });
  }

  /** Names the pulled image: its repo digest, then the reference (the pull's last write). */
  private async record(ref: Reference, id: Digest, manifestDigest: Digest, out: ProgressOutput): Promise<PullResult> {
    const { images, references } = this.deps.graph;
    // The reference last: until here nothing names the image.
    const record = images.get(id);
    if (!record) throw systemError(`the image ${id} vanished while it was being pulled`);
    const repoDigest = `${ref.familiarName}@${manifestDigest}`;
    const knewDigest = record.repoDigests?.includes(repoDigest) ?? false;
    if (!knewDigest) {
      await images.put({ ...record, repoDigests: [...(record.repoDigests ?? []).filter((d) => !d.startsWith(`${ref.familiarName}@`)), repoDigest] });
    }
    // A tag, or for a pull by digest the digest itself, names the image (so it is not dangling).
    const before = references.get(ref);
    if (before !== id) await references.add(ref, id);
    const upToDate = before === id || (ref.digest !== undefined && knewDigest);
    out.message(undefined, `Digest: ${manifestDigest}`);
    out.message(undefined, `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${ref.familiar}`);
    return { id, manifestDigest, updated: !upToDate };
  }

  /** Config and layers into the stores; the image record at the end. */
  private async download(session: RegistrySession, manifest: ImageManifest, req: PullRequest, out: ProgressOutput, registry: string, path: string): Promise<void> {
    const { content, images, layers: layerStore } = this.deps.graph;
    const { signal } = req;
    const configBytes = await session.blobBytes(manifest.config, { signal, mismatch: `image config verification failed for digest ${manifest.config.digest}` });
    const config = parseConfig(configBytes, manifest.config.digest);
    const layerDescs = manifest.layers.filter((l) => l.mediaType !== MediaType.dockerForeignLayer || !l.urls?.length);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== layerDescs.length) {
      throw invalidParameter(`the image config of ${req.ref.familiar} names ${diffIds.length} layers but its manifest has ${layerDescs.length}`);
    }
    const chain = chainIds(diffIds, sha256);
    const parents = chain.map((_c, i) => (i === 0 ? undefined : chain[i - 1]));

    const layers: Promise<void>[] = [];
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      // A layer is here when unpacked with its tar kept: as a tar-split record or as a blob.
      const present = await Promise.all(chain.map(async (c, i) => {
        const info = layerStore.get(c);
        return info !== undefined && (info.tarSize !== undefined || (await content.info(diffIds[i]!)) !== undefined);
      }));
      for (let i = 0; i < layerDescs.length; i++) {
        out.update(shortId(layerDescs[i]!.digest), present[i] ? 'Already exists' : 'Pulling fs layer');
      }
      const limit = Math.max(1, this.deps.maxConcurrentDownloads());
      const slots = new Slots(limit);
      const total = layerDescs.reduce((s, l, i) => s + (present[i] ? 0 : l.size), 0);
      let done = 0;
      const report = (n: number) => {
        done += n;
        req.onProgress?.(done, total, `Downloading ${registry}/${path}`);
      };
      const missing = layerDescs.map((_d, i) => i).filter((i) => !present[i]);
      for (const i of missing.slice(limit)) out.update(shortId(layerDescs[i]!.digest), 'Waiting');

      // Each layer streams from the registry through its digest check and decompression into the
      // graphdriver (and into the diff-id blob the image record names), a few layers at a time.
      // overlay layers do not need their parent on disk, so they unpack side by side; vfs copies
      // the parent, so its layers go bottom up. "Pull complete" is said in order, as dockerd says it.
      const parallel = layerStore.driver.name !== 'vfs';
      let previous: Promise<void> = Promise.resolve();
      for (const i of missing) {
        const desc = layerDescs[i]!;
        const before = previous;
        const layer = async () => {
          if (!parallel) await before;
          await slots.take();
          try {
            if (controller.signal.aborted) throw abortError(controller.signal);
            await this.pullLayer(session, desc, parents[i], diffIds[i]!, out, controller.signal, report);
          } finally {
            slots.release();
          }
          await this.deps.metadata.add(diffIds[i]!, { digest: desc.digest, size: desc.size, mediaType: desc.mediaType, registry, repository: path });
          await before;
          out.update(shortId(desc.digest), 'Pull complete');
        };
        previous = layer();
        // The first failure stops the other layers.
        previous.catch((err: unknown) => controller.abort(err));
        layers.push(previous);
      }
      const results = await Promise.allSettled(layers);
      if (signal.aborted) throw abortError(signal);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw firstRealError(results, failed.reason);
      // The config becomes a blob, then the image record that refers to it and its layers.
      if (!(await content.info(manifest.config.digest))) {
        const w = await content.writer();
        try {
          await w.write(configBytes);
        } catch (err) {
          await w.abort();
          throw err;
        }
        await w.commit({ digest: manifest.config.digest, size: configBytes.length });
      }
      await images.put({ id: manifest.config.digest, layers: diffIds, chainId: chain[chain.length - 1] });
    } catch (err) {
      controller.abort(err);
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
      await Promise.allSettled(layers);
    }
  }

  /**
   * One layer in one pass: downloaded (resumed with Range if the connection drops), hashed against
   * its digest, decompressed and unpacked by the graphdriver. A digest mismatch fails the stream
   * at its end, before the layer is committed.
   */
  private async pullLayer(session: RegistrySession, desc: Descriptor, parent: Digest | undefined, diffId: Digest, out: ProgressOutput, signal: AbortSignal, report: (n: number) => void): Promise<void> {
    const { layers } = this.deps.graph;
    const id = shortId(desc.digest);
    const progress = new ByteProgress(out, id, 'Downloading', desc.size);
    const blob = session.blob(desc, { signal, onBytes: (n) => { progress.add(n); report(n); } });
    // The download feeds the unpacking. If the unpacking fails first (a corrupt blob often breaks
    // gzip before its end), the download goes on to its digest check: a mismatch is then the error
    // to report, as dockerd, which verifies before it unpacks, would report it.
    const verified = new PassThrough({ highWaterMark: 1 << 20 });
    let unpackFailed: () => void = () => undefined;
    const stopFeeding = new Promise<void>((resolve) => (unpackFailed = resolve));
    const download = (async () => {
      let feeding = true;
      void stopFeeding.then(() => (feeding = false));
      // 1 MiB chunks: every stage after this (inflating, tar parsing, writing) costs per chunk.
      for await (const chunk of coalesce(blob)) {
        // A reader that went away (the layer was already there) stops the feeding, not the check.
        if (feeding && !verified.destroyed && !verified.write(chunk)) {
          await Promise.race([once(verified, 'drain').catch(() => undefined), once(verified, 'close').catch(() => undefined), stopFeeding]);
        }
      }
      out.update(id, 'Verifying Checksum');
      out.update(id, 'Download complete');
      if (!verified.destroyed) verified.end();
    })();
    download.catch((err: unknown) => verified.destroy(err as Error));
    // gzip, as nearly every layer is, inflates directly; other layers are sniffed as dockerd does.
    let tar: Readable;
    if (GZIP_LAYERS.includes(desc.mediaType)) {
      // (a built-in loaded on first use, not at start: see components.ts)
      const gunzip = process.getBuiltinModule('node:zlib').createGunzip({ chunkSize: 1 << 20 });
      pipeline(verified, gunzip, () => undefined);
      tar = gunzip;
    } else {
      tar = await decompressed(verified);
    }
    try {
      if (layers.driver.stageLayer && layers.adopt) await stageLayer(this.deps.graph, tar, parent, diffId, signal);
      else await registerLayer(this.deps.graph, tar, parent, diffId, signal);
    } catch (err) {
      unpackFailed();
      if (signal.aborted) throw abortError(signal);
      // The download's own failure (digest mismatch, cut connection) is the cause when there is one.
      await download;
      throw err;
    }
    await download;
    out.bytes(id, 'Extracting', desc.size, desc.size);
  }

}

/** Of several failures, the one that caused the others (they were aborted because of it). */
function firstRealError(results: PromiseSettledResult<unknown>[], fallback: unknown): unknown {
  for (const r of results) {
    if (r.status === 'rejected' && (r.reason as Error)?.name !== 'AbortError') return r.reason;
  }
  return fallback;
}

function parseConfig(bytes: Buffer, digest: Digest): ImageConfig {
  let config: ImageConfig;
  try {
    config = JSON.parse(bytes.toString('utf8')) as ImageConfig;
  } catch {
    throw invalidParameter(`the image config ${digest} is not JSON`);
  }
  if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids)) throw invalidParameter(`the image config ${digest} has no rootfs.diff_ids`);
  return config;
}

/**
 * dockerd's translatePullError: a missing tag, a missing repository and a refused access become
 * 404s worded with the reference; other registry errors keep their words.
 */
export function translatePullError(err: unknown, ref: Reference): unknown {
  if (!(err instanceof EngineError)) return err;
  const m = err.message;
  // Refused by the registry is not refused by berthd: a 401 would make the CLI ask to log in to us.
  if (err.status === 401) return new EngineError(500, m);
  if (m.startsWith('manifest unknown')) return notFound(`manifest for ${ref.familiar} not found: ${m}`);
  if (m.startsWith('name unknown')) return notFound(`repository ${ref.familiarName} not found: ${m}`);
  if (m.startsWith('denied')) return notFound(`pull access denied for ${ref.familiarName}, repository does not exist or may require 'docker login': ${m}`);
  return err;
}
