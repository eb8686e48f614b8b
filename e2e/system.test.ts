// berthd's foundation end to end: the real docker CLI and dockerode against a berthd on a temporary
// socket, bad input, TLS on TCP, signals; and the same requests against the reference dockerd.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import http from 'node:http';
import https from 'node:https';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { startBerthd, berthdBundle, type Berthd } from './berthd';
import { startReferenceDockerd } from './reference';

const run = promisify(execFile);
const docker = (b: { env: NodeJS.ProcessEnv }, ...args: string[]) => run('docker', args, { env: b.env, encoding: 'utf8' });

function raw(socket: string, method: string, p: string, body?: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: p, headers: body ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: data, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

let berthd: Berthd;
beforeAll(async () => {
  berthd = await startBerthd();
});
afterAll(async () => {
  await berthd?.stop();
});

describe('docker CLI against berthd', () => {
  it('docker version shows a Server section with API 1.51', async () => {
    const { stdout } = await docker(berthd, 'version', '--format', '{{json .Server}}');
    const server = JSON.parse(stdout);
    expect(server.ApiVersion).toBe('1.51');
    expect(server.MinAPIVersion).toBe('1.24');
    expect(server.Os).toBe('linux');
    expect(server.Components[0]).toMatchObject({ Name: 'Engine', Version: '0.1.0' });
  });

  it('docker info reports real host figures and the data root', async () => {
    const { stdout } = await docker(berthd, 'info', '--format', '{{json .}}');
    const info = JSON.parse(stdout);
    expect(info.ServerErrors ?? []).toEqual([]);
    expect(info.NCPU).toBe((await import('node:os')).cpus().length);
    expect(info.MemTotal).toBe((await import('node:os')).totalmem());
    expect(info.KernelVersion).toBe((await import('node:os')).release());
    expect(info.DockerRootDir).toBe(berthd.dataRoot);
    expect(info.OSType).toBe('linux');
    expect(['1', '2']).toContain(info.CgroupVersion);
    expect(info.RegistryConfig.InsecureRegistryCIDRs).toContain('127.0.0.0/8');
  });

  it('docker system df answers with the four sections', async () => {
    const { stdout } = await docker(berthd, 'system', 'df');
    for (const kind of ['Images', 'Containers', 'Local Volumes', 'Build Cache']) expect(stdout).toContain(kind);
  });

  it('docker events --since/--until replays what happened in that window', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    // SIGHUP reloads the configuration and emits a daemon reload event.
    berthd.process.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 300));
    const until = Math.ceil(Date.now() / 1000) + 1;
    await new Promise((r) => setTimeout(r, 1100));
    const { stdout } = await docker(berthd, 'events', '--since', String(since), '--until', String(until), '--filter', 'type=daemon', '--format', '{{.Type}} {{.Action}}');
    expect(stdout.trim().split('\n')).toContain('daemon reload');
  });

  it('docker events streams new events to a follower', async () => {
    const child = execFile('docker', ['events', '--filter', 'event=reload', '--format', '{{.Action}}'], { env: berthd.env });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await new Promise((r) => setTimeout(r, 500));
    berthd.process.kill('SIGHUP');
    for (let i = 0; i < 50 && !out.includes('reload'); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill();
    expect(out.trim()).toBe('reload');
  });
});

describe('dockerode against berthd', () => {
  it('pings, reads version and info', async () => {
    const client = new Docker({ socketPath: berthd.socket });
    expect(String(await client.ping())).toBe('OK');
    expect((await client.version()).ApiVersion).toBe('1.51');
    expect((await client.info()).DockerRootDir).toBe(berthd.dataRoot);
  });
});

describe('bad input', () => {
  it('answers each with the right status and a message, and keeps serving', async () => {
    const cases: [string, string, string | undefined, number, RegExp][] = [
      ['GET', '/v1.51/no/such/route', undefined, 404, /^page not found$/],
      ['GET', '/v1.99/info', undefined, 400, /too new/],
      ['GET', '/v1.10/info', undefined, 400, /too old/],
      ['GET', '/events?filters=%7Bbroken', undefined, 400, /invalid filter/],
      ['GET', '/events?filters=%7B%22colour%22%3A%7B%22x%22%3Atrue%7D%7D', undefined, 400, /invalid filter 'colour'/],
      ['GET', '/events?since=yesterday-ish', undefined, 400, /invalid value for since/],
      ['GET', '/system/df?type=spaceships', undefined, 400, /unknown object type/],
      ['POST', '/berth/jobs/ffff/cancel', undefined, 404, /No such job/],
    ];
    for (const [method, p, body, status, message] of cases) {
      const res = await raw(berthd.socket, method, p, body);
      expect(res.status, `${method} ${p}`).toBe(status);
      expect(JSON.parse(res.body).message, `${method} ${p}`).toMatch(message);
    }
    expect((await raw(berthd.socket, 'GET', '/_ping')).body).toBe('OK');
  });

  it('HEAD /_ping answers with the API headers and no body', async () => {
    const res = await raw(berthd.socket, 'HEAD', '/_ping');
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers).toMatchObject({ 'api-version': '1.51', ostype: 'linux', 'docker-experimental': 'false', 'builder-version': '1', 'cache-control': 'no-cache, no-store, must-revalidate', pragma: 'no-cache' });
  });
});

describe('jobs', () => {
  it('lists the serveapi job, running', async () => {
    const res = await raw(berthd.socket, 'GET', '/berth/jobs');
    const jobs = JSON.parse(res.body);
    const serveapi = jobs.find((j: { name: string }) => j.name === 'serveapi');
    expect(serveapi).toMatchObject({ state: 'running', cancellable: false });
    // Cancelling the API server from the API would take berthd down: refused.
    const refused = await raw(berthd.socket, 'POST', `/berth/jobs/${serveapi.id}/cancel`);
    expect(refused.status).toBe(409);
    expect(JSON.parse(refused.body).message).toMatch(/cannot be cancelled/);
    expect((await raw(berthd.socket, 'GET', '/_ping')).body).toBe('OK');
  });
});

describe('start-up and shutdown', () => {
  it('refuses plain TCP on a non-loopback address, with a clear message', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'berthd-tcp-'));
    const res = spawnSync(process.execPath, [berthdBundle, '-H', 'tcp://0.0.0.0:23750', '--data-root', `${dir}/root`, '--exec-root', `${dir}/exec`, '--pidfile', `${dir}/pid`, '--config-file', '/dev/null'], { encoding: 'utf8', timeout: 20_000 });
    rmSync(dir, { recursive: true, force: true });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/refusing to listen on tcp:\/\/0.0.0.0:23750 without TLS/);
  });

  it('refuses a flag that the config file also sets', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'berthd-conf-'));
    writeFileSync(`${dir}/daemon.json`, JSON.stringify({ 'data-root': `${dir}/a` }));
    const res = spawnSync(process.execPath, [berthdBundle, '--config-file', `${dir}/daemon.json`, '--data-root', `${dir}/b`], { encoding: 'utf8', timeout: 20_000 });
    rmSync(dir, { recursive: true, force: true });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/specified both as a flag and in the configuration file: data-root/);
  });

  it('serves TLS on TCP and accepts only clients with a certificate from the CA', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'berthd-tls-'));
    const sh = (cmd: string) => {
      const r = spawnSync('sh', ['-c', cmd], { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
    };
    sh('openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca 2>/dev/null');
    sh('openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null');
    sh('printf "subjectAltName=IP:127.0.0.1,DNS:localhost\\n" > ext.cnf && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf 2>/dev/null');
    sh('openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=client 2>/dev/null && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 2>/dev/null');
    // A port below the kernel's ephemeral range (32768 and up), where no test's connection lands;
    // another try on the rare one that a listener holds.
    let port = 0;
    let b: Awaited<ReturnType<typeof startBerthd>> | undefined;
    for (let attempt = 0; !b; attempt++) {
      port = 20000 + Math.floor(Math.random() * 12000);
      try {
        b = await startBerthd({ extraArgs: ['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', `${dir}/ca.pem`, '--tlscert', `${dir}/server.pem`, '--tlskey', `${dir}/server.key`] });
      } catch (err) {
        if (attempt >= 4 || !/EADDRINUSE|address already in use/i.test((err as Error).message)) throw err;
      }
    }
    try {
      const env = { ...process.env, DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir };
      writeFileSync(`${dir}/key.pem`, readFileSync(`${dir}/client.key`));
      writeFileSync(`${dir}/cert.pem`, readFileSync(`${dir}/client.pem`));
      const { stdout } = await run('docker', ['version', '--format', '{{.Server.APIVersion}}'], { env, encoding: 'utf8' });
      expect(stdout.trim()).toBe('1.51');
      // Without a client certificate the handshake is refused.
      const refused = await new Promise<string>((resolve) => {
        const req = https.get({ host: '127.0.0.1', port, path: '/_ping', ca: readFileSync(`${dir}/ca.pem`) }, () => resolve('accepted'));
        req.on('error', (err) => resolve(err.message));
      });
      expect(refused).not.toBe('accepted');
    } finally {
      await b.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SIGTERM drains and exits 0, removing its socket and pid file', async () => {
    const b = await startBerthd();
    const pidfile = path.join(b.dir, 'berthd.pid');
    expect(existsSync(pidfile)).toBe(true);
    const code = await b.stop({ keepState: true });
    expect(code).toBe(0);
    expect(existsSync(b.socket)).toBe(false);
    expect(existsSync(pidfile)).toBe(false);
    rmSync(b.dir, { recursive: true, force: true });
  });

  it('SIGHUP applies a new log level from the config file', async () => {
    const b = await startBerthd({ config: { 'log-level': 'info' } });
    try {
      await raw(b.socket, 'GET', '/_ping');
      expect(b.logs()).not.toMatch(/level=debug/);
      writeFileSync(b.configFile, JSON.stringify({ 'log-level': 'debug' }));
      b.process.kill('SIGHUP');
      for (let i = 0; i < 50 && !b.logs().includes('configuration reloaded'); i++) await new Promise((r) => setTimeout(r, 50));
      await raw(b.socket, 'GET', '/_ping');
      // The request line is logged just after the response is sent.
      for (let i = 0; i < 50 && !/level=debug msg="request"/.test(b.logs()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(b.logs()).toMatch(/level=debug msg="request"/);
    } finally {
      await b.stop();
    }
  });
});

describe('compared with the reference dockerd', () => {
  const reference = startReferenceDockerd();
  it.runIf(reference)('answers the same requests with the same status and message', async () => {
    // The reference is dockerd 20.10 (API 1.41), so version bounds are compared in shape, not number.
    const normalise = (m: string) => m.replace(/\d+\.\d+/g, 'X.Y');
    for (const p of ['/v1.51/no/such/route', '/v1.99/info', '/v1.51/containers/nothing-here/json/extra']) {
      const ours = await raw(berthd.socket, 'GET', p);
      const theirs = await raw(reference!.socket, 'GET', p);
      expect(ours.status, p).toBe(theirs.status);
      expect(normalise(JSON.parse(ours.body).message), p).toBe(normalise(JSON.parse(theirs.body).message));
    }
    const ourPing = await raw(berthd.socket, 'GET', '/_ping');
    const theirPing = await raw(reference!.socket, 'GET', '/_ping');
    for (const h of ['api-version', 'ostype', 'docker-experimental', 'cache-control', 'pragma']) {
      expect(ourPing.headers[h] === undefined, h).toBe(theirPing.headers[h] === undefined);
    }
    expect(ourPing.body).toBe(theirPing.body);
  });
});
