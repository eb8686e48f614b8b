import { mkdtempSync, rmSync, statSync, existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostSocketForwarder } from './host-socket.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()!(); });

function upperCaseServer(): Promise<number> {
  const srv = net.createServer((s) => s.on('data', (d) => s.write(d.toString().toUpperCase())).on('end', () => s.end('<eof>')));
  cleanups.push(() => new Promise((r) => srv.close(() => r())));
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as net.AddressInfo).port)));
}

function roundTrip(socketPath: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const c = net.connect(socketPath, () => c.end(text));
    c.on('data', (d) => { got += d.toString(); });
    c.on('close', () => resolve(got));
    c.on('error', reject);
  });
}

describe('host socket forwarder', () => {
  it('pipes each unix-socket client to the TCP target, half-close included, behind an owner-only socket', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'berth-fwd-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await upperCaseServer();
    const sock = path.join(dir, 'docker.sock');
    const fwd = await HostSocketForwarder.listen(sock, { kind: 'tcp', host: '127.0.0.1', port });
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    const answers = await Promise.all([roundTrip(sock, 'ping one'), roundTrip(sock, 'ping two')]);
    expect(answers).toEqual(['PING ONE<eof>', 'PING TWO<eof>']);
    await fwd.close();
    expect(existsSync(sock)).toBe(false);
  });

  it('replaces a stale socket file left by a killed run', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'berth-fwd-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const sock = path.join(dir, 'docker.sock');
    writeFileSync(sock, ''); // what a killed supervisor leaves: a path nobody listens on
    const port = await upperCaseServer();
    const fwd = await HostSocketForwarder.listen(sock, { kind: 'tcp', host: '127.0.0.1', port });
    expect(await roundTrip(sock, 'x')).toBe('X<eof>');
    await fwd.close();
  });
});
