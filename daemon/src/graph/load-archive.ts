// The first half of `docker load`: the tarball as it streams in. Every file goes into the content
// store (entries named blobs/sha256/<hex> are verified against their name), except layer tars,
// which the driver unpacks right away when it can (overlay), keeping only a tar-split record.
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { extract as tarExtract } from 'tar-stream';
import type { Digest } from './interfaces';
import type { Graph } from './graph';
import { cleanName, drained } from '../drivers/graph/extract';
import { TarSplitRecorder } from '../drivers/graph/tar-split';
import { WorkerHasher } from './hash-worker';
import type { StagedLayer } from '../drivers/graph/graph-driver';
import { invalidParameter, EngineError, systemError } from '../errors';

/** Small files we parse (manifests, indexes) are kept in memory up to this size. */
const MAX_MANIFEST = 16 * 1024 * 1024;
const BLOB_PATH = /^blobs\/sha256\/([a-f0-9]{64})$/;

export const invalid = (why: string) => invalidParameter(`invalid tar archive: ${why}`);

/** Where load reports progress (the API passes its JSON-lines writer). */
export interface LoadProgress {
  status(status: string, id?: string): unknown;
  progress(id: string, status: string, current: number, total: number): unknown;
  stream(text: string): unknown;
}

/** A layer unpacked while the archive streamed in, with what rebuilds its tar for docker save. */
export interface StagedEntry {
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
export async function ingestArchive(graph: Graph, source: Readable, signal: AbortSignal, staged: Map<Digest, StagedEntry>, progress?: LoadProgress): Promise<{ files: Map<string, Digest>; links: Map<string, string> }> {
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

export function resolveFile(files: Map<string, Digest>, links: Map<string, string>, name: string): Digest {
  let cur = cleanName(name);
  for (let i = 0; i < 16 && !files.has(cur) && links.has(cur); i++) cur = links.get(cur)!;
  const d = files.get(cur);
  if (!d) throw invalid(`${name} named by the manifest is not in the archive`);
  return d;
}

export function readJson<T>(graph: Graph, digest: Digest, what: string): T {
  const file = graph.content.path(digest);
  try {
    // Checked before reading: a "manifest" of gigabytes must not be read into memory.
    if (statSync(file).size > MAX_MANIFEST) throw new Error(`larger than ${MAX_MANIFEST / 1024 / 1024} MiB`);
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw invalid(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

