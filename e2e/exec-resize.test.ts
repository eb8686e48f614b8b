// The docker CLI resizes an exec's tty right after asking for its start, often before berthd has
// the exec's process: the resize must wait for it (as dockerd does), not fail.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import { startBerthd, type Berthd } from './berthd';
import { ensureFixtures } from './fixtures/fixtures';

const run = promisify(execFile);
let b: Berthd;

function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: b.socket, method, path, headers: body ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: data }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

beforeAll(async () => {
  b = await startBerthd();
  await run('docker', ['load', '-i', (await ensureFixtures()).busybox.dockerArchive], { env: b.env });
  await run('docker', ['run', '-d', '--name', 'sleeper', '--network', 'none', 'busybox', 'sleep', '300'], { env: b.env });
});

afterAll(async () => {
  await run('docker', ['rm', '-f', 'sleeper'], { env: b.env }).catch(() => undefined);
  await b?.stop();
});

it('a resize sent before the exec starts waits for it and applies', async () => {
  const created = await api('POST', '/containers/sleeper/exec', { Cmd: ['sh', '-c', 'sleep 1; stty size > /tmp/size'], Tty: true, AttachStdout: true });
  const { Id } = JSON.parse(created.body);
  const resized = api('POST', `/exec/${Id}/resize?h=33&w=77`);
  await new Promise((r) => setTimeout(r, 200));
  const started = await api('POST', `/exec/${Id}/start`, { Detach: true, Tty: true });
  expect(started.status).toBe(200);
  expect((await resized).status).toBe(200);
  let size = '';
  for (let i = 0; i < 100 && size === ''; i++) {
    await new Promise((r) => setTimeout(r, 100));
    size = (await run('docker', ['exec', 'sleeper', 'cat', '/tmp/size'], { env: b.env }).catch(() => ({ stdout: '' }))).stdout.trim();
  }
  expect(size).toBe('33 77');
});
