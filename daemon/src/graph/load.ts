// `docker load`: reads a docker-save or OCI-layout tarball as it streams in. Every file goes into
// the content store (entries named blobs/sha256/<hex> are verified against their name), then the
// manifests say which blobs are configs and layers; layers unpack in parallel where the driver
// allows it, each verified against the config's diff ids. Only when every layer is in place are
// the image records and tags written: a failed load leaves garbage that collection removes, never
// a partial image.
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { extract as tarExtract } from 'tar-stream';
import type { Digest, ImageConfig, ImageRecord, Reference } from './interfaces';
import type { Graph } from './graph';
import { chainIdOf } from './layer-store';
import { parseReference } from './reference';
import { cleanName, drained } from '../drivers/graph/extract';
import { decompressed } from './compression';
import { TarSplitRecorder } from '../drivers/graph/tar-split';
import { WorkerHasher } from './hash-worker';
import type { StagedLayer } from '../drivers/graph/graph-driver';
import { invalidParameter, EngineError, systemError } from '../errors';

/** Small files we parse (manifests, indexes) are kept in memory up to this size. */
const MAX_MANIFEST = 16 * 1024 * 1024;
const BLOB_PATH = /^blobs\/sha256\/([a-f0-9]{64})$/;

interface ImageToLoad {
  config: Digest;
  layers: Digest[];
  refs: Reference[];
  manifests: Digest[];
}

/** Where load reports progress (the API passes its JSON-lines writer). */
export interface LoadProgress {
  status(status: string, id?: string): unknown;
  progress(id: string, status: string, current: number, total: number): unknown;
  stream(text: string): unknown;
}

export interface LoadResult {
  images: { id: Digest; refs: string[] }[];
}

const invalid = (why: string) => invalidParameter(`invalid tar archive: ${why}`);

/** A layer unpacked while the archive streamed in, with what rebuilds its tar for docker save. */
interface StagedEntry {
  staged: StagedLayer;
  tarSplit: Buffer;
  size: number;
}

/** The first `n` bytes of a stream, and the whole stream again (those bytes included). */
async function peekBlocks(source: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const seen: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    seen.push(r.value);
    size += r.value.length;
  }
  const rest = (async function* () {
    yield* seen;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  })();
  return { head: Buffer.concat(seen), rest };
}

/** A tar header block: "ustar" magic, or a valid header checksum (v7 tars). */
function looksLikeTar(head: Buffer): boolean {
  if (head.length < 512) return false;
  if (head.toString('latin1', 257, 262) === 'ustar') return true;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : head[i]!;
  return parseInt(head.toString('latin1', 148, 156).replace(/\0.*$/, '').trim(), 8) === sum;
}

/** Unpacks one archive entry as a layer while recording its tar-split. */
async function stageEntry(graph: Graph, body: AsyncIterable<Buffer>, signal: AbortSignal, onBytes?: (n: number) => void): Promise<StagedEntry> {
  const recorder = new TarSplitRecorder();
  const pass = new PassThrough({ highWaterMark: 1 << 20 });
  // sha256 on the worker thread: the main thread has the HTTP and tar parsing to do meanwhile.
  const staging = graph.driver.stageLayer!(pass, signal, new WorkerHasher());
  // If the unpacker fails (a hostile entry), stop feeding it at once.
  const failed = staging.then(() => new Promise<never>(() => undefined), (err: unknown) => Promise.reject(err));
  failed.catch(() => undefined);
  let size = 0;
  try {
    for await (const chunk of body) {
      recorder.feed(chunk);
      size += chunk.length;
      onBytes?.(size);
      if (!pass.write(chunk)) await Promise.race([once(pass, 'drain'), failed]);
    }
    pass.end();
  } catch (err) {
    pass.destroy();
    const result = await staging.catch(() => undefined);
    if (result) await graph.driver.discardStaged?.(result);
    throw err;
  }
  const result = await staging;
  return { staged: result, tarSplit: recorder.finish(), size };
}

/**
 * Gathers a socket's small reads (16-64 KiB) into ~1 MiB chunks: every stage after this (tar
 * parsing, hashing, file writes) costs per chunk, and at socket sizes that cost dominates.
 */
export async function* coalesce(source: AsyncIterable<Buffer>, target = 1 << 20): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= target) {
      yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
}

/** Reads the archive into the content store: path in the archive → blob digest. */
async function ingestArchive(graph: Graph, source: Readable, signal: AbortSignal, staged: Map<Digest, StagedEntry>, progress?: LoadProgress): Promise<{ files: Map<string, Digest>; links: Map<string, string> }> {
  const files = new Map<string, Digest>();
  const links = new Map<string, string>();
  const parser = tarExtract();
  const feed = (async () => {
    for await (const chunk of coalesce(source as AsyncIterable<Buffer>)) {
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('cancelled');
      if (!parser.write(chunk)) await drained(parser);
    }
    parser.end();
  })();
  const consume = (async () => {
    for await (const entry of parser) {
      const name = cleanName(entry.header.name);
      if (entry.header.name.split('/').includes('..')) throw invalid(`entry ${JSON.stringify(entry.header.name)} points outside the archive`);
      if (entry.header.type === 'symlink' || entry.header.type === 'link') {
        const target = entry.header.type === 'symlink' ? path.posix.join(path.posix.dirname(name), entry.header.linkname ?? '') : cleanName(entry.header.linkname ?? '');
        links.set(name, cleanName(target));
        entry.resume();
        continue;
      }
      if (entry.header.type !== 'file' && entry.header.type !== 'contiguous-file') {
        entry.resume();
        continue;
      }
      const m = BLOB_PATH.exec(name);
      const expected = m ? { digest: `sha256:${m[1]}`, size: entry.header.size } : { size: entry.header.size };
      let body: AsyncIterable<Buffer> = entry as AsyncIterable<Buffer>;
      if (graph.driver.stageLayer && (entry.header.size ?? 0) >= 1024 && (m || name.endsWith('.tar'))) {
        const { head, rest } = await peekBlocks(entry as AsyncIterable<Buffer>, 512);
        if (looksLikeTar(head)) {
          // The layer's id for progress: the digest its name carries (blobs/sha256/<hex>, <hex>.tar).
          const named = /([a-f0-9]{64})(\.tar)?$/.exec(name)?.[1] ?? name;
          const total = entry.header.size ?? 0;
          let reported = 0;
          const layer = await stageEntry(graph, rest, signal, (n) => {
            if (progress && (n - reported >= 4 << 20 || n === total)) {
              reported = n;
              progress.progress(named.slice(0, 12), 'Loading layer', n, total);
            }
          });
          if (m && layer.staged.diffId !== expected.digest) {
            await graph.driver.discardStaged?.(layer.staged);
            throw invalid(`${name} does not match its digest: the archive is corrupt or was tampered with`);
          }
          files.set(name, layer.staged.diffId);
          if (staged.has(layer.staged.diffId)) await graph.driver.discardStaged?.(layer.staged);
          else staged.set(layer.staged.diffId, layer);
          continue;
        }
        body = rest;
      }
      try {
        const info = await graph.content.ingestStream(body, expected);
        files.set(name, info.digest);
      } catch (err) {
        if (err instanceof EngineError && /digest mismatch/.test(err.message)) {
          throw invalid(`${name} does not match its digest: the archive is corrupt or was tampered with`);
        }
        throw err;
      }
    }
  })();
  try {
    await Promise.all([feed, consume]);
  } catch (err) {
    parser.destroy();
    source.destroy();
    await Promise.allSettled([feed, consume]);
    if (err instanceof EngineError || signal.aborted) throw err;
    const msg = (err as Error).message;
    if (/Unexpected end of data|Invalid tar header|Stream was destroyed|Premature close/i.test(msg)) throw invalid(`the archive is truncated or is not a tar file (${msg})`);
    throw systemError(`loading the archive failed: ${msg}`, err);
  }
  return { files, links };
}

function resolveFile(files: Map<string, Digest>, links: Map<string, string>, name: string): Digest {
  let cur = cleanName(name);
  for (let i = 0; i < 16 && !files.has(cur) && links.has(cur); i++) cur = links.get(cur)!;
  const d = files.get(cur);
  if (!d) throw invalid(`${name} named by the manifest is not in the archive`);
  return d;
}

function readJson<T>(graph: Graph, digest: Digest, what: string): T {
  const file = graph.content.path(digest);
  try {
    // Checked before reading: a "manifest" of gigabytes must not be read into memory.
    if (statSync(file).size > MAX_MANIFEST) throw new Error(`larger than ${MAX_MANIFEST / 1024 / 1024} MiB`);
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw invalid(`${what} is not valid JSON: ${(err as Error).message}`);
  }
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
