// `docker load`: reads a docker-save or OCI-layout tarball as it streams in (load-archive.ts), then
// the manifests say which blobs are configs and layers; layers not unpacked yet unpack in parallel
// where the driver allows it, each verified against the config's diff ids. Only when every layer is in place are
// the image records and tags written: a failed load leaves garbage that collection removes, never
// a partial image.
import { Readable } from 'node:stream';
import type { Digest, ImageConfig, ImageRecord, Reference } from './interfaces';
import type { Graph } from './graph';
import { chainIdOf } from './layer-store';
import { parseReference } from './reference';
import { decompressed } from './compression';
import { ingestArchive, invalid, readJson, resolveFile, type LoadProgress, type StagedEntry } from './load-archive';
import { invalidParameter } from '../errors';

export type { LoadProgress } from './load-archive';

interface ImageToLoad {
  config: Digest;
  layers: Digest[];
  refs: Reference[];
  manifests: Digest[];
}

export interface LoadResult {
  images: { id: Digest; refs: string[] }[];
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

interface OciDescriptor {
  mediaType?: string;
  digest: Digest;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string };
}

function planDocker(graph: Graph, files: Map<string, Digest>, links: Map<string, string>): ImageToLoad[] {
  const manifest = readJson<DockerManifestEntry[]>(graph, files.get('manifest.json')!, 'manifest.json');
  if (!Array.isArray(manifest)) throw invalid('manifest.json is not a list of images');
  return manifest.map((m) => {
    if (typeof m?.Config !== 'string' || !Array.isArray(m.Layers)) throw invalid('manifest.json has an entry without Config or Layers');
    const refs = (m.RepoTags ?? []).map((t) => parseReference(t));
    return { config: resolveFile(files, links, m.Config), layers: m.Layers.map((l) => resolveFile(files, links, l)), refs, manifests: [] };
  });
}

function blob(graph: Graph, digest: Digest): Digest {
  if (!graph.content.has(digest)) throw invalid(`blob ${digest} named by the index is not in the archive`);
  return digest;
}

function planOci(graph: Graph, files: Map<string, Digest>): ImageToLoad[] {
  const index = readJson<{ manifests?: OciDescriptor[] }>(graph, files.get('index.json')!, 'index.json');
  const out: ImageToLoad[] = [];
  const visit = (desc: OciDescriptor, name: string | undefined, depth: number) => {
    if (depth > 4) throw invalid('index.json nests indexes too deeply');
    const doc = readJson<{ mediaType?: string; manifests?: OciDescriptor[]; config?: OciDescriptor; layers?: OciDescriptor[] }>(graph, blob(graph, desc.digest), desc.digest);
    if (Array.isArray(doc.manifests)) {
      // An index of platforms: this engine runs linux/amd64 (or the machine's arch) only.
      const arch = process.arch === 'x64' ? 'amd64' : process.arch;
      const pick = doc.manifests.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === arch) ?? doc.manifests.find((m) => !m.platform);
      if (!pick) throw invalid(`no image for linux/${arch} in ${desc.digest}`);
      visit(pick, name, depth + 1);
      return;
    }
    if (!doc.config || !Array.isArray(doc.layers)) throw invalid(`${desc.digest} is neither an image manifest nor an index`);
    const existing = out.find((o) => o.config === doc.config!.digest);
    const refs = name ? [parseReference(name)] : [];
    if (existing) {
      existing.refs.push(...refs);
      return;
    }
    out.push({ config: blob(graph, doc.config.digest), layers: doc.layers.map((l) => blob(graph, l.digest)), refs, manifests: [desc.digest] });
  };
  for (const desc of index.manifests ?? []) {
    const a = desc.annotations ?? {};
    // docker save names images with containerd's annotation; a full reference in ref.name works too.
    let name = a['io.containerd.image.name'];
    const refName = a['org.opencontainers.image.ref.name'];
    // A bare tag ("latest") in ref.name names no repository; a full reference does.
    if (!name && refName && /[/:@]/.test(refName)) name = refName;
    visit(desc, name, 0);
  }
  return out;
}

/** Counts bytes as they pass, for the progress bars. */
function counted(source: Readable, onBytes: (n: number) => void): Readable {
  source.on('data', (c: Buffer) => onBytes(c.length));
  return source;
}

/** Passes a stream through while writing it to a new blob (the uncompressed copy of a compressed layer). */
function teeToBlob(graph: Graph, source: Readable, expected: Digest): { stream: Readable; done: Promise<void> } {
  let finish!: () => void;
  let fail!: (e: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const stream = Readable.from((async function* () {
    const w = await graph.content.writer();
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        await w.write(chunk);
        yield chunk;
      }
      const actual = w.digest();
      if (actual !== expected) {
        throw invalidParameter(`layer digest mismatch: the image config says ${expected} but the layer's content is ${actual}: the archive is corrupt or was tampered with`);
      }
      await w.commit({ digest: expected });
      finish();
    } catch (err) {
      await w.abort();
      fail(err);
      throw err;
    }
  })());
  done.catch(() => undefined);
  return { stream, done };
}

async function unpackLayers(graph: Graph, image: ImageToLoad, config: ImageConfig, progress: LoadProgress | undefined, signal: AbortSignal, staged: Map<Digest, StagedEntry>, adopted: Map<Digest, Digest>): Promise<{ chainId?: Digest; layers: Digest[] }> {
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== image.layers.length) {
    throw invalid(`the image config lists ${Array.isArray(diffIds) ? diffIds.length : 0} layers but the manifest has ${image.layers.length}`);
  }
  const parents: (Digest | undefined)[] = [];
  let chain: Digest | undefined;
  for (const d of diffIds) {
    if (!/^sha256:[a-f0-9]{64}$/.test(d)) throw invalid(`the image config has an invalid diff id ${JSON.stringify(d)}`);
    parents.push(chain);
    chain = chainIdOf(chain, d);
  }
  const one = async (i: number) => {
    const blobDigest = image.layers[i]!;
    const diffId = diffIds[i]!;
    const parent = parents[i];
    const short = diffId.slice(7, 19);
    const existing = graph.layers.get(chainIdOf(parent, diffId));
    if (existing && (graph.content.has(diffId) || existing.tarSize !== undefined)) {
      progress?.status('Loading layer', short);
      return;
    }
    const early = staged.get(blobDigest);
    if (early) {
      // Unpacked while the archive streamed in: its digest is the diff id, or the archive lies.
      if (blobDigest !== diffId) throw invalidParameter(`layer digest mismatch: the image config says ${diffId} but the layer's content is ${blobDigest}: the archive is corrupt or was tampered with`);
      staged.delete(blobDigest);
      const info = await graph.layers.adopt(early.staged, parent, early.tarSplit, early.size);
      adopted.set(diffId, info.chainId);
      return;
    }
    const elsewhere = adopted.get(blobDigest);
    if (elsewhere && !graph.content.has(blobDigest)) {
      // The same layer at another place in a chain: rebuild its tar from the copy just adopted.
      const rebuilt = await graph.layers.tarStream(elsewhere);
      if (!rebuilt) throw invalid(`layer ${blobDigest} is missing`);
      const w = await graph.content.writer();
      const tee = Readable.from((async function* () {
        for await (const chunk of rebuilt.stream as AsyncIterable<Buffer>) {
          await w.write(chunk);
          yield chunk;
        }
      })());
      try {
        await graph.layers.register(tee, parent, diffId, signal);
        await w.commit({ digest: diffId });
      } catch (err) {
        await w.abort();
        throw err;
      }
      return;
    }
    const total = (await graph.content.info(blobDigest))?.size ?? 0;
    let current = 0;
    let lastReport = 0;
    const raw = counted(graph.content.reader(blobDigest), (n) => {
      current += n;
      if (progress && (current - lastReport > 4 * 1024 * 1024 || current === total)) {
        lastReport = current;
        progress.progress(short, 'Loading layer', current, total);
      }
    });
    let tar = await decompressed(raw);
    let saved: Promise<void> | undefined;
    if (blobDigest !== diffId && !graph.content.has(diffId)) {
      const tee = teeToBlob(graph, tar, diffId);
      tar = tee.stream;
      saved = tee.done;
    }
    await graph.layers.register(tar, parent, diffId, signal);
    if (saved) await saved;
    if (!graph.content.has(diffId)) throw invalid(`layer ${diffId} could not be stored`);
  };
  if (graph.driver.name === 'vfs') {
    // vfs copies the parent into each layer, so layers unpack bottom up.
    for (let i = 0; i < diffIds.length; i++) await one(i);
  } else {
    const results = await Promise.allSettled(diffIds.map((_d, i) => one(i)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
  return { chainId: chain, layers: [...diffIds] };
}

/** POST /images/load. Progress goes to `progress` (omitted when quiet); loaded images are returned. */
export async function loadImages(graph: Graph, source: Readable, progress: LoadProgress | undefined, signal: AbortSignal): Promise<LoadResult> {
  const staged = new Map<Digest, StagedEntry>();
  const adopted = new Map<Digest, Digest>();
  return graph.writing(async () => {
    try {
      const { files, links } = await ingestArchive(graph, source, signal, staged, progress);
      let plan: ImageToLoad[];
      if (files.has('manifest.json')) plan = planDocker(graph, files, links);
      else if (files.has('index.json')) plan = planOci(graph, files);
      else throw invalid('it holds neither manifest.json nor index.json; make it with docker save');
      if (plan.length === 0) throw invalid('it holds no image');

      const prepared: { image: ImageToLoad; record: ImageRecord }[] = [];
      for (const image of plan) {
        const config = readJson<ImageConfig>(graph, image.config, `the config ${image.config}`);
        const { chainId, layers } = await unpackLayers(graph, image, config, progress, signal, staged, adopted);
        prepared.push({ image, record: { id: image.config, layers, chainId } });
      }
      const result: LoadResult = { images: [] };
      for (const { image, record } of prepared) {
        for (const ref of image.refs) {
          const old = graph.references.get(ref);
          if (old && old !== record.id) {
            progress?.stream(`The image ${ref.familiar} already exists, renaming the old one with ID ${old} to empty string\n`);
          }
        }
        await graph.addImage(record, image.refs);
        graph.publish('load', record.id);
        result.images.push({ id: record.id, refs: image.refs.map((r) => r.familiar) });
      }
      return result;
    } finally {
      // Layers unpacked for nothing (a failed load, a file that was no layer) go now; blobs and
      // layers a failed load left are swept once no write runs.
      for (const s of staged.values()) await graph.driver.discardStaged?.(s.staged);
      void graph.collect();
    }
  });
}
