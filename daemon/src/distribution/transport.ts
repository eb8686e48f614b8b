// HTTP to registries: one keep-alive agent per endpoint (its TLS material included), redirects
// followed for reads (blob storage often lives elsewhere), cancellation by AbortSignal, and network
// errors worded as dockerd words them (`Get "URL": dial tcp …: connect: connection refused`).
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EngineError, systemError } from '../errors';

/** Where a registry is reached: an origin and how to speak TLS to it. */
export interface Endpoint {
  /** "https://host:port" or "http://host:port" (no path). */
  origin: string;
  /** The registry's name as references write it: "docker.io", "127.0.0.1:5000". */
  registry: string;
  /** A pull mirror of docker.io: tried first, skipped on failure. */
  mirror: boolean;
  /** TLS verification off: insecure registries tried over HTTPS before plain HTTP. */
  insecure: boolean;
  /** Extra CAs and the client certificate from certs.d. */
  tls?: { ca?: string[]; cert?: string; key?: string };
}

export interface SendOptions {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: OutgoingHttpHeaders;
  body?: Buffer | Readable;
  signal?: AbortSignal;
  /** Follow 3xx for GET/HEAD (default true). */
  followRedirects?: boolean;
}

const agents = new Map<string, http.Agent>();
/** How long a registry connection may stay silent. */
const IDLE_TIMEOUT_MS = 60_000;

function agentFor(url: URL, endpoint: Endpoint | undefined): http.Agent {
  const sameOrigin = endpoint && url.origin === endpoint.origin;
  const key = `${url.origin}|${sameOrigin ? JSON.stringify(endpoint.tls ?? {}) + endpoint.insecure : ''}`;
  let agent = agents.get(key);
  if (!agent) {
    const common = { keepAlive: true, maxSockets: 32, keepAliveMsecs: 30_000 };
    if (url.protocol === 'https:') {
      const tls = sameOrigin ? endpoint.tls : undefined;
      // (a built-in loaded on first use, not at start: see components.ts)
      agent = new (process.getBuiltinModule('node:https').Agent)({
        ...common,
        // certs.d CAs add to the system's, as dockerd appends them to its pool.
        ca: tls?.ca?.length ? [...process.getBuiltinModule('node:tls').rootCertificates, ...tls.ca] : undefined,
        cert: tls?.cert,
        key: tls?.key,
        rejectUnauthorized: !(sameOrigin && endpoint.insecure),
      });
    } else {
      agent = new http.Agent(common);
    }
    agents.set(key, agent);
  }
  return agent;
}

/** Go's net/http names methods in errors with a capital and lower case: `Get "url": …`. */
const verb = (m: string) => m[0] + m.slice(1).toLowerCase();

/** A network failure in dockerd's words, as a 500 the client shows after "Error response from daemon:". */
export function networkError(method: string, url: string, err: NodeJS.ErrnoException): EngineError {
  const u = new URL(url);
  const hostPort = `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`;
  let why: string;
  switch (err.code) {
    case 'ECONNREFUSED': why = `dial tcp ${hostPort}: connect: connection refused`; break;
    case 'ENOTFOUND': case 'EAI_AGAIN': why = `dial tcp: lookup ${u.hostname}: no such host`; break;
    case 'ETIMEDOUT': why = `dial tcp ${hostPort}: i/o timeout`; break;
    case 'ECONNRESET': why = 'connection reset by peer'; break;
    case 'EPROTO': case 'ERR_SSL_WRONG_VERSION_NUMBER':
      why = 'http: server gave HTTP response to HTTPS client'; break;
    default:
      why = /wrong version number|packet length too long|http request/i.test(err.message) ? 'http: server gave HTTP response to HTTPS client'
        : err.code?.startsWith('ERR_TLS') || /certificate|self.signed/i.test(err.message) ? `tls: failed to verify certificate: x509: ${err.message}`
        : err.message;
  }
  return systemError(`${verb(method)} "${url}": ${why}`, err);
}

/**
 * Sends one request and resolves with the response (its body unread). Redirects of GET and HEAD
 * are followed; the Authorization header goes only to the endpoint's own origin.
 */
export async function send(endpoint: Endpoint | undefined, url: string, options: SendOptions): Promise<IncomingMessage> {
  let target = url;
  for (let hop = 0; hop < 10; hop++) {
    const res = await sendOnce(endpoint, target, options, hop > 0);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    const follow = options.followRedirects !== false && (options.method === 'GET' || options.method === 'HEAD');
    if (follow && location && [301, 302, 303, 307, 308].includes(status)) {
      res.resume();
      target = new URL(location, target).toString();
      continue;
    }
    return res;
  }
  throw systemError(`${verb(options.method)} "${url}": stopped after 10 redirects`);
}

function sendOnce(endpoint: Endpoint | undefined, target: string, options: SendOptions, redirected: boolean): Promise<IncomingMessage> {
  const url = new URL(target);
  const headers: OutgoingHttpHeaders = { 'User-Agent': 'berthd (Docker-Client compatible)', ...options.headers };
  if (redirected && endpoint && url.origin !== endpoint.origin) delete headers.Authorization;
  if (Buffer.isBuffer(options.body)) headers['Content-Length'] = options.body.length;
  const mod = url.protocol === 'https:' ? process.getBuiltinModule('node:https') : http;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = mod.request(url, { method: options.method, headers, agent: agentFor(url, endpoint), signal: options.signal });
    // A registry that stops answering (connect, headers or body) fails like a dropped connection,
    // which blob downloads resume from.
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })));
    req.once('response', resolve);
    req.once('error', (err: NodeJS.ErrnoException) => {
      if (err.name === 'AbortError') reject(err);
      else reject(networkError(options.method, target, err));
    });
    const body = options.body;
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else pipeline(body, req).catch((err: Error) => req.destroy(err));
  });
}

/** Reads a whole (small) body: manifests, tokens, error documents. Refuses bodies above `limit`. */
export async function readBody(res: IncomingMessage, limit = 8 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.destroy();
      throw systemError(`the registry's response is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Closes every idle keep-alive connection (daemon shutdown, tests). */
export function closeAgents(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}
