// Web mode: the renderer served on 127.0.0.1 and window.berth carried over a WebSocket, for a
// browser where Electron is not installed. Nothing listens beyond loopback. Every request needs
// the random token (from the URL, then a SameSite=Strict cookie), a Host naming this server
// (defeats DNS rebinding) and, where a browser sends one, an Origin of this server (defeats
// cross-site pages and WebSockets).
import http from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { isRequestChannel } from '../../shared/contract.js';
import { WEB_SOCKET_PATH, type ClientMessage, type ServerMessage } from '../../shared/web-protocol.js';
import { toBridgeError, type BerthServices } from '../services/berth-services.js';

export interface WebServerOptions {
  services: BerthServices;
  /** The built renderer: web.html, app.js, app.css, web-bridge.js. */
  staticDir: string;
  /** 0 picks a free port. */
  port?: number;
  token?: string;
}

export interface WebServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const COOKIE = 'berth_token';
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2',
};
/** Backlog (bytes) on a socket above which log streams for it pause. */
const BACKLOG_LIMIT = 4 << 20;

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 << 20 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = new Set([...allowedHosts].map((h) => `http://${h}`));

  /** Why a request is refused, or undefined when it may proceed. */
  const refusal = (req: http.IncomingMessage, url: URL): [number, string] | undefined => {
    if (!allowedHosts.has(req.headers.host ?? '')) return [421, 'web mode answers only to 127.0.0.1 and localhost'];
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(origin)) return [403, 'cross-origin requests are refused'];
    const given = url.searchParams.get('token') ?? cookie(req, COOKIE);
    if (!given || !sameToken(given, token)) return [401, 'missing or wrong token: open the URL that `berth web` printed'];
    return undefined;
  };

  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const refused = refusal(req, url);
    if (refused) {
      res.writeHead(refused[0], { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${refused[1]}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    void serveStatic(options.staticDir, url.pathname, token, res);
  });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const refused = url.pathname === WEB_SOCKET_PATH ? refusal(req, url) : [404, 'not found'] as [number, string];
    // A WebSocket always carries an Origin from a browser; insist on it here.
    const unsafe = refused ?? (req.headers.origin === undefined ? [403, 'a WebSocket needs an Origin'] as [number, string] : undefined);
    if (unsafe) {
      socket.end(`HTTP/1.1 ${unsafe[0]} ${http.STATUS_CODES[unsafe[0]]}\r\nConnection: close\r\nContent-Length: ${unsafe[1].length + 1}\r\n\r\n${unsafe[1]}\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, options.services));
  });

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serveSocket(ws: WebSocket, services: BerthServices): void {
  const send = (m: ServerMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  const session = services.openSession(
    (channel, payload) => send({ t: 'evt', channel, payload }),
    () => ws.bufferedAmount > BACKLOG_LIMIT,
  );
  ws.on('message', (data) => {
    let m: ClientMessage;
    try {
      m = JSON.parse(String(data)) as ClientMessage;
    } catch {
      ws.close(1003, 'messages must be JSON');
      return;
    }
    if (m?.t !== 'req' || typeof m.id !== 'number' || !isRequestChannel(m.channel)) {
      send({ t: 'res', id: typeof m?.id === 'number' ? m.id : -1, ok: false, error: { status: 400, message: `unknown request channel ${String(m?.channel)}` } });
      return;
    }
    session.handle(m.channel, m.args).then(
      (result) => send({ t: 'res', id: m.id, ok: true, result: result ?? null }),
      (err: unknown) => send({ t: 'res', id: m.id, ok: false, error: toBridgeError(err) }),
    );
  });
  ws.on('close', () => session.dispose());
}

async function serveStatic(dir: string, pathname: string, token: string, res: http.ServerResponse): Promise<void> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    res.writeHead(400, { 'Content-Type': 'text/plain' }).end('malformed path\n');
    return;
  }
  const name = pathname === '/' ? 'web.html' : path.normalize(decoded).replace(/^[/\\]+/, '');
  const root = path.resolve(dir);
  const file = path.resolve(root, name);
  if (!file.startsWith(root + path.sep)) {
    res.writeHead(404).end();
    return;
  }
  try {
    const body = await readFile(file);
    const headers: Record<string, string> = {
      'Content-Type': types[path.extname(file)] ?? 'application/octet-stream',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    };
    if (name === 'web.html') {
      headers['Content-Security-Policy'] = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
      headers['X-Frame-Options'] = 'DENY';
      headers['Set-Cookie'] = `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    res.writeHead(200, headers).end(body);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  }
}

function cookie(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
