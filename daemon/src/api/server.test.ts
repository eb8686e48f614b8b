// The API server in-process, with a small route table of its own: dispatch, error mapping, body
// limits and the hijacked (upgraded) connection that attach and exec are built on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiServer } from './server';
import { Router } from './router';
import { Engine } from '../engine/engine';
import { Logger } from '../log';
import { conflict } from '../errors';
import { frame, MultiplexedStreamReader, StreamType } from './streams/multiplexed-stream';

const dir = mkdtempSync(path.join(tmpdir(), 'berth-api-'));
const socket = path.join(dir, 'api.sock');
let server: http.Server;

const router = new Router([
  { method: 'POST', path: '/echo', handler: async (ctx) => ctx.json(201, { got: await ctx.readJson() }) },
  { method: 'POST', path: '/things/{id}/conflict', handler: async (ctx) => { throw conflict(`thing ${ctx.params.id} is busy`); } },
  { method: 'GET', path: '/boom', handler: async () => { throw new Error('disk on fire'); } },
  {
    // Echoes stdin back as multiplexed stdout frames until the client half-closes.
    method: 'POST', path: '/attach', handler: async (ctx) => {
      const stream = ctx.hijack('application/vnd.docker.multiplexed-stream');
      stream.input!.on('data', (c: Buffer) => stream.output.write(frame(StreamType.Stdout, c)));
      stream.input!.on('end', () => stream.closeWrite());
      // The hijack holds input until the handler is ready for it.
      stream.input!.resume();
    },
  },
]);

function request(method: string, p: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: p, headers }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: data, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  const api = new ApiServer(new Engine(new Logger({ write: () => true })), router, { server: 'Berth/test (linux)', apiVersion: '1.51', osType: 'linux', experimental: false }, new Logger({ write: () => true }));
  server = api.createServer();
  await new Promise<void>((r) => server.listen(socket, r));
});

afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('API server', () => {
  it('sets the identity headers on every response', async () => {
    const res = await request('GET', '/nowhere');
    expect(res.headers).toMatchObject({ server: 'Berth/test (linux)', 'api-version': '1.51', ostype: 'linux', 'docker-experimental': 'false' });
  });

  it('answers unknown routes with 404 and a JSON message', async () => {
    const res = await request('GET', '/v1.51/nowhere');
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ message: 'page not found' });
  });

  it('decodes JSON bodies, with or without a version prefix', async () => {
    const res = await request('POST', '/v1.45/echo', '{"a":[1,2]}', { 'Content-Type': 'application/json' });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body)).toEqual({ got: { a: [1, 2] } });
  });

  it('refuses malformed JSON with 400 and says why', async () => {
    const res = await request('POST', '/echo', '{"a":', { 'Content-Type': 'application/json' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toMatch(/^invalid JSON: /);
  });

  it('refuses a body that is not JSON by its content type', async () => {
    const res = await request('POST', '/echo', '<xml/>', { 'Content-Type': 'application/xml' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toBe("unsupported Content-Type header (application/xml): must be 'application/json'");
  });

  it('refuses an oversized JSON body with 413 and keeps serving', async () => {
    const big = Buffer.alloc(17 * 1024 * 1024, 0x20);
    const res = await request('POST', '/echo', big, { 'Content-Type': 'application/json' });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).message).toMatch(/too large/);
    expect((await request('POST', '/echo', '1', { 'Content-Type': 'application/json' })).status).toBe(201);
  });

  it('maps engine errors to their status and message', async () => {
    const res = await request('POST', '/things/t1/conflict');
    expect(res.status).toBe(409);
    expect(JSON.parse(res.body)).toEqual({ message: 'thing t1 is busy' });
  });

  it('maps unexpected failures to 500 with the message', async () => {
    const res = await request('GET', '/boom');
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ message: 'disk on fire' });
  });

  it('hijacks an upgraded connection into a two-way stream', async () => {
    const conn = net.connect(socket);
    await new Promise((r) => conn.once('connect', r));
    conn.write('POST /v1.51/attach HTTP/1.1\r\nHost: berthd\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n');
    let raw = Buffer.alloc(0);
    const headerEnd = await new Promise<number>((resolve) => {
      conn.on('data', (c: Buffer) => {
        raw = Buffer.concat([raw, c]);
        const i = raw.indexOf('\r\n\r\n');
        if (i >= 0) resolve(i + 4);
      });
    });
    const head = raw.subarray(0, headerEnd).toString();
    expect(head).toMatch(/^HTTP\/1.1 101 UPGRADED\r\n/);
    expect(head).toMatch(/Content-Type: application\/vnd.docker.multiplexed-stream/);
    expect(head).toMatch(/Upgrade: tcp/);

    let stdout = '';
    const reader = new MultiplexedStreamReader((t, p) => {
      if (t === StreamType.Stdout) stdout += p.toString();
    });
    reader.push(raw.subarray(headerEnd));
    conn.removeAllListeners('data');
    conn.on('data', (c: Buffer) => reader.push(c));
    conn.write('hello ');
    conn.write('world');
    conn.end();
    await new Promise((r) => conn.once('close', r));
    expect(stdout).toBe('hello world');
    expect(reader.atBoundary).toBe(true);
  });

  it('answers errors before a hijack as ordinary HTTP on the upgrade path', async () => {
    const conn = net.connect(socket);
    conn.write('POST /things/x/conflict HTTP/1.1\r\nHost: berthd\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    let text = '';
    conn.on('data', (c) => (text += c));
    await new Promise((r) => conn.once('close', r));
    expect(text).toMatch(/^HTTP\/1.1 409 /);
    expect(text).toMatch(/"message":"thing x is busy"/);
  });
});

describe('API server, hijacked clients that vanish', () => {
  it('survives a client that disconnects while output is being written', async () => {
    const flood = new Router([{
      method: 'POST', path: '/flood', handler: async (ctx) => {
        const stream = ctx.hijack('application/vnd.docker.raw-stream');
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        // Keep writing after the client is gone: the writes fail with EPIPE/ECONNRESET.
        for (let i = 0; i < 200; i++) {
          stream.output.write(chunk);
          await new Promise((r) => setImmediate(r));
        }
      },
    }]);
    const quiet = new Logger({ write: () => true });
    const s = new ApiServer(new Engine(quiet), flood, { server: 'x', apiVersion: '1.51', osType: 'linux', experimental: false }, quiet).createServer();
    const sock = path.join(dir, 'flood.sock');
    await new Promise<void>((r) => s.listen(sock, r));
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const conn = net.connect(sock);
      conn.write('POST /flood HTTP/1.1\r\nHost: b\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      await new Promise((r) => conn.once('data', r));
      conn.destroy();
      await new Promise((r) => setTimeout(r, 300));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      s.close();
    }
  });
});

describe('API server while berthd starts', () => {
  const quiet = new Logger({ write: () => true });
  const identity = { server: 'x', apiVersion: '1.51', osType: 'linux', experimental: false };
  const early = new Router([{ method: 'GET', path: '/_ping', handler: async (ctx) => ctx.text(200, 'OK') }]);

  async function starting(name: string, rest: Promise<Router>): Promise<{ get: (p: string) => Promise<{ status: number; body: string }>; close: () => void }> {
    const s = new ApiServer(new Engine(quiet), early, identity, quiet, rest).createServer();
    const sock = path.join(dir, name);
    await new Promise<void>((r) => s.listen(sock, r));
    const get = (p: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      http.get({ socketPath: sock, path: p }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      }).on('error', reject);
    });
    return { get, close: () => s.close() };
  }

  it('answers the first table at once and holds other requests until the full table is there', async () => {
    let open!: (r: Router) => void;
    const api = await starting('starting.sock', new Promise<Router>((r) => (open = r)));
    try {
      expect(await api.get('/_ping')).toEqual({ status: 200, body: 'OK' });
      let answered = false;
      const version = api.get('/v1.51/version').then((res) => ((answered = true), res));
      const unknown = api.get('/nowhere');
      // The ping still answers while the other requests wait.
      expect((await api.get('/_ping')).status).toBe(200);
      expect(answered).toBe(false);
      open(new Router([{ method: 'GET', path: '/version', handler: async (ctx) => ctx.json(200, { Version: 'full' }) }]));
      expect(await version).toEqual({ status: 200, body: '{"Version":"full"}\n' });
      expect((await unknown).status).toBe(404);
      // Once open, the full table is the only one: its own answers, not the early ping's.
      expect((await api.get('/_ping')).status).toBe(404);
    } finally {
      api.close();
    }
  });

  it('refuses the waiting requests with 503 and the reason when start-up fails', async () => {
    let fail!: (err: Error) => void;
    const api = await starting('failing.sock', new Promise<Router>((_, reject) => (fail = reject)));
    try {
      const info = api.get('/info');
      fail(new Error('cannot open the graph'));
      const res = await info;
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toEqual({ message: 'berthd failed to start: cannot open the graph' });
    } finally {
      api.close();
    }
  });
});
