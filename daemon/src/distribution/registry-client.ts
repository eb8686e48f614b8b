// The registry HTTP API v2 for one repository: ping and endpoint choice, manifests, blobs (ranged
// reads that resume after a dropped connection, verified against their digest as they stream),
// blob uploads (monolithic, chunked, cross-repository mounts) and manifest PUTs. Authentication is
// the Authorizer's; this file only retries a request once after learning a 401's challenge.
import { createHash } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { WorkerHasher } from '../graph/hash-worker';
import { Authorizer, registryError, registryErrorMessage, repositoryScope, type AuthConfig } from './auth';
import { readBody, send, type Endpoint } from './transport';
import { ACCEPTED_MANIFESTS, parseManifest, type Descriptor, type Manifest } from './manifest';
import type { RegistryHosts } from './hosts';
import { EngineError, invalidParameter, systemError } from '../errors';
import { abortError } from '../engine/job';
import type { Digest } from '../graph/interfaces';

export interface FetchedManifest {
  manifest: Manifest;
  /** The digest of the bytes the registry sent (verified when asked by digest). */
  digest: Digest;
  body: Buffer;
  mediaType: string;
}

/** How often a blob download reconnects after its connection dropped before giving up. */
const BLOB_RETRIES = 5;

export interface SessionOptions {
  hosts: RegistryHosts;
  /** "127.0.0.1:5000", "docker.io". */
  registry: string;
  /** The repository inside the registry: "library/busybox". */
  path: string;
  credentials: AuthConfig;
  purpose: 'pull' | 'push' | 'login';
  signal?: AbortSignal;
}

/**
 * A conversation with one repository of one registry. `open` chooses the endpoint (mirrors first
 * for pulls; HTTPS, then HTTP for insecure registries) by pinging `/v2/`.
 */
export class RegistrySession {
  private constructor(
    readonly endpoint: Endpoint,
    readonly path: string,
    readonly auth: Authorizer,
    private readonly scopes: string[],
    /** Endpoints left to fall back to (mirrors before the registry itself). */
    readonly fallbacks: Endpoint[],
  ) {}

  static async open(options: SessionOptions): Promise<RegistrySession> {
    const endpoints = await options.hosts.endpoints(options.registry, options.purpose);
    const auth = new Authorizer(options.credentials, options.registry);
    const actions: ('pull' | 'push')[] = options.purpose === 'push' ? ['pull', 'push'] : ['pull'];
    const scopes = options.purpose === 'login' ? [] : [repositoryScope(options.path, actions)];
    let lastError: unknown;
    for (let i = 0; i < endpoints.length; i++) {
      const endpoint = endpoints[i]!;
      try {
        await ping(endpoint, auth, options.signal);
        return new RegistrySession(endpoint, options.path, auth, scopes, endpoints.slice(i + 1));
      } catch (err) {
        if (options.signal?.aborted) throw abortError(options.signal);
        lastError = err;
      }
    }
    throw lastError ?? systemError(`no endpoint for ${options.registry}`);
  }

  /** The same repository on the next endpoint (a mirror failed): undefined when none is left. */
  async fallback(options: SessionOptions): Promise<RegistrySession | undefined> {
    for (let i = 0; i < this.fallbacks.length; i++) {
      const endpoint = this.fallbacks[i]!;
      try {
        await ping(endpoint, this.auth, options.signal);
        return new RegistrySession(endpoint, this.path, this.auth, this.scopes, this.fallbacks.slice(i + 1));
      } catch {
        // Try the next one.
      }
    }
    return undefined;
  }

  url(suffix: string): string {
    return `${this.endpoint.origin}/v2/${this.path}/${suffix}`;
  }

  /** Sends with authorisation; on a 401 learns the challenge and tries once more. */
  async request(method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH', url: string, options: { headers?: OutgoingHttpHeaders; body?: Buffer | (() => Readable); signal?: AbortSignal; extraScopes?: string[] } = {}): Promise<IncomingMessage> {
    const scopes = [...this.scopes, ...(options.extraScopes ?? [])];
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.auth.header(scopes, options.signal);
      const headers = { ...options.headers, ...(authorization ? { Authorization: authorization } : {}) };
      // A streamed body is made anew for each attempt: the first one may have been refused unread.
      const body = typeof options.body === 'function' ? options.body() : options.body;
      const res = await send(this.endpoint, url, { method, headers, body, signal: options.signal });
      if (res.statusCode === 401 && attempt === 0 && this.auth.learn(res.headers['www-authenticate'])) {
        res.resume();
        if (body && !Buffer.isBuffer(body)) body.destroy();
        continue;
      }
      return res;
    }
  }

  /** GETs a manifest by tag or digest; by digest, the bytes must hash to it. */
  async manifest(reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const url = this.url(`manifests/${reference}`);
    const res = await this.request('GET', url, { headers: { Accept: ACCEPTED_MANIFESTS.join(', ') }, signal });
    const body = await readBody(res);
    if (res.statusCode === 401 && this.auth.scheme === 'basic' && !this.auth.hasCredentials) {
      // dockerd asks with HEAD first, and words it so.
      throw systemError(`Head "${url}": no basic auth credentials`);
    }
    if (res.statusCode !== 200) throw registryError(res.statusCode ?? 500, registryErrorMessage(body, res.statusCode ?? 500));
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw invalidParameter(`manifest verification failed for digest ${reference}`);
    }
    const mediaType = String(res.headers['content-type'] ?? '');
    return { manifest: parseManifest(body, mediaType, reference), digest, body, mediaType: mediaType.split(';')[0]!.trim() };
  }

  /** HEAD of a manifest: its descriptor without the body (GET /distribution/{name}/json, up-to-date checks). */
  async manifestDescriptor(reference: string, signal?: AbortSignal): Promise<Descriptor | undefined> {
    const res = await this.request('HEAD', this.url(`manifests/${reference}`), { headers: { Accept: ACCEPTED_MANIFESTS.join(', ') }, signal });
    res.resume();
    const digest = res.headers['docker-content-digest'];
    if (res.statusCode !== 200 || typeof digest !== 'string') return undefined;
    return { mediaType: String(res.headers['content-type'] ?? '').split(';')[0]!.trim(), digest, size: Number(res.headers['content-length'] ?? 0) };
  }

  /** A small blob (an image config) read whole and verified. */
  async blobBytes(desc: Descriptor, options: { signal?: AbortSignal; mismatch?: string } = {}): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.blob(desc, options)) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  /**
   * Streams a blob. A connection that drops is resumed with `Range: bytes=N-` (up to BLOB_RETRIES
   * times); the bytes are hashed as they pass and the stream fails at its end when they do not
   * match the digest, so a consumer that commits only after the end never keeps a bad blob.
   */
  async *blob(desc: Descriptor, options: { signal?: AbortSignal; onBytes?: (n: number) => void; mismatch?: string } = {}): AsyncGenerator<Buffer> {
    // The digest is computed on the graph's hashing thread, beside the unpacking on this one.
    const hash = new WorkerHasher();
    let finished = false;
    let offset = 0;
    let retries = 0;
    const url = this.url(`blobs/${desc.digest}`);
    try {
      for (;;) {
        const headers: OutgoingHttpHeaders = offset > 0 ? { Range: `bytes=${offset}-` } : {};
        let res: IncomingMessage;
        try {
          res = await this.request('GET', url, { headers, signal: options.signal });
        } catch (err) {
          if (!retryable(err, options.signal) || ++retries > BLOB_RETRIES || offset === 0) throw err;
          await pause(retries);
          continue;
        }
        const status = res.statusCode ?? 0;
        if (status !== 200 && status !== 206) {
          const body = await readBody(res).catch(() => Buffer.alloc(0));
          throw registryError(status, registryErrorMessage(body, status));
        }
        // A server that ignores Range starts over: skip what we already have.
        let skip = offset > 0 && status === 200 ? offset : 0;
        try {
          for await (const raw of res as AsyncIterable<Buffer>) {
            let chunk = raw;
            if (skip > 0) {
              const n = Math.min(skip, chunk.length);
              skip -= n;
              chunk = chunk.subarray(n);
              if (chunk.length === 0) continue;
            }
            const wait = hash.update(chunk);
            if (wait) await wait;
            offset += chunk.length;
            if (desc.size > 0 && offset > desc.size) throw invalidParameter(options.mismatch ?? `filesystem layer verification failed for digest ${desc.digest}`);
            options.onBytes?.(chunk.length);
            yield chunk;
          }
          if (!res.complete) throw Object.assign(new Error('connection closed before the blob ended'), { code: 'ECONNRESET' });
        } catch (err) {
          if (err instanceof EngineError || !retryable(err, options.signal) || ++retries > BLOB_RETRIES) throw wrapBlobError(err, url, options.signal);
          await pause(retries);
          continue;
        }
        if (desc.size > 0 && offset < desc.size) {
          if (++retries > BLOB_RETRIES) throw systemError(`Get "${url}": unexpected EOF`);
          await pause(retries);
          continue;
        }
        break;
      }
      finished = true;
    } finally {
      if (!finished) hash.drop();
    }
    if ((await hash.digest()) !== desc.digest) {
      throw invalidParameter(options.mismatch ?? `filesystem layer verification failed for digest ${desc.digest}`);
    }
  }

  /** The blob's size when the repository has it (HEAD). */
  async blobSize(digest: Digest, signal?: AbortSignal): Promise<number | undefined> {
    const res = await this.request('HEAD', this.url(`blobs/${digest}`), { signal });
    res.resume();
    if (res.statusCode === 200) return Number(res.headers['content-length'] ?? 0);
    if (res.statusCode === 404) return undefined;
    throw registryError(res.statusCode ?? 500, `HEAD ${digest}: received unexpected HTTP status: ${res.statusCode}`);
  }

  /**
   * Starts an upload, first trying to mount the blob from `from` (a repository of the same
   * registry that has it). Returns 'mounted', or the upload URL to send the bytes to.
   */
  async startUpload(digest: Digest, from: string | undefined, signal?: AbortSignal): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const url = new URL(this.url('blobs/uploads/'));
    if (from && from !== this.path) {
      url.searchParams.set('mount', digest);
      url.searchParams.set('from', from);
    }
    const res = await this.request('POST', url.toString(), { body: Buffer.alloc(0), signal, extraScopes: from && from !== this.path ? [repositoryScope(from, ['pull'])] : [] });
    const body = await readBody(res);
    if (res.statusCode === 201) return { mounted: true };
    if (res.statusCode !== 202 || !res.headers.location) throw registryError(res.statusCode ?? 500, registryErrorMessage(body, res.statusCode ?? 500));
    return { mounted: false, location: new URL(res.headers.location, this.endpoint.origin).toString() };
  }

  /**
   * Sends a blob's bytes to an upload URL and completes it: small blobs in one PUT (monolithic),
   * others as one streamed PATCH then the closing PUT (chunked), as dockerd uploads.
   */
  async finishUpload(location: string, digest: Digest, size: number, content: () => Readable, signal?: AbortSignal): Promise<void> {
    let next = location;
    if (size <= MONOLITHIC_LIMIT) {
      const chunks: Buffer[] = [];
      for await (const c of content() as AsyncIterable<Buffer>) chunks.push(c);
      const put = new URL(next);
      put.searchParams.set('digest', digest);
      const res = await this.request('PUT', put.toString(), { headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.concat(chunks), signal });
      const body = await readBody(res);
      if (res.statusCode !== 201) throw registryError(res.statusCode ?? 500, registryErrorMessage(body, res.statusCode ?? 500));
      return;
    }
    const patch = await this.request('PATCH', next, { headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size), 'Content-Range': `0-${size - 1}` }, body: content, signal });
    const patchBody = await readBody(patch);
    if (patch.statusCode !== 202) throw registryError(patch.statusCode ?? 500, registryErrorMessage(patchBody, patch.statusCode ?? 500));
    if (patch.headers.location) next = new URL(patch.headers.location, this.endpoint.origin).toString();
    const put = new URL(next);
    put.searchParams.set('digest', digest);
    const res = await this.request('PUT', put.toString(), { body: Buffer.alloc(0), signal });
    const body = await readBody(res);
    if (res.statusCode !== 201) throw registryError(res.statusCode ?? 500, registryErrorMessage(body, res.statusCode ?? 500));
  }

  /**
   * Streams bytes whose digest is known only at their end (a layer compressed on the fly): one
   * PATCH with a chunked body, then the closing PUT with the digest, as dockerd uploads layers.
   */
  async streamUpload(location: string, content: () => Readable, digestAfter: () => Digest | undefined, signal?: AbortSignal): Promise<void> {
    const patch = await this.request('PATCH', location, { headers: { 'Content-Type': 'application/octet-stream' }, body: content, signal });
    const patchBody = await readBody(patch);
    if (patch.statusCode !== 202) throw registryError(patch.statusCode ?? 500, registryErrorMessage(patchBody, patch.statusCode ?? 500));
    const digest = digestAfter();
    if (!digest) throw systemError('the registry accepted an upload before its content ended');
    const put = new URL(patch.headers.location ? new URL(patch.headers.location, this.endpoint.origin).toString() : location);
    put.searchParams.set('digest', digest);
    const res = await this.request('PUT', put.toString(), { body: Buffer.alloc(0), signal });
    const body = await readBody(res);
    if (res.statusCode !== 201) throw registryError(res.statusCode ?? 500, registryErrorMessage(body, res.statusCode ?? 500));
  }

  /** PUTs a manifest under a tag (or digest); returns the digest the registry reports. */
  async putManifest(reference: string, body: Buffer, mediaType: string, signal?: AbortSignal): Promise<Digest> {
    const res = await this.request('PUT', this.url(`manifests/${reference}`), { headers: { 'Content-Type': mediaType }, body, signal });
    const answer = await readBody(res);
    if (res.statusCode !== 201 && res.statusCode !== 200) throw registryError(res.statusCode ?? 500, registryErrorMessage(answer, res.statusCode ?? 500));
    const digest = res.headers['docker-content-digest'];
    return typeof digest === 'string' ? digest : `sha256:${createHash('sha256').update(body).digest('hex')}`;
  }

  /** Tags of the repository (GET /v2/NAME/tags/list), for pulls of every tag. */
  async tags(signal?: AbortSignal): Promise<string[]> {
    const res = await this.request('GET', this.url('tags/list'), { signal });
    const body = await readBody(res);
    if (res.statusCode !== 200) throw registryError(res.statusCode ?? 500, registryErrorMessage(body, res.statusCode ?? 500));
    return ((JSON.parse(body.toString('utf8')) as { tags?: string[] }).tags ?? []);
  }
}

/** Blobs up to this size are uploaded in one PUT; larger ones stream through PATCH. */
export const MONOLITHIC_LIMIT = 512 * 1024;

/** GET /v2/: any HTTP answer proves the endpoint speaks; a 401 tells how to authenticate. */
async function ping(endpoint: Endpoint, auth: Authorizer, signal?: AbortSignal): Promise<void> {
  const res = await send(endpoint, `${endpoint.origin}/v2/`, { method: 'GET', signal });
  await readBody(res, 1024 * 1024).catch(() => undefined);
  if (res.statusCode === 401) {
    auth.learn(res.headers['www-authenticate']);
    return;
  }
  if (res.statusCode === 200) return;
  throw systemError(`Get "${endpoint.origin}/v2/": received unexpected HTTP status: ${res.statusCode} ${res.statusMessage ?? ''}`.trim());
}

function retryable(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return false;
  const code = (err as NodeJS.ErrnoException)?.code ?? ((err as { cause?: NodeJS.ErrnoException })?.cause?.code);
  return ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'ERR_STREAM_PREMATURE_CLOSE', 'ECONNABORTED'].includes(code ?? '') || (err as Error)?.message === 'aborted';
}

function wrapBlobError(err: unknown, url: string, signal?: AbortSignal): unknown {
  if (signal?.aborted) return abortError(signal);
  if (err instanceof EngineError) return err;
  return systemError(`Get "${url}": ${(err as Error).message}`, err);
}

function pause(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** (attempt - 1))));
}
