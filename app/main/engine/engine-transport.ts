// HTTP to the engine over a unix socket or TCP(+TLS): JSON requests, streaming responses, and
// hijacked connections (attach/exec upgrade to a raw byte stream). The API version is negotiated
// once with HEAD /_ping — the lower of the engine's and ours — and prefixes every path after.
import http from 'node:http';
import https from 'node:https';
import { Readable, type Duplex } from 'node:stream';
import { EngineError, connectionError } from './engine-error.js';
import { describeEndpoint, type Endpoint } from './endpoint.js';

/** The newest API this client speaks (the spec it is typed from) and the oldest it accepts. */
export const CLIENT_API_VERSION = '1.51';
export const MIN_API_VERSION = '1.24';

export type Query = Record<string, string | number | boolean | undefined | string[] | Record<string, string[]>>;

export interface RequestOptions {
  query?: Query;
  /** JSON, or a stream sent as it is (a build context) with the Content-Type given in headers. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface PingResult {
  apiVersion: string;
  /** The Server header, e.g. "Docker/20.10.24 (linux)" or "berthd/0.1.0 (linux)". */
  server?: string;
}

export class EngineTransport {
  readonly endpointName: string;
  private readonly agent: http.Agent;
  private version?: string;
  private negotiation?: Promise<PingResult>;

  constructor(readonly endpoint: Endpoint) {
    this.endpointName = describeEndpoint(endpoint);
    this.agent = endpoint.kind === 'tcp' && endpoint.tls
      ? new https.Agent({ keepAlive: true, ...endpoint.tls, rejectUnauthorized: endpoint.tls.verify })
      : new http.Agent({ keepAlive: true });
  }

  get apiVersion(): string | undefined {
    return this.version;
  }

  /** HEAD /_ping without a version prefix; remembers the negotiated version. */
  ping(): Promise<PingResult> {
    if (this.negotiation) return this.negotiation;
    this.negotiation = this.raw('HEAD', '/_ping', {}, this.agent).then((res) => {
      res.resume();
      if ((res.statusCode ?? 500) >= 400) throw new EngineError(res.statusCode ?? 500, `engine at ${this.endpointName} answered ${res.statusCode} to /_ping`);
      const advertised = String(res.headers['api-version'] ?? MIN_API_VERSION);
      if (compareVersions(advertised, MIN_API_VERSION) < 0) {
        throw new EngineError(400, `engine API ${advertised} is too old; Berth needs at least ${MIN_API_VERSION}`);
      }
      this.version = compareVersions(advertised, CLIENT_API_VERSION) < 0 ? advertised : CLIENT_API_VERSION;
      return { apiVersion: this.version, server: typeof res.headers.server === 'string' ? res.headers.server : undefined };
    }).catch((err: unknown) => {
      this.negotiation = undefined;
      throw err;
    });
    return this.negotiation;
  }

  /** Forgets the negotiated version so the next call pings again (after a reconnect). */
  reset(): void {
    this.negotiation = undefined;
    this.version = undefined;
  }

  /** A request whose answer is JSON (or nothing); non-2xx answers become EngineErrors. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, options, this.agent);
    const body = await readBody(res);
    if (res.statusCode === 204 || body.length === 0) return undefined as T;
    const type = String(res.headers['content-type'] ?? '');
    if (type.includes('json')) return JSON.parse(body.toString('utf8')) as T;
    return body.toString('utf8') as T;
  }

  /** A request whose answer is a stream (logs, events, progress): the 2xx response, unread. */
  async stream(method: string, path: string, options: RequestOptions = {}): Promise<http.IncomingMessage> {
    // Long-lived streams get their own connection so they never hold up the keep-alive pool.
    const res = await this.send(method, path, options, false);
    return res;
  }

  /**
   * Upgrades the connection (Connection: Upgrade, Upgrade: tcp) and returns the raw socket: the
   * way attach and exec start carry stdin and output in both directions. An engine that answers
   * 200 without upgrading still streams the output, so that response is returned as the stream.
   */
  async hijack(method: string, path: string, options: RequestOptions = {}): Promise<Duplex> {
    await this.ping();
    const headers = { Connection: 'Upgrade', Upgrade: 'tcp', ...options.headers };
    return new Promise<Duplex>((resolve, reject) => {
      const req = this.makeRequest(method, this.versioned(path, options.query), headers, false);
      req.on('upgrade', (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        socket.setNoDelay?.(true);
        resolve(socket);
      });
      req.on('response', (res) => {
        if ((res.statusCode ?? 500) >= 400) {
          readBody(res).then((b) => reject(errorFrom(res.statusCode ?? 500, b)), reject);
        } else {
          resolve(res as unknown as Duplex);
        }
      });
      req.on('error', (err) => reject(connectionError(this.endpointName, err)));
      options.signal?.addEventListener('abort', () => req.destroy(), { once: true });
      writeBody(req, options.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private async send(method: string, path: string, options: RequestOptions, agent: http.Agent | false): Promise<http.IncomingMessage> {
    await this.ping();
    const res = await this.raw(method, this.versioned(path, options.query), options, agent);
    if ((res.statusCode ?? 500) >= 400) throw errorFrom(res.statusCode ?? 500, await readBody(res));
    return res;
  }

  private raw(method: string, fullPath: string, options: RequestOptions, agent: http.Agent | false): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = this.makeRequest(method, fullPath, options.headers ?? {}, agent);
      req.on('response', resolve);
      req.on('error', (err) => reject(err instanceof EngineError ? err : connectionError(this.endpointName, err)));
      if (options.signal) {
        if (options.signal.aborted) req.destroy(new Error('aborted'));
        options.signal.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
      }
      writeBody(req, options.body);
    });
  }

  private makeRequest(method: string, fullPath: string, headers: Record<string, string>, agent: http.Agent | false): http.ClientRequest {
    const e = this.endpoint;
    const common = { method, path: fullPath, headers: { Host: 'docker', ...headers } };
    if (e.kind === 'unix') return http.request({ ...common, socketPath: e.socketPath, agent });
    if (e.tls) {
      return https.request({ ...common, host: e.host, port: e.port, agent, ...e.tls, rejectUnauthorized: e.tls.verify, headers: { ...common.headers, Host: `${e.host}:${e.port}` } });
    }
    return http.request({ ...common, host: e.host, port: e.port, agent, headers: { ...common.headers, Host: `${e.host}:${e.port}` } });
  }

  private versioned(path: string, query?: Query): string {
    const prefix = path.startsWith('/berth/') || path === '/_ping' ? '' : `/v${this.version ?? CLIENT_API_VERSION}`;
    return prefix + path + encodeQuery(query);
  }
}

function writeBody(req: http.ClientRequest, body: unknown): void {
  if (body === undefined) {
    req.end();
    return;
  }
  if (body instanceof Readable) {
    // Chunked upload with back-pressure; a failing source (an unreadable file) fails the request.
    body.on('error', (err) => req.destroy(err));
    req.on('close', () => { if (!body.readableEnded) body.destroy(); });
    body.pipe(req);
    return;
  }
  const data = Buffer.from(JSON.stringify(body));
  req.setHeader('Content-Type', 'application/json');
  req.setHeader('Content-Length', data.length);
  req.end(data);
}

export function encodeQuery(query?: Query): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    // A list repeats the parameter (POST /build's `t`); a map goes as JSON (filters).
    if (Array.isArray(v)) for (const item of v) params.append(k, item);
    else if (typeof v === 'object') params.set(k, JSON.stringify(v));
    else params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

async function readBody(res: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function errorFrom(status: number, body: Buffer): EngineError {
  const text = body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { message?: string };
    if (parsed.message) return new EngineError(status, parsed.message);
  } catch {
    // not JSON: use the text as is
  }
  return new EngineError(status, text.trim() || `engine answered HTTP ${status}`);
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
