// What a route handler gets: the parsed request (params, query, negotiated version) and the few
// ways to answer it. Handlers only decode, validate and encode; the work runs as Engine jobs.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Engine } from '../engine/engine';
import { invalidParameter, EngineError } from '../errors';
import { versionAtLeast } from './version';
import { hijack, type HijackedStream } from './hijack';

/** JSON bodies above this are refused; streamed bodies (load, build, archive) are not JSON. */
export const MAX_JSON_BODY = 16 * 1024 * 1024;

export class RequestContext {
  private readonly abort = new AbortController();

  constructor(
    readonly engine: Engine,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly params: Record<string, string>,
    readonly query: URLSearchParams,
    /** The negotiated API version of this request. */
    readonly version: string,
    /** Set when the client asked to upgrade the connection (attach, exec start). */
    private readonly upgrade?: { socket: Duplex; head: Buffer },
  ) {
    // A client that goes away cancels what it asked for (a follow, a pull it no longer waits on).
    const onClose = () => {
      if (!res.writableFinished) this.abort.abort(Object.assign(new Error('client disconnected'), { name: 'AbortError' }));
    };
    (upgrade?.socket ?? res).once('close', onClose);
  }

  /** Aborted when the client disconnects before the response is complete. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  atLeast(version: string): boolean {
    return versionAtLeast(this.version, version);
  }

  /** dockerd's BoolValue: anything but "", "0", "no", "false" and "none" is true. */
  bool(name: string, fallback = false): boolean {
    const raw = this.query.get(name);
    if (raw === null) return fallback;
    const v = raw.trim().toLowerCase();
    return !(v === '' || v === '0' || v === 'no' || v === 'false' || v === 'none');
  }

  int(name: string, fallback: number): number {
    const raw = this.query.get(name);
    if (raw === null || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n)) throw invalidParameter(`invalid value for ${name}: ${JSON.stringify(raw)}: not an integer`);
    return n;
  }

  string(name: string): string | undefined {
    return this.query.get(name) ?? undefined;
  }

  json(status: number, body: unknown): void {
    // Encoded once: large lists (1000 containers) are hundreds of kilobytes.
    const data = Buffer.from(JSON.stringify(body) + '\n');
    this.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length });
    this.res.end(this.req.method === 'HEAD' ? undefined : data);
  }

  /** A JSON body the job encoded itself (the container list assembles cached fragments). */
  encodedJson(status: number, data: Buffer): void {
    this.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length });
    this.res.end(this.req.method === 'HEAD' ? undefined : data);
  }

  text(status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
    this.res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    this.res.end(this.req.method === 'HEAD' ? undefined : body);
  }

  noContent(status = 204): void {
    this.res.writeHead(status);
    this.res.end();
  }

  /**
   * Reads a JSON body. An empty body is `undefined` (dockerd accepts it for most routes); anything
   * else must parse, be one value, and stay under MAX_JSON_BODY.
   */
  async readJson<T>(): Promise<T | undefined> {
    const type = this.req.headers['content-type'];
    if (type && !/^application\/json\b/i.test(type) && type !== 'text/plain') {
      throw invalidParameter(`unsupported Content-Type header (${type}): must be 'application/json'`);
    }
    const declared = Number(this.req.headers['content-length'] ?? NaN);
    if (declared > MAX_JSON_BODY) throw tooLarge();
    if (this.upgrade) return this.readUpgradeJson<T>(declared);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_JSON_BODY) throw tooLarge();
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw invalidParameter(`invalid JSON: ${(err as Error).message}`);
    }
  }

  /**
   * An upgrade request's body (exec start sends one) arrives in `head`, not through `req`: take
   * Content-Length bytes of it and leave the rest as the first bytes of the hijacked stream.
   */
  private async readUpgradeJson<T>(length: number): Promise<T | undefined> {
    const up = this.upgrade!;
    if (!(length > 0)) return undefined;
    while (up.head.length < length) {
      const more = await new Promise<Buffer | null>((resolve) => {
        up.socket.once('data', (d: Buffer) => resolve(d));
        up.socket.once('end', () => resolve(null));
      });
      if (!more) break;
      up.socket.pause();
      up.head = Buffer.concat([up.head, more]);
    }
    const text = up.head.subarray(0, length).toString('utf8');
    up.head = up.head.subarray(length);
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw invalidParameter(`invalid JSON: ${(err as Error).message}`);
    }
  }

  /** The upgraded connection itself, for protocols other than Docker's raw stream (websocket attach). */
  takeUpgrade(): { socket: Duplex; head: Buffer } | undefined {
    if (!this.upgrade) return undefined;
    this.res.detachSocket(this.upgrade.socket as never);
    return this.upgrade;
  }

  /** Takes over the connection for a bidirectional stream (attach, exec start). */
  hijack(contentType: 'application/vnd.docker.raw-stream' | 'application/vnd.docker.multiplexed-stream'): HijackedStream {
    return hijack(this.req, this.res, contentType, this.upgrade);
  }
}

function tooLarge(): EngineError {
  return new EngineError(413, `request body is too large: the limit for JSON bodies is ${MAX_JSON_BODY / 1024 / 1024} MiB`);
}
