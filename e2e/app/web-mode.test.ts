// `berth web` as a real process: it listens only on loopback and refuses requests without the
// token, with a wrong token, with a foreign Host (DNS rebinding) or a foreign Origin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import WebSocket from 'ws';
import { startTestEngine, startWebMode, type TestEngine, type WebMode } from './harness';

let engine: TestEngine;
let web: WebMode;

beforeAll(async () => {
  engine = await startTestEngine();
  web = await startWebMode(engine.endpoint);
});
afterAll(async () => {
  await web?.stop();
  await engine?.stop();
});

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: web.port, path, headers: { Host: `127.0.0.1:${web.port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
  });
}

/** Opens a WebSocket and reports whether the server accepted it, or the status it refused with. */
function openSocket(query: string, headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${web.port}/berth-ws${query}`, { headers });
    ws.on('open', () => { ws.close(); resolve('open'); });
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); res.resume(); });
    ws.on('error', () => resolve(0));
  });
}

describe('berth web', () => {
  it('prints a loopback URL carrying a token on its first line', () => {
    expect(web.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}$/);
  });

  it('serves the app with the token and sets a strict cookie and CSP', async () => {
    const res = await get(`/?token=${web.token}`);
    expect(res.status).toBe(200);
    expect(res.body).toContain('<div id="root">');
    expect(String(res.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it('refuses a request without the token or with a wrong one', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/app.js')).status).toBe(401);
    // One character off (a token that ends in x gets a y: the same token would be let in).
    const wrong = web.token.slice(0, -1) + (web.token.endsWith('x') ? 'y' : 'x');
    expect((await get(`/?token=${wrong}`)).status).toBe(401);
  });

  it('answers a malformed or escaping path with an error and keeps serving', async () => {
    expect((await get(`/%E0%A4%A?token=${web.token}`)).status).toBe(400);
    expect((await get(`/..%2f..%2fetc%2fpasswd?token=${web.token}`)).status).toBe(404);
    expect((await get(`/?token=${web.token}`)).status).toBe(200);
  });

  it('refuses a foreign Host even with the right token (DNS rebinding)', async () => {
    const res = await get(`/?token=${web.token}`, { Host: `evil.example:${web.port}` });
    expect(res.status).toBe(421);
  });

  it('refuses a foreign Origin even with the right token', async () => {
    const res = await get(`/?token=${web.token}`, { Origin: 'http://evil.example' });
    expect(res.status).toBe(403);
  });

  it('accepts the bridge WebSocket only with the token, our Host and our Origin', async () => {
    const origin = `http://127.0.0.1:${web.port}`;
    expect(await openSocket(`?token=${web.token}`, { Origin: origin })).toBe('open');
    expect(await openSocket('', { Origin: origin })).toBe(401);
    expect(await openSocket(`?token=${web.token}`, { Origin: 'http://evil.example' })).toBe(403);
    expect(await openSocket(`?token=${web.token}`, { Origin: origin, Host: `evil.example:${web.port}` })).toBe(421);
  });

  it('answers window.berth requests over the socket and rejects malformed arguments', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${web.port}/berth-ws?token=${web.token}`, { headers: { Origin: `http://127.0.0.1:${web.port}` } });
    await new Promise((r) => ws.on('open', r));
    const replies = new Map<number, { ok: boolean; result?: unknown; error?: { status: number; message: string } }>();
    ws.on('message', (d) => {
      const m = JSON.parse(String(d));
      if (m.t === 'res') replies.set(m.id, m);
    });
    const ask = async (id: number, channel: string, args: unknown[]) => {
      ws.send(JSON.stringify({ t: 'req', id, channel, args }));
      for (let i = 0; i < 200 && !replies.has(id); i++) await new Promise((r) => setTimeout(r, 25));
      return replies.get(id);
    };
    const settings = await ask(1, 'settings:get', []);
    expect(settings).toMatchObject({ ok: true, result: { endpoint: engine.endpoint } });
    const bad = await ask(2, 'containers:stop', [42]);
    expect(bad).toMatchObject({ ok: false, error: { status: 400 } });
    const unknown = await ask(3, 'fs:readFile', ['/etc/shadow']);
    expect(unknown).toMatchObject({ ok: false, error: { status: 400 } });
    ws.close();
  });

  it('listens on loopback only', async () => {
    const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
    if (!external) return; // a machine with loopback only has nothing else to refuse on
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: external.address, port: web.port });
      s.on('connect', () => { s.destroy(); resolve(false); });
      s.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});
