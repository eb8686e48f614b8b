// The networkdriver against the real kernel: bridges, veths into namespaces this test creates,
// nftables in a table of its own, DNS and published ports, all on addresses of this machine only.
// Needs root (ip, nft, nsenter), as berthd does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import * as packet from 'dns-packet';
import { NetworkManager } from './manager';
import { command } from './command';
import { Logger } from '../../log';
import type { ContainerNetworkSpec, EndpointRequest, NetworkRecord } from './network-driver';
import type { ContainerConfig, HostConfig } from '../../container/types';

const tag = randomBytes(2).toString('hex');
const bridgeName = `btest${tag}`;
const table = `berth_test_${tag}`;
const root = mkdtempSync(path.join(tmpdir(), 'berth-net-test-'));
const quiet = new Logger({ write: () => true });
const events: string[] = [];

function manager(): NetworkManager {
  return new NetworkManager({
    dataRoot: path.join(root, 'data'),
    execRoot: path.join(root, 'exec'),
    defaultBridge: bridgeName,
    pools: [{ base: '10.231.0.0/16', size: 24 }],
    firewallTable: table,
    resolvConf: path.join(root, 'resolv.conf'),
    log: quiet,
    publish: (action: string, n: NetworkRecord, attrs?: Record<string, string>) => events.push(`${action} ${n.Name} ${attrs?.container?.slice(0, 4) ?? ''}`.trim()),
  });
}

const cid = (c: string): string => c.repeat(64);

function spec(id: string, name: string, hostConfig: HostConfig = {}, endpoints: Record<string, EndpointRequest> = {}, config: ContainerConfig = {}): ContainerNetworkSpec {
  return { id, name: `/${name}`, config: { Hostname: name, ...config }, hostConfig, endpoints };
}

async function inNetns(netns: string, ...args: string[]): Promise<string> {
  const r = await command('nsenter', [`--net=${netns}`, ...args]);
  return r.stdout + r.stderr;
}

/** A DNS server on loopback standing in for the host's resolver. */
async function fakeUpstream(answer = '192.0.2.55'): Promise<{ port: number; close(): void }> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, from) => {
    const q = packet.decode(msg);
    const answers = q.questions![0]!.name === 'outside.example' ? [{ type: 'A' as const, name: 'outside.example', ttl: 60, data: answer }] : [];
    socket.send(packet.encode({ id: q.id, type: 'response', flags: packet.RECURSION_AVAILABLE, questions: q.questions, answers }), from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { port: socket.address().port, close: () => socket.close() };
}

function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => s.write(`GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n`));
    let data = '';
    s.setEncoding('utf8').on('data', (d: string) => (data += d)).on('end', () => resolve(data)).on('error', reject);
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
  });
}

async function ourLinks(): Promise<string[]> {
  const r = await command('ip', ['-j', 'link', 'show']);
  const links = JSON.parse(r.stdout) as { ifname: string; master?: string }[];
  return links.filter((l) => l.ifname === bridgeName || l.ifname.startsWith('br-') && l.ifname.length === 15 && createdBridges.has(l.ifname) || createdVeths.has(l.ifname)).map((l) => l.ifname);
}
const createdBridges = new Set<string>();

/** Veths of a destroyed namespace leave in the kernel's own time (milliseconds): poll a little. */
async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await fn();
  for (let i = 0; i < 100 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 20));
    v = await fn();
  }
  return v;
}
const createdVeths = new Set<string>();

describe('NetworkManager on the real kernel', () => {
  let m: NetworkManager;
  let upstream: { port: number; close(): void };
  const servers: ChildProcess[] = [];
  const www = path.join(root, 'www');

  beforeAll(async () => {
    upstream = await fakeUpstream();
    writeFileSync(path.join(root, 'resolv.conf'), `nameserver 127.0.0.1:${upstream.port}\nsearch example.test\n`);
    mkdirSync(www);
    writeFileSync(path.join(www, 'index.html'), 'hello from the container\n');
    m = manager();
    await m.init();
  });

  afterAll(async () => {
    for (const s of servers) s.kill('SIGKILL');
    upstream?.close();
    await m?.shutdown().catch(() => undefined);
    await command('nft', ['delete', 'table', 'inet', table]);
    for (const l of [bridgeName, ...createdBridges, ...createdVeths]) await command('ip', ['link', 'del', l]);
    rmSync(root, { recursive: true, force: true });
  });

  it('creates the default bridge, host and none, and its own nftables table', async () => {
    expect(m.list().map((n) => n.Name).sort()).toEqual(['bridge', 'host', 'none']);
    const bridge = m.find('bridge');
    expect(bridge.bridge).toBe(bridgeName);
    expect(bridge.IPAM.Config[0]!.Subnet).toMatch(/^10\.231\.\d+\.0\/24$/);
    const addr = await command('ip', ['-j', '-4', 'addr', 'show', 'dev', bridgeName]);
    expect(addr.stdout).toContain(bridge.IPAM.Config[0]!.Gateway!);
    const rules = await command('nft', ['list', 'table', 'inet', table]);
    expect(rules.code).toBe(0);
    expect(rules.stdout).toContain(`oifname != "${bridgeName}" masquerade`);
  });

  it('refuses duplicate names, overlapping subnets and removing predefined networks', async () => {
    const { Id } = await m.create({ Name: 'dup', IPAM: { Config: [{ Subnet: '10.232.5.0/24' }] } });
    createdBridges.add(m.find(Id).bridge!);
    await expect(m.create({ Name: 'dup' })).rejects.toMatchObject({ status: 409 });
    await expect(m.create({ Name: 'other', IPAM: { Config: [{ Subnet: '10.232.5.128/25' }] } })).rejects.toMatchObject({ status: 403 });
    await expect(m.create({ Name: 'h', Driver: 'host' })).rejects.toMatchObject({ status: 403 });
    await expect(m.removeNetwork('bridge')).rejects.toMatchObject({ status: 403 });
    await m.removeNetwork('dup');
    expect(await ourLinks()).not.toContain(m.list().find((n) => n.Name === 'dup')?.bridge ?? 'gone');
    expect(() => m.find('dup')).toThrow(/not found/);
  });

  it('wires two containers on a user network: they reach each other and resolve each other by name', async () => {
    const { Id } = await m.create({ Name: 'appnet', Labels: { tier: 'test' } });
    const appnet = m.find(Id);
    createdBridges.add(appnet.bridge!);
    await m.register(spec(cid('a'), 'web', { NetworkMode: 'appnet', PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } }, { appnet: { Aliases: ['frontend'] } }, { ExposedPorts: { '80/tcp': {} } }), (r) => r);
    await m.register(spec(cid('b'), 'client', { NetworkMode: 'appnet', ExtraHosts: ['host.docker.internal:host-gateway', 'db:10.9.9.9'] }, { appnet: { IPAMConfig: { IPv4Address: appnet.IPAM.Config[0]!.Subnet.replace(/0\/\d+$/, '77') } } }), (r) => r);
    const web = await m.prepare(cid('a'), path.join(root, 'etc-a'));
    const client = await m.prepare(cid('b'), path.join(root, 'etc-b'));
    for (const ep of Object.values(web.settings.Networks)) createdVeths.add(`bth${ep.EndpointID.slice(0, 8)}`);
    for (const ep of Object.values(client.settings.Networks)) createdVeths.add(`bth${ep.EndpointID.slice(0, 8)}`);

    const webIp = web.settings.Networks.appnet!.IPAddress;
    const clientIp = client.settings.Networks.appnet!.IPAddress;
    expect(clientIp).toMatch(/\.77$/);
    expect(web.settings.Networks.appnet!.Aliases).toEqual(['frontend']);
    expect(web.settings.Networks.appnet!.MacAddress).toBe('02:42:' + webIp.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':'));
    expect(await inNetns(client.netnsPath!, 'busybox', 'ping', '-c', '1', '-W', '2', webIp)).toMatch(/1 (packets )?received/);

    const gateway = appnet.IPAM.Config[0]!.Gateway!;
    expect(readFileSync(client.resolvConfPath, 'utf8')).toBe(`nameserver ${gateway}\nsearch example.test\n`);
    const hosts = readFileSync(client.hostsPath, 'utf8');
    expect(hosts).toContain(`${clientIp}\tclient`);
    expect(hosts).toContain(`${m.find('bridge').IPAM.Config[0]!.Gateway}\thost.docker.internal`);
    expect(hosts).toContain('10.9.9.9\tdb');

    for (const name of ['web', 'frontend', cid('a').slice(0, 12)]) {
      expect(await inNetns(client.netnsPath!, 'busybox', 'nslookup', '-type=a', name, gateway)).toContain(`Address: ${webIp}`);
    }
    expect(await inNetns(client.netnsPath!, 'busybox', 'nslookup', '-type=a', 'outside.example', gateway)).toContain('Address: 192.0.2.55');

    // A container's --dns is where the resolver forwards its questions.
    const own = await fakeUpstream('192.0.2.66');
    try {
      await m.register(spec(cid('e'), 'own-dns', { NetworkMode: 'appnet', Dns: [`127.0.0.1:${own.port}`] }), (r) => r);
      const e = await m.prepare(cid('e'), path.join(root, 'etc-e'));
      expect(await inNetns(e.netnsPath!, 'busybox', 'nslookup', '-type=a', 'outside.example', gateway)).toContain('Address: 192.0.2.66');
      expect(await inNetns(e.netnsPath!, 'busybox', 'nslookup', '-type=a', 'web', gateway)).toContain(`Address: ${webIp}`);
      await m.release(cid('e'));
      await m.remove(cid('e'));
    } finally {
      own.close();
    }

    // The network shows both containers; a network with endpoints cannot go.
    expect(Object.keys(m.inspect('appnet').Containers as object).sort()).toEqual([cid('a'), cid('b')]);
    await expect(m.removeNetwork('appnet')).rejects.toMatchObject({ status: 409 });
    expect(events).toContain(`connect appnet ${'a'.repeat(4)}`);
  });

  it('publishes a port on 127.0.0.1 through DNAT and the proxy holds it', async () => {
    const netns = m.settings(cid('a')).SandboxKey;
    const server = spawn('nsenter', [`--net=${netns}`, 'busybox', 'httpd', '-f', '-p', '80', '-h', www], { stdio: 'ignore' });
    servers.push(server);
    const ports = m.settings(cid('a')).Ports['80/tcp']!;
    expect(ports).toHaveLength(1);
    expect(ports[0]!.HostIp).toBe('127.0.0.1');
    const port = Number(ports[0]!.HostPort);
    let body = '';
    for (let i = 0; i < 50 && !body.includes('hello'); i++) {
      body = await httpGet('127.0.0.1', port).catch(() => '');
      if (!body.includes('hello')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toContain('hello from the container');
    // The port is held: nobody else can bind it while the container runs.
    const other = net.createServer();
    await expect(new Promise((resolve, reject) => other.once('error', reject).listen(port, '127.0.0.1', () => resolve(other.close())))).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const rules = await command('nft', ['list', 'chain', 'inet', table, 'published']);
    expect(rules.stdout).toContain(`tcp dport ${port} dnat ip to ${m.settings(cid('a')).Networks.appnet!.IPAddress}:80`);
  });

  it('publishes a UDP port', async () => {
    await m.register(spec(cid('u'), 'udp', { PortBindings: { '5353/udp': [{ HostIp: '127.0.0.1', HostPort: '' }] } }), (r) => r);
    const p = await m.prepare(cid('u'), path.join(root, 'etc-u'));
    const echo = spawn('nsenter', [`--net=${p.netnsPath}`, process.execPath, '-e',
      "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('echo:'+m,r.port,r.address));s.bind(5353,()=>console.log('ready'))"], { stdio: ['ignore', 'pipe', 'ignore'] });
    servers.push(echo);
    await new Promise<void>((r) => echo.stdout!.once('data', () => r()));
    const port = Number(p.settings.Ports['5353/udp']![0]!.HostPort);
    const client = dgram.createSocket('udp4');
    const reply = await new Promise<string>((resolve, reject) => {
      client.on('message', (msg) => resolve(String(msg)));
      client.send('ping', port, '127.0.0.1');
      setTimeout(() => reject(new Error('no UDP reply')), 3000);
    });
    client.close();
    expect(reply).toBe('echo:ping');
    echo.kill('SIGKILL');
    await m.release(cid('u'));
    await m.remove(cid('u'));
  });

  it('a taken port fails the start with dockerd\'s words and leaves nothing behind', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const port = (holder.address() as net.AddressInfo).port;
    await m.register(spec(cid('c'), 'late', { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } }), (r) => r);
    const before = (await command('ip', ['-j', 'link', 'show', 'master', bridgeName])).stdout;
    await expect(m.prepare(cid('c'), path.join(root, 'etc-c'))).rejects.toThrow(`Bind for 127.0.0.1:${port} failed: port is already allocated`);
    holder.close();
    expect(await eventually(async () => (await command('ip', ['-j', 'link', 'show', 'master', bridgeName])).stdout, (v) => v === before)).toBe(before);
    expect(readdirSync(path.join(root, 'exec', 'netns'))).not.toContain(cid('c'));
    expect(m.settings(cid('c')).Networks.bridge!.IPAddress).toBe('');
    await m.remove(cid('c'));
  });

  it('connects and disconnects a running container live', async () => {
    const netns = m.settings(cid('b')).SandboxKey;
    await m.connect(cid('b'), 'bridge', {});
    const ep = m.settings(cid('b')).Networks.bridge!;
    createdVeths.add(`bth${ep.EndpointID.slice(0, 8)}`);
    expect(ep.IPAddress).not.toBe('');
    expect(await inNetns(netns, 'ip', '-br', 'addr')).toContain(ep.IPAddress);
    await expect(m.connect(cid('b'), 'bridge', {})).rejects.toMatchObject({ status: 403 });
    await m.disconnect(cid('b'), 'bridge', false);
    expect(await inNetns(netns, 'ip', '-br', 'addr')).not.toContain(ep.IPAddress);
    expect(m.settings(cid('b')).Networks.bridge).toBeUndefined();
    expect(events).toContain(`disconnect bridge ${'b'.repeat(4)}`);
  });

  it('shares a namespace with --network container:', async () => {
    await m.register(spec(cid('d'), 'sidecar', { NetworkMode: `container:${cid('a')}` }), (r) => r);
    const p = await m.prepare(cid('d'), path.join(root, 'etc-d'));
    expect(p.netnsPath).toBe(m.settings(cid('a')).SandboxKey);
    expect(readFileSync(p.hostsPath, 'utf8')).toContain('\tweb');
    await m.release(cid('d'));
    await m.remove(cid('d'));
  });

  it('isolates networks from each other, and internal networks from everything outside', async () => {
    await m.create({ Name: 'sealed', Internal: true });
    createdBridges.add(m.find('sealed').bridge!);
    await m.register(spec(cid('i'), 'inside', { NetworkMode: 'sealed' }), (r) => r);
    await m.register(spec(cid('j'), 'inside2', { NetworkMode: 'sealed' }), (r) => r);
    const i = await m.prepare(cid('i'), path.join(root, 'etc-i'));
    const j = await m.prepare(cid('j'), path.join(root, 'etc-j'));
    const webIp = m.settings(cid('a')).Networks.appnet!.IPAddress;
    const ping = (netns: string, ip: string) => inNetns(netns, 'busybox', 'ping', '-c', '1', '-W', '1', ip);
    // On the same internal network: reachable. Another network, or the host's loopback by the gateway: not.
    expect(await ping(i.netnsPath!, j.settings.Networks.sealed!.IPAddress)).toContain('1 packets received');
    expect(await ping(i.netnsPath!, webIp)).not.toContain('1 packets received');
    expect(readFileSync(i.resolvConfPath, 'utf8')).toContain(`nameserver ${m.find('sealed').IPAM.Config[0]!.Gateway}`);

    // Two user networks (both with a way out) do not reach each other's containers: the rules do
    // that, as flushing them shows.
    await m.create({ Name: 'othernet' });
    createdBridges.add(m.find('othernet').bridge!);
    await m.register(spec(cid('k'), 'elsewhere', { NetworkMode: 'othernet' }), (r) => r);
    const k = await m.prepare(cid('k'), path.join(root, 'etc-k'));
    const clientNetns = m.settings(cid('b')).SandboxKey;
    const kIp = k.settings.Networks.othernet!.IPAddress;
    expect(await ping(clientNetns, kIp)).not.toContain('1 packets received');
    await command('nft', ['flush', 'chain', 'inet', table, 'forward']);
    expect(await ping(clientNetns, kIp)).toContain('1 packets received');
    await m.release(cid('k'));
    await m.remove(cid('k'));
    await m.removeNetwork('othernet');
    expect((await command('nft', ['list', 'chain', 'inet', table, 'forward'])).stdout).toContain('drop');
    for (const id of [cid('i'), cid('j')]) {
      await m.release(id);
      await m.remove(id);
    }
    await m.removeNetwork('sealed');
  });

  it('puts a container created before the networkdriver existed on the default bridge', async () => {
    const p = await m.prepare(cid('9'), path.join(root, 'etc-9'));
    expect(p.settings.Networks.bridge!.IPAddress).toMatch(/^10\.231\./);
    await m.release(cid('9'));
    await m.remove(cid('9'));
    expect(m.settings(cid('9')).Networks).toEqual({});
  });

  it('restores the firewall after a restart and cleans everything on release and removal', async () => {
    await m.shutdown();
    expect((await command('nft', ['list', 'table', 'inet', table])).code).not.toBe(0);
    m = manager();
    await m.init();
    await m.restore(new Set([cid('a'), cid('b')]));
    const port = m.settings(cid('a')).Ports['80/tcp']![0]!.HostPort;
    expect((await command('nft', ['list', 'chain', 'inet', table, 'published'])).stdout).toContain(`tcp dport ${port} dnat`);
    expect(await httpGet('127.0.0.1', Number(port))).toContain('hello from the container');

    for (const s of servers) s.kill('SIGKILL');
    for (const id of [cid('a'), cid('b')]) {
      await m.release(id);
      await m.remove(id);
    }
    await m.removeNetwork('appnet');
    expect(readdirSync(path.join(root, 'exec', 'netns'))).toEqual([]);
    await m.shutdown();
    expect(await eventually(ourLinks, (l) => l.length === 0)).toEqual([]);
    expect((await command('nft', ['list', 'table', 'inet', table])).code).not.toBe(0);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(root);
  });
});

describe('the default bridge and another engine', () => {
  it('moves to a free subnet when another interface routes its own at start-up', async () => {
    const t = randomBytes(2).toString('hex');
    const dir = mkdtempSync(path.join(tmpdir(), 'berth-net-move-'));
    const other = `btother${t}`;
    const make = () => new NetworkManager({
      dataRoot: path.join(dir, 'data'), execRoot: path.join(dir, 'exec'), defaultBridge: `btmove${t}`,
      pools: [{ base: '10.236.0.0/16', size: 24 }], firewallTable: `berth_move_${t}`, log: quiet,
    });
    try {
      let m = make();
      await m.init();
      const first = m.find('bridge').IPAM.Config[0]!.Subnet;
      await m.shutdown();
      // While berthd is down, another engine's bridge takes that subnet.
      await command('ip', ['link', 'add', other, 'type', 'bridge']);
      await command('ip', ['addr', 'add', first.replace(/0\/24$/, '1/24'), 'dev', other]);
      m = make();
      await m.init();
      const moved = m.find('bridge').IPAM.Config[0]!;
      expect(moved.Subnet).not.toBe(first);
      expect(moved.Subnet).toMatch(/^10\.236\.\d+\.0\/24$/);
      expect((await command('ip', ['-j', '-4', 'addr', 'show', 'dev', `btmove${t}`])).stdout).toContain(moved.Gateway!);
      // And the move is what the record says after another restart.
      await m.shutdown();
      m = make();
      await m.init();
      expect(m.find('bridge').IPAM.Config[0]!.Subnet).toBe(moved.Subnet);
      await m.shutdown();
    } finally {
      await command('ip', ['link', 'del', other]);
      await command('ip', ['link', 'del', `btmove${t}`]);
      await command('nft', ['delete', 'table', 'inet', `berth_move_${t}`]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
