// Containers on networks and volumes, end to end with the real docker CLI and docker-compose
// against a private berthd: names resolve on user networks, published ports serve the host's
// loopback, -P and `docker port`, live connect/disconnect, --network container:, named and image
// volumes, read-only binds, a compose project. After each test: no veth left on berthd's bridges,
// and after stopping berthd no bridge, nftables table or mount.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { startBerthd, type Berthd } from './berthd';
import { ensureFixtures, freePort } from './fixtures/fixtures';

const run = promisify(execFile);
const docker = (b: Berthd, ...args: string[]) => run('docker', args, { env: b.env, encoding: 'utf8', timeout: 60_000 });
const dockerFails = async (b: Berthd, ...args: string[]): Promise<string> => {
  try {
    await docker(b, ...args);
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
  throw new Error(`docker ${args.join(' ')} succeeded`);
};

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    }).on('error', reject);
  });
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, tries = 50): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await fn().catch(() => undefined as T);
    if (last !== undefined && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last as T;
}

interface Names { bridge: string; table: string }

async function bridgePorts(bridge: string): Promise<string[]> {
  const r = await run('ip', ['-j', 'link', 'show', 'master', bridge], { encoding: 'utf8' }).catch(() => ({ stdout: '[]' }));
  return (JSON.parse(r.stdout || '[]') as { ifname: string }[]).map((l) => l.ifname);
}

describe('containers on networks and volumes', () => {
  let berthd: Berthd;
  let names: Names;
  let execRoot: string;
  const www = path.join('/tmp', `berth-net-e2e-www-${process.pid}`);

  beforeAll(async () => {
    const fixtures = await ensureFixtures();
    // A short exec root: the shims' unix sockets live under it (108-byte limit).
    execRoot = mkdtempSync('/tmp/bn-');
    berthd = await startBerthd({ execRoot, config: { 'default-address-pools': [{ base: '10.244.0.0/16', size: 24 }] } });
    const conf = JSON.parse(readFileSync(berthd.configFile, 'utf8')) as { bridge: string; 'firewall-table': string };
    names = { bridge: conf.bridge, table: conf['firewall-table'] };
    await docker(berthd, 'load', '-i', fixtures.busybox.dockerArchive);
    mkdirSync(www, { recursive: true });
    writeFileSync(path.join(www, 'index.html'), 'hello from berth\n');
  });

  afterEach(async () => {
    const { stdout } = await docker(berthd, 'ps', '-aq');
    const ids = stdout.trim().split('\n').filter(Boolean);
    if (ids.length > 0) await docker(berthd, 'rm', '-fv', ...ids);
    for (const n of (await docker(berthd, 'network', 'ls', '--filter', 'type=custom', '-q')).stdout.trim().split('\n').filter(Boolean)) {
      await docker(berthd, 'network', 'rm', n);
    }
    // Nothing of the removed containers remains on the default bridge.
    expect(await until(() => bridgePorts(names.bridge), (p) => p.length === 0)).toEqual([]);
  });

  afterAll(async () => {
    if (!berthd) return;
    const dataRoot = berthd.dataRoot;
    try {
      await berthd.stop({ keepState: true });
      // Shutdown leaves no table, no bridge and no mount of berthd's behind.
      await expect(run('nft', ['list', 'table', 'inet', names.table])).rejects.toThrow();
      await expect(run('ip', ['link', 'show', names.bridge])).rejects.toThrow();
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dataRoot);
    } finally {
      await berthd.stop();
      rmSync(execRoot, { recursive: true, force: true });
      rmSync(www, { recursive: true, force: true });
    }
  });

  it('two containers on a user network reach each other by name and alias', async () => {
    await docker(berthd, 'network', 'create', 'appnet');
    await docker(berthd, 'run', '-d', '--name', 'web', '--network', 'appnet', '--network-alias', 'frontend', '-v', `${www}:/www:ro`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    for (const host of ['web', 'frontend']) {
      const { stdout } = await docker(berthd, 'run', '--rm', '--network', 'appnet', 'busybox', 'wget', '-qO-', `http://${host}/`);
      expect(stdout).toBe('hello from berth\n');
    }
    const inspect = JSON.parse((await docker(berthd, 'inspect', 'web')).stdout)[0];
    const ep = inspect.NetworkSettings.Networks.appnet;
    expect(ep.IPAddress).toMatch(/^10\.244\.\d+\.\d+$/);
    expect(ep.Aliases).toContain('frontend');
    expect(ep.DNSNames).toEqual(expect.arrayContaining(['web', 'frontend']));
    expect((await docker(berthd, 'ps', '--filter', 'network=appnet', '--format', '{{.Names}} {{.Networks}}')).stdout.trim()).toBe('web appnet');
    // A network with a running container on it cannot be removed.
    expect(await dockerFails(berthd, 'network', 'rm', 'appnet')).toContain('has active endpoints');
  });

  it('the default bridge reaches a service on the host\'s loopback through the gateway (host-gateway)', async () => {
    const server = http.createServer((_req, res) => res.end('host says hi'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const { stdout } = await docker(berthd, 'run', '--rm', '--add-host', 'host.docker.internal:host-gateway', 'busybox', 'wget', '-qO-', `http://host.docker.internal:${port}/`);
      expect(stdout).toBe('host says hi');
    } finally {
      server.close();
    }
  });

  it('a published port serves busybox httpd to the host\'s 127.0.0.1; -P and docker port', async () => {
    const port = await freePort();
    await docker(berthd, 'run', '-d', '--name', 'pub', '-p', `127.0.0.1:${port}:80`, '-v', `${www}:/www:ro`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    expect(await until(() => httpGet(`http://127.0.0.1:${port}/`), (b) => b.includes('hello'))).toBe('hello from berth\n');
    const curl = await run('curl', ['-s', `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
    expect(curl.stdout).toBe('hello from berth\n');
    expect((await docker(berthd, 'port', 'pub')).stdout.trim()).toBe(`80/tcp -> 127.0.0.1:${port}`);
    expect((await docker(berthd, 'ps', '--format', '{{.Ports}}', '--filter', 'name=pub')).stdout.trim()).toBe(`127.0.0.1:${port}->80/tcp`);
    expect((await docker(berthd, 'ps', '--format', '{{.Names}}', '--filter', `publish=${port}`)).stdout.trim()).toBe('pub');

    await docker(berthd, 'run', '-d', '--name', 'all', '-P', '--expose', '80', '--expose', '8080', '-v', `${www}:/www:ro`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
    const ports = (await docker(berthd, 'port', 'all')).stdout.trim().split('\n').sort();
    expect(ports).toHaveLength(2);
    const random = Number(/^80\/tcp -> 0\.0\.0\.0:(\d+)$/m.exec(ports.join('\n'))![1]);
    expect(await until(() => httpGet(`http://127.0.0.1:${random}/`), (b) => b.includes('hello'))).toBe('hello from berth\n');
  });

  it('a taken port is a clear error and the container does not start half-wired', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const before = await bridgePorts(names.bridge);
      const err = await dockerFails(berthd, 'run', '-d', '--name', 'clash', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sleep', '60');
      expect(err).toContain(`Bind for 127.0.0.1:${port} failed: port is already allocated`);
      expect((await docker(berthd, 'inspect', '--format', '{{.State.Running}}', 'clash')).stdout.trim()).toBe('false');
      expect(await until(() => bridgePorts(names.bridge), (p) => p.length === before.length)).toEqual(before);
      expect((await run('nft', ['list', 'chain', 'inet', names.table, 'published'], { encoding: 'utf8' })).stdout).not.toContain(`dport ${port} `);
    } finally {
      holder.close();
    }
  });

  it('connects and disconnects a running container live; --network container: shares its namespace', async () => {
    await docker(berthd, 'network', 'create', 'side');
    await docker(berthd, 'run', '-d', '--name', 'live', 'busybox', 'sleep', '300');
    await docker(berthd, 'network', 'connect', '--alias', 'again', 'side', 'live');
    const addrs = (await docker(berthd, 'exec', 'live', 'ip', '-4', '-o', 'addr')).stdout;
    expect(addrs).toMatch(/eth1\s+inet 10\.244\./);
    const { stdout } = await docker(berthd, 'run', '--rm', '--network', 'side', 'busybox', 'ping', '-c', '1', 'again');
    expect(stdout).toContain('1 packets received');
    await docker(berthd, 'network', 'disconnect', 'side', 'live');
    expect((await docker(berthd, 'exec', 'live', 'ip', '-4', '-o', 'addr')).stdout).not.toContain('eth1');

    const shared = (await docker(berthd, 'run', '--rm', '--network', 'container:live', 'busybox', 'ip', '-4', '-o', 'addr')).stdout;
    expect(shared).toBe(addrs.replace(/^.*eth1.*\n/m, ''));
  });

  it('data in a named volume survives rm and reaches a new container; a read-only bind is read-only', async () => {
    await docker(berthd, 'run', '--name', 'writer', '-v', 'keep:/data', 'busybox', 'sh', '-c', 'echo persisted > /data/file');
    expect((await docker(berthd, 'ps', '-a', '--filter', 'volume=keep', '--format', '{{.Names}}')).stdout.trim()).toBe('writer');
    await docker(berthd, 'rm', 'writer');
    expect((await docker(berthd, 'run', '--rm', '-v', 'keep:/data', 'busybox', 'cat', '/data/file')).stdout).toBe('persisted\n');
    // Referenced by a container, even a stopped one, it cannot be removed.
    await docker(berthd, 'create', '--name', 'holder', '-v', 'keep:/data', 'busybox', 'true');
    expect(await dockerFails(berthd, 'volume', 'rm', 'keep')).toContain('volume is in use');
    await docker(berthd, 'rm', 'holder');
    await docker(berthd, 'volume', 'rm', 'keep');
    const ro = await dockerFails(berthd, 'run', '--rm', '-v', `${www}:/www:ro`, 'busybox', 'touch', '/www/x');
    expect(ro).toMatch(/Read-only file system/);
    expect(existsSync(path.join(www, 'x'))).toBe(false);
  });

  it('an image VOLUME is populated from the image, and removed with the container by rm -v', async () => {
    const dir = path.join('/tmp', `berth-volimg-${process.pid}`);
    mkdirSync(path.join(dir, 'data'), { recursive: true });
    writeFileSync(path.join(dir, 'data/seed.txt'), 'from the image\n');
    await run('cp', ['/bin/busybox', path.join(dir, 'busybox')]);
    await run('tar', ['-C', dir, '-cf', `${dir}.tar`, '.']);
    await docker(berthd, 'import', '--change', 'VOLUME /data', '--change', 'CMD ["/busybox","true"]', `${dir}.tar`, 'volimg:1');
    await docker(berthd, 'create', '--name', 'vol', 'volimg:1');
    await docker(berthd, 'start', '-a', 'vol');
    const mounts = JSON.parse((await docker(berthd, 'inspect', '--format', '{{json .Mounts}}', 'vol')).stdout) as { Type: string; Name: string; Source: string; Destination: string }[];
    expect(mounts).toHaveLength(1);
    expect(mounts[0]).toMatchObject({ Type: 'volume', Destination: '/data' });
    expect(readFileSync(path.join(mounts[0]!.Source, 'seed.txt'), 'utf8')).toBe('from the image\n');
    await docker(berthd, 'rm', '-v', 'vol');
    expect((await docker(berthd, 'volume', 'ls', '-q')).stdout).not.toContain(mounts[0]!.Name);
    await run('rm', ['-rf', dir, `${dir}.tar`]);
  });

  it('docker-compose brings up web + client (by name, with a named volume), ps, logs, down -v', async () => {
    const project = path.join('/tmp', `berth-compose-${process.pid}`);
    mkdirSync(project, { recursive: true });
    writeFileSync(path.join(project, 'docker-compose.yml'), [
      'version: "3.8"',
      'services:',
      '  web:',
      '    image: busybox',
      '    command: ["sh", "-c", "echo served-by-web > /srv/index.html && httpd -f -p 80 -h /srv"]',
      '    volumes: ["site:/srv"]',
      '  client:',
      '    image: busybox',
      '    depends_on: [web]',
      '    command: ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://web/ && exit 0; sleep 0.3; done; exit 1"]',
      'volumes:',
      '  site: {}',
      '',
    ].join('\n'));
    const compose = (...args: string[]) => run('docker-compose', ['-p', 'berthnet', ...args], { cwd: project, env: berthd.env, encoding: 'utf8', timeout: 120_000 });
    await compose('up', '-d');
    const exit = await until(async () => (await docker(berthd, 'inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'berthnet_client_1')).stdout.trim(), (s) => s.startsWith('exited'));
    expect(exit).toBe('exited 0');
    expect((await compose('logs', 'client')).stdout).toContain('served-by-web');
    expect((await compose('ps')).stdout).toMatch(/berthnet_web_1 .* Up/);
    expect((await docker(berthd, 'volume', 'ls', '-q')).stdout).toContain('berthnet_site');
    await compose('down', '-v');
    expect((await docker(berthd, 'volume', 'ls', '-q')).stdout).not.toContain('berthnet_site');
    expect((await docker(berthd, 'network', 'ls', '--format', '{{.Name}}')).stdout).not.toContain('berthnet_default');
    await run('rm', ['-rf', project]);
  });
});
