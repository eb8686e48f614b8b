// Networks and volumes end to end with the real docker CLI against a private berthd: create,
// inspect, list with filters, remove (and the refusals), prune, events, Berth's volume browser,
// and that stopping berthd leaves no bridge or nftables table behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startBerthd, type Berthd } from './berthd';

const run = promisify(execFile);
const docker = (b: Berthd, ...args: string[]) => run('docker', args, { env: b.env, encoding: 'utf8' });
const dockerFails = async (b: Berthd, ...args: string[]): Promise<string> => {
  try {
    await docker(b, ...args);
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
  throw new Error(`docker ${args.join(' ')} succeeded`);
};

function get(socket: string, p: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http.get({ socketPath: socket, path: p }, (res) => {
      let data = '';
      res.setEncoding('utf8').on('data', (c: string) => (data += c)).on('end', () => resolve({ status: res.statusCode!, body: data, headers: res.headers }));
    }).on('error', reject);
  });
}

const config = JSON.parse(JSON.stringify({ 'default-address-pools': [{ base: '10.242.0.0/16', size: 24 }] })) as Record<string, unknown>;
let berthd: Berthd;
let bridge: string;
let table: string;

beforeAll(async () => {
  berthd = await startBerthd({ config });
  const daemonJson = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(berthd.configFile, 'utf8'))) as { bridge: string; 'firewall-table': string };
  bridge = daemonJson.bridge;
  table = daemonJson['firewall-table'];
});

afterAll(async () => {
  await berthd?.stop();
});

describe('docker network against berthd', () => {
  it('lists bridge, host and none; the default bridge is berthd\'s own', async () => {
    const { stdout } = await docker(berthd, 'network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}');
    expect(stdout.trim().split('\n').sort()).toEqual(['bridge bridge local', 'host host local', 'none null local']);
    const inspect = JSON.parse((await docker(berthd, 'network', 'inspect', 'bridge')).stdout)[0];
    expect(inspect.Options['com.docker.network.bridge.name']).toBe(bridge);
    expect(inspect.IPAM.Config[0].Subnet).toMatch(/^10\.242\.\d+\.0\/24$/);
    const nft = await run('nft', ['list', 'table', 'inet', table], { encoding: 'utf8' });
    expect(nft.stdout).toContain(`oifname != "${bridge}" masquerade`);
  });

  it('creates a network with subnet, gateway, ip-range, labels and --internal, and removes it', async () => {
    const since = (Date.now() / 1000 - 1).toFixed(3);
    const id = (await docker(berthd, 'network', 'create', '--subnet', '10.243.7.0/24', '--gateway', '10.243.7.254', '--ip-range', '10.243.7.128/25', '--label', 'team=net', '--internal', 'backend')).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const n = JSON.parse((await docker(berthd, 'network', 'inspect', 'backend')).stdout)[0];
    expect(n).toMatchObject({ Name: 'backend', Id: id, Driver: 'bridge', Internal: true, Labels: { team: 'net' }, IPAM: { Config: [{ Subnet: '10.243.7.0/24', Gateway: '10.243.7.254', IPRange: '10.243.7.128/25' }] } });
    const link = await run('ip', ['-j', 'addr', 'show', 'dev', `br-${id.slice(0, 12)}`], { encoding: 'utf8' });
    expect(link.stdout).toContain('10.243.7.254');
    expect((await docker(berthd, 'network', 'ls', '--filter', 'label=team=net', '--format', '{{.Name}}')).stdout.trim()).toBe('backend');
    expect((await docker(berthd, 'network', 'ls', '--filter', 'type=builtin', '-q')).stdout.trim().split('\n')).toHaveLength(3);

    expect(await dockerFails(berthd, 'network', 'create', 'backend')).toContain('network with name backend already exists');
    expect(await dockerFails(berthd, 'network', 'create', '--subnet', '10.243.7.0/25', 'overlap')).toContain('Pool overlaps with other one on this address space');
    expect(await dockerFails(berthd, 'network', 'create', '-d', 'host', 'h2')).toContain('only one instance of "host" network is allowed');
    expect(await dockerFails(berthd, 'network', 'rm', 'host')).toContain('host is a pre-defined network and cannot be removed');
    expect(await dockerFails(berthd, 'network', 'inspect', 'nosuchnet')).toContain('network nosuchnet not found');

    await docker(berthd, 'network', 'rm', 'backend');
    await expect(run('ip', ['link', 'show', `br-${id.slice(0, 12)}`])).rejects.toThrow();
    // Replayed from berthd's kept events: `until` now ends the stream at once.
    const events = await docker(berthd, 'events', '--since', since, '--until', (Date.now() / 1000).toFixed(3), '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.name}}');
    expect(events.stdout).toMatch(/create backend\ndestroy backend/);
  });

  it('prunes unused user networks, keeping those a label filter keeps', async () => {
    await docker(berthd, 'network', 'create', 'p1');
    await docker(berthd, 'network', 'create', '--label', 'keep=yes', 'p2');
    const out = (await docker(berthd, 'network', 'prune', '-f', '--filter', 'label!=keep=yes')).stdout;
    expect(out).toContain('p1');
    expect(out).not.toContain('p2');
    expect((await docker(berthd, 'network', 'ls', '--format', '{{.Name}}')).stdout).toContain('p2');
    await docker(berthd, 'network', 'rm', 'p2');
  });

  it('refuses connect for a container that does not exist', async () => {
    expect(await dockerFails(berthd, 'network', 'connect', 'bridge', 'nosuchcontainer')).toContain('No such container: nosuchcontainer');
  });
});

describe('docker volume against berthd', () => {
  it('creates, inspects, lists with filters and removes volumes', async () => {
    expect((await docker(berthd, 'volume', 'create', '--label', 'app=db', 'data')).stdout.trim()).toBe('data');
    await docker(berthd, 'volume', 'create', '-d', 'local', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', 'ram');
    const v = JSON.parse((await docker(berthd, 'volume', 'inspect', 'ram')).stdout)[0];
    expect(v).toMatchObject({ Name: 'ram', Driver: 'local', Scope: 'local', Options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' }, Mountpoint: path.join(berthd.dataRoot, 'volumes/ram/_data') });
    expect((await docker(berthd, 'volume', 'ls', '-q', '--filter', 'label=app=db')).stdout.trim()).toBe('data');
    expect((await docker(berthd, 'volume', 'ls', '-q', '--filter', 'dangling=true')).stdout.trim().split('\n').sort()).toEqual(['data', 'ram']);
    expect(await dockerFails(berthd, 'volume', 'create', '-o', 'bogus=1', 'bad')).toContain('invalid option key: "bogus"');
    expect(await dockerFails(berthd, 'volume', 'create', 'a/b')).toContain('includes invalid characters for a local volume name');
    expect(await dockerFails(berthd, 'volume', 'inspect', 'nosuchvolume')).toContain('no such volume');
    await docker(berthd, 'volume', 'rm', 'ram');
    expect((await docker(berthd, 'volume', 'ls', '-q')).stdout.trim()).toBe('data');
  });

  it('browses a volume\'s files page by page and downloads one (Berth API extension)', async () => {
    const data = path.join(berthd.dataRoot, 'volumes/data/_data');
    mkdirSync(path.join(data, 'logs'));
    writeFileSync(path.join(data, 'a.txt'), 'alpha');
    writeFileSync(path.join(data, 'b.bin'), Buffer.alloc(3000, 7));
    const page = await get(berthd.socket, '/berth/volumes/data/files?path=/&offset=0&limit=2');
    expect(page.status).toBe(200);
    const body = JSON.parse(page.body);
    expect(body).toMatchObject({ path: '/', total: 3, offset: 0, limit: 2 });
    expect(body.entries.map((e: { name: string; type: string }) => `${e.type} ${e.name}`)).toEqual(['dir logs', 'file a.txt']);
    const file = await get(berthd.socket, '/berth/volumes/data/file?path=a.txt');
    expect(file.body).toBe('alpha');
    expect(file.headers['content-disposition']).toBe('attachment; filename="a.txt"');
    expect((await get(berthd.socket, '/berth/volumes/data/file?path=../../../../etc/passwd')).status).toBe(404);
    expect((await get(berthd.socket, '/berth/volumes/nosuch/files')).status).toBe(404);
  });

  it('shows volume sizes in system df and prunes', async () => {
    const df = (await docker(berthd, 'system', 'df', '-v', '--format', '{{json .Volumes}}')).stdout;
    const volumes = JSON.parse(df) as { Name: string; Size: string; Links: string }[];
    expect(volumes.find((x) => x.Name === 'data')).toMatchObject({ Size: '3.005kB', Links: '0' });
    // Since API 1.42 prune takes anonymous volumes only; --all takes named ones too.
    expect((await docker(berthd, 'volume', 'prune', '-f')).stdout).not.toContain('data');
    expect((await docker(berthd, 'volume', 'prune', '-af')).stdout).toContain('data');
    expect((await docker(berthd, 'volume', 'ls', '-q')).stdout.trim()).toBe('');
  });
});

describe('shutdown', () => {
  it('removes the nftables table and the idle default bridge', async () => {
    await berthd.stop({ keepState: true });
    await expect(run('nft', ['list', 'table', 'inet', table])).rejects.toThrow();
    await expect(run('ip', ['link', 'show', bridge])).rejects.toThrow();
  });
});
