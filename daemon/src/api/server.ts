// The API server: HTTP over unix sockets and TCP (TLS with client certificates off loopback),
// one dispatch path for ordinary and upgraded (hijacked) requests, one place that maps errors to
// responses with dockerd's status codes and `{"message": …}` bodies.
import http, { type IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpsServer, ServerOptions as TlsServerOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Engine } from '../engine/engine';
import { RequestContext } from './context';
import { Router } from './router';
import { splitVersion } from './version';
import { messageOf, statusOf, unavailable } from '../errors';
import type { Logger } from '../log';

export interface ServerIdentity {
  /** `Server` header: "Berth/0.1.0 (linux)". */
  server: string;
  apiVersion: string;
  osType: string;
  experimental: boolean;
}

export class ApiServer {
  /** The full route table while it is still on its way (see the constructor). */
  private pending?: Promise<Router>;

  /**
   * `router` answers at once. With `rest`, it is only the start: requests it does not match wait for
   * `rest`, the full table, which then replaces it (berthd answers /_ping while its components
   * open); if `rest` fails, they are refused with 503 and its reason.
   */
  constructor(
    private readonly engine: Engine,
    private router: Router,
    private readonly identity: ServerIdentity,
    private readonly log: Logger,
    rest?: Promise<Router>,
  ) {
    if (rest) {
      this.pending = rest;
      rest.then((full) => {
        this.router = full;
        this.pending = undefined;
      }, () => undefined);
    }
  }

  /** An http.Server wired to this API; the caller chooses where it listens. */
  createServer(): http.Server {
    return this.wire(http.createServer());
  }

  /**
   * The same over TLS. node:https is loaded only here: with the TLS and crypto modules it pulls in,
   * it is about a tenth of a second of start-up under a VM's emulation, before the first /_ping.
   */
  async createTlsServer(tls: TlsServerOptions): Promise<HttpsServer> {
    const https = await import('node:https');
    return this.wire(https.createServer(tls));
  }

  private wire<S extends http.Server>(server: S): S {
    server.on('request', (req, res) => void this.dispatch(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node hands upgraded requests over without a response object; make one on the same socket so
      // errors before the hijack are ordinary HTTP responses.
      const res = new ServerResponse(req);
      res.assignSocket(socket as never);
      res.shouldKeepAlive = false;
      // Nothing else closes a socket Node handed over; an answer that was not a hijack ends it.
      res.once('finish', () => socket.end());
      void this.dispatch(req, res, { socket, head });
    });
    server.on('clientError', (err, socket) => {
      this.log.debug('client error', { err: err.message });
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
    // Streams (logs -f, events, attach) stay open for as long as the client wants.
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    server.keepAliveTimeout = 60_000;
    return server;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, upgrade?: { socket: Duplex; head: Buffer }): Promise<void> {
    const started = process.hrtime.bigint();
    res.setHeader('Server', this.identity.server);
    res.setHeader('API-Version', this.identity.apiVersion);
    res.setHeader('OSType', this.identity.osType);
    res.setHeader('Docker-Experimental', String(this.identity.experimental));
    let path = '?';
    try {
      // Cheaper than new URL() on the hot path; the path is matched still percent-encoded.
      const target = req.url ?? '/';
      const q = target.indexOf('?');
      const split = splitVersion(q < 0 ? target : target.slice(0, q));
      const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
      path = split.path;
      const match = this.router.match(req.method ?? 'GET', split.path) ?? (await this.fullRouter())?.match(req.method ?? 'GET', split.path);
      if (!match) {
        this.sendError(req, res, 404, 'page not found');
        return;
      }
      const ctx = new RequestContext(this.engine, req, res, match.params, query, split.version, upgrade);
      await match.route.handler(ctx);
    } catch (err) {
      const status = statusOf(err);
      if (status >= 500 && status !== 503) this.log.error('request failed', { method: req.method, path, err: messageOf(err) });
      if (res.headersSent || (upgrade && !res.socket)) {
        // The response already started (a stream): all we can do is end it.
        res.destroy();
        upgrade?.socket.destroy();
      } else {
        this.sendError(req, res, status === 499 ? 500 : status, messageOf(err));
      }
    } finally {
      if (this.log.level === 'debug') this.log.debug('request', { method: req.method, path, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    }
  }

  /** The full table once berthd has started; undefined when it already serves it. */
  private async fullRouter(): Promise<Router | undefined> {
    if (!this.pending) return undefined;
    try {
      return await this.pending;
    } catch (err) {
      throw unavailable(`berthd failed to start: ${messageOf(err)}`);
    }
  }

  private sendError(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
    if (status === 304) {
      res.writeHead(304);
      res.end();
      return;
    }
    const body = JSON.stringify({ message }) + '\n';
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
    // A request body we did not read must not be parsed as the next request: close after answering.
    if (!req.complete) headers.Connection = 'close';
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    if (!req.complete) req.resume();
  }
}
