// A push: for each layer, whether the registry already has it (HEAD of the blobs this layer was
// pulled or pushed as), can mount it from another repository of the same registry, or needs it
// uploaded (gzip-compressed as it streams); then the config blob and a Docker schema 2 manifest
// PUT under the tag. Progress lines are dockerd's: Preparing, Waiting, Pushing, Pushed,
// Layer already exists, Mounted from …, and "TAG: digest: … size: …".
import { createHash } from 'node:crypto';
import { PassThrough, Transform, type Readable } from 'node:stream';
import type { Gzip } from 'node:zlib';
import { RegistrySession } from './registry-client';
import { MediaType } from './manifest';
import { ByteProgress, type ProgressOutput } from './progress';
import { registryAndPath, shortId, type GraphStores } from './puller';
import { chainIds } from '../graph/reference';
import { sha256 } from '../graph/content-store';
import type { RegistryHosts } from './hosts';
import type { AuthConfig } from './auth';
import type { BlobSource, DistributionMetadata } from './metadata';
import type { Digest, Reference } from '../graph/interfaces';
import { notFound, systemError } from '../errors';
import { abortError } from '../engine/job';

export interface PushDeps {
  graph: GraphStores;
  hosts: RegistryHosts;
  metadata: DistributionMetadata;
  maxConcurrentUploads: () => number;
}

export interface PushRequest {
  /** The repository, and the tag to push (all of the repository's tags when absent). */
  repository: Reference;
  tag?: string;
  credentials: AuthConfig;
  signal: AbortSignal;
}

export interface PushedTag {
  ref: Reference;
  digest: Digest;
  size: number;
}

const GZIP_TYPES: string[] = [MediaType.dockerLayer, MediaType.ociLayerGzip];

interface PushedLayer {
  digest: Digest;
  size: number;
}

export class Pusher {
  constructor(private readonly deps: PushDeps) {}

  async push(req: PushRequest, out: ProgressOutput, resolveTag: (tag: string) => Reference): Promise<PushedTag[]> {
    const { graph } = this.deps;
    const repo = req.repository;
    const refs = req.tag !== undefined
      ? [resolveTag(req.tag)]
      : graph.references.all().map((r) => r.ref).filter((r) => r.name === repo.name && r.tag).sort((a, b) => a.tag!.localeCompare(b.tag!));
    if (refs.length === 0 || refs.some((r) => !graph.references.get(r))) {
      throw notFound(`An image does not exist locally with the tag: ${req.tag !== undefined ? refs[0]!.familiar : repo.familiarName}`);
    }
    const { registry, path } = registryAndPath(repo);
    out.message(undefined, `The push refers to repository [${repo.name}]`);
    const session = await RegistrySession.open({ hosts: this.deps.hosts, registry, path, credentials: req.credentials, purpose: 'push', signal: req.signal });
    const pushed: PushedTag[] = [];
    for (const ref of refs) pushed.push(await graph.writing(() => this.pushTag(session, ref, out, req.signal, registry, path)));
    return pushed;
  }

  private async pushTag(session: RegistrySession, ref: Reference, out: ProgressOutput, signal: AbortSignal, registry: string, path: string): Promise<PushedTag> {
    const { graph } = this.deps;
    const id = graph.references.get(ref)!;
    const record = graph.images.get(id);
    if (!record) throw notFound(`An image does not exist locally with the tag: ${ref.familiar}`);
    const configBytes = await readAll(graph.content.reader(id));

    // Layers top first, as dockerd lists them.
    const chain = chainIds(record.layers, sha256);
    const order = record.layers.map((d, i) => ({ diffId: d, index: i, chainId: chain[i]! })).reverse();
    const seen = new Set<Digest>();
    const unique = order.filter((l) => (seen.has(l.diffId) ? false : (seen.add(l.diffId), true)));
    for (const l of unique) out.update(shortId(l.diffId), 'Preparing');
    const limit = Math.max(1, this.deps.maxConcurrentUploads());
    for (const l of unique.slice(limit)) out.update(shortId(l.diffId), 'Waiting');

    const results = new Map<Digest, PushedLayer>();
    const queue = [...unique];
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        if (controller.signal.aborted) throw abortError(controller.signal);
        results.set(next.diffId, await this.pushLayer(session, next.diffId, next.chainId, out, controller.signal, registry, path));
      }
    };
    try {
      const workers = await Promise.allSettled(Array.from({ length: Math.min(limit, unique.length) }, worker));
      const failed = workers.find((w): w is PromiseRejectedResult => w.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (err) {
      controller.abort(err);
      throw signal.aborted ? abortError(signal) : err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }

    // The config blob, then the manifest that names it and the layers, bottom first.
    const configDigest = id;
    if ((await session.blobSize(configDigest, signal)) === undefined) {
      const up = await session.startUpload(configDigest, undefined, signal);
      if (!up.mounted) await session.finishUpload(up.location, configDigest, configBytes.length, () => bufferStream(configBytes), signal);
    }
    // Field order and indentation as dockerd marshals schema 2, so the same image gets the same digest.
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, size: configBytes.length, digest: configDigest },
      layers: record.layers.map((d) => ({ mediaType: MediaType.dockerLayer, size: results.get(d)!.size, digest: results.get(d)!.digest })),
    };
    const body = Buffer.from(JSON.stringify(manifest, null, 3));
    const digest = await session.putManifest(ref.tag!, body, MediaType.dockerManifest, signal);
    out.message(undefined, `${ref.tag}: digest: ${digest} size: ${body.length}`);
    out.aux({ Tag: ref.tag, Digest: digest, Size: body.length });
    const repoDigest = `${ref.familiarName}@${digest}`;
    const current = graph.images.get(id);
    if (current && !current.repoDigests?.includes(repoDigest)) await graph.images.put({ ...current, repoDigests: [...(current.repoDigests ?? []), repoDigest] });
    return { ref, digest, size: body.length };
  }

  /** One layer: already there, mounted, or compressed and uploaded. */
  private async pushLayer(session: RegistrySession, diffId: Digest, chainId: Digest, out: ProgressOutput, signal: AbortSignal, registry: string, path: string): Promise<PushedLayer> {
    const id = shortId(diffId);
    const known = this.deps.metadata.sources(diffId).filter((s) => s.registry === registry && GZIP_TYPES.includes(s.mediaType));
    // The registry may already hold a blob this layer was pulled or pushed as.
    for (const s of uniqueDigests(known)) {
      const size = await session.blobSize(s.digest, signal);
      if (size !== undefined) {
        out.update(id, 'Layer already exists');
        if (!known.some((k) => k.repository === path && k.digest === s.digest)) await this.remember(diffId, s, registry, path);
        return { digest: s.digest, size };
      }
    }
    // Another repository of the registry has it: mount.
    let location: string | undefined;
    for (const s of known.filter((k) => k.repository !== path)) {
      const up = await session.startUpload(s.digest, s.repository, signal);
      if (up.mounted) {
        out.update(id, `Mounted from ${s.repository}`);
        await this.remember(diffId, s, registry, path);
        return { digest: s.digest, size: s.size };
      }
      location ??= up.location;
    }
    location ??= (await session.startUpload(diffId, undefined, signal) as { location: string }).location;

    const tar = await this.layerTar(diffId, chainId);
    // Compress once to learn the digest and size, streaming through the upload as it goes.
    let compressed: { digest: Digest; size: number } | undefined;
    const progress = new ByteProgress(out, id, 'Pushing', tar.size);
    const content = () => {
      const hash = createHash('sha256');
      let size = 0;
      const measure = new Transform({
        transform(chunk: Buffer, _e, cb) {
          hash.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
        flush(cb) {
          compressed = { digest: `sha256:${hash.digest('hex')}`, size };
          cb();
        },
      });
      void tar.open().then((source) => {
        source.on('data', (c: Buffer) => progress.add(c.length));
        source.on('error', (e) => measure.destroy(e));
        const gzip = adaptiveGzip();
        gzip.on('error', (e) => measure.destroy(e));
        source.pipe(gzip).pipe(measure);
      }, (err: Error) => measure.destroy(err));
      return measure as Readable;
    };
    await session.streamUpload(location, content, () => compressed?.digest, signal);
    if (!compressed) throw systemError(`the upload of layer ${diffId} ended before its content did`);
    out.update(id, 'Pushed');
    const result = compressed as { digest: Digest; size: number };
    await this.remember(diffId, { ...result, mediaType: MediaType.dockerLayer, registry, repository: path }, registry, path);
    return result;
  }

  /** The layer's uncompressed tar: its blob, or rebuilt from its tar-split record and files. */
  private async layerTar(diffId: Digest, chainId: Digest): Promise<{ size: number; open: () => Promise<Readable> }> {
    const { content, layers } = this.deps.graph;
    const blob = await content.info(diffId);
    if (blob) return { size: blob.size, open: async () => content.reader(diffId) };
    const info = layers.get(chainId);
    if (info?.tarSize === undefined || !layers.tarStream) throw systemError(`layer ${diffId} has no content in the store: the image is damaged; pull or load it again`);
    return {
      size: info.tarSize,
      open: async () => {
        const rebuilt = await layers.tarStream!(chainId);
        if (!rebuilt) throw systemError(`layer ${diffId} cannot be rebuilt: pull or load the image again`);
        return rebuilt.stream;
      },
    };
  }

  private remember(diffId: Digest, s: BlobSource, registry: string, path: string): Promise<void> {
    return this.deps.metadata.add(diffId, { ...s, registry, repository: path });
  }
}

/** Bytes of a layer sampled to choose its compression. */
const PROBE = 1 << 20;

/**
 * gzip whose level is chosen from the layer's first MiB, deflated on trial: a layer that does not
 * shrink (already compressed files, random data) is stored in gzip framing, which is as small and
 * ten times as fast to make; others get the fast level, since a push waits on compression more
 * than on the network.
 */
function adaptiveGzip(): Transform {
  let held: Buffer[] = [];
  let heldSize = 0;
  let gzip: Gzip | undefined;
  const start = (self: Transform) => {
    const sample = Buffer.concat(held);
    held = [];
    // (a built-in loaded on first use, not at start: see components.ts)
    const { constants: zlib, createGzip, deflateRawSync } = process.getBuiltinModule('node:zlib');
    const incompressible = sample.length >= 4096 && deflateRawSync(sample, { level: zlib.Z_BEST_SPEED }).length >= sample.length * 0.97;
    gzip = createGzip({ level: incompressible ? zlib.Z_NO_COMPRESSION : zlib.Z_BEST_SPEED, chunkSize: 1 << 20 });
    gzip.on('data', (d: Buffer) => self.push(d));
    gzip.on('error', (e) => self.destroy(e));
    return gzip.write(sample);
  };
  const write = (self: Transform, chunk: Buffer | undefined, cb: (err?: Error | null) => void) => {
    const ok = gzip ? (chunk ? gzip.write(chunk) : true) : start(self);
    if (ok) cb();
    else gzip!.once('drain', () => cb());
  };
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      if (gzip) return write(this, chunk, cb);
      held.push(chunk);
      heldSize += chunk.length;
      if (heldSize < PROBE) return cb();
      write(this, undefined, cb);
    },
    flush(cb) {
      if (!gzip) start(this);
      gzip!.once('end', () => cb());
      gzip!.end();
    },
  });
}

function uniqueDigests(sources: BlobSource[]): BlobSource[] {
  const seen = new Set<string>();
  return sources.filter((s) => (seen.has(s.digest) ? false : (seen.add(s.digest), true)));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

function bufferStream(data: Buffer): Readable {
  const t = new PassThrough();
  t.end(data);
  return t;
}
