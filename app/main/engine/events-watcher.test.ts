// The events watcher against a real HTTP server on a temporary unix socket that drops the events
// stream mid-way: the watcher must reconnect, resume from the last event's time, and report each
// (re)connection so consumers resynchronise.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineClient } from './engine-client.js';
import { EventsWatcher } from './events-watcher.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A tiny engine: /_ping with an API version, /events that sends `batches[n]` on the n-th connection. */
async function fakeEngine(batches: string[][]): Promise<{ socket: string; sinces: (string | null)[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-events-'));
  const socket = path.join(dir, 'engine.sock');
  const sinces: (string | null)[] = [];
  let connection = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/_ping') {
      res.writeHead(200, { 'Api-Version': '1.45', Server: 'test-engine/1' }).end('OK');
      return;
    }
    if (url.pathname.endsWith('/events')) {
      sinces.push(url.searchParams.get('since'));
      const batch = batches[connection++];
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // A streaming endpoint must send its headers at once (dockerd does), or clients wait.
      res.flushHeaders();
      if (!batch) return; // the last connection stays open, like a quiet engine
      for (const e of batch) res.write(e + '\n');
      // End this stream abruptly, as an engine restart would.
      setTimeout(() => res.destroy(), 20);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(socket, r));
  cleanups.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { socket, sinces };
}

const event = (action: string, timeNano: number) => JSON.stringify({ Type: 'container', Action: action, Actor: { ID: 'c1' }, time: Math.floor(timeNano / 1e9), timeNano });

describe('EventsWatcher', () => {
  it('reconnects after the stream drops and resumes from the last event seen', async () => {
    const engine = await fakeEngine([[event('create', 1_700_000_000_100_000_000), event('start', 1_700_000_001_500_000_000)], [event('die', 1_700_000_002_000_000_000)]]);
    const client = new EngineClient({ kind: 'unix', socketPath: engine.socket });
    cleanups.push(() => client.close());
    const seen: string[] = [];
    let connects = 0;
    let drops = 0;
    const watcher = new EventsWatcher(client, {
      onConnected: () => { connects++; seen.push('connected'); },
      onEvent: (e) => seen.push(e.Action ?? ''),
      onDisconnected: () => { drops++; },
    }, 50);
    watcher.start();
    cleanups.push(() => watcher.stop());
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(6);
    expect(seen.slice(0, 6)).toEqual(['connected', 'create', 'start', 'connected', 'die', 'connected']);
    expect(connects).toBeGreaterThanOrEqual(3);
    expect(drops).toBeGreaterThanOrEqual(2);
    expect(engine.sinces[0]).toBeNull();
    expect(Number(engine.sinces[1])).toBeCloseTo(1_700_000_001.5, 3);
    expect(Number(engine.sinces[2])).toBeCloseTo(1_700_000_002, 3);
    expect(client.transport.apiVersion).toBe('1.45');
  });
});
