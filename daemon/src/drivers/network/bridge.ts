// The bridge driver's kernel side: Linux bridges, network namespaces kept as bind-mounted files,
// and veth pairs with one end on a bridge and the other (eth0, eth1…) in a container's namespace.
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { command, ipBatch, mustRun } from './command';
import { unmount } from '../graph/mounts';
import { runBuiltin } from '../spawner/spawner';
import { systemError } from '../../errors';

export async function linkExists(name: string): Promise<boolean> {
  return (await command('ip', ['link', 'show', 'dev', name])).code === 0;
}

/** Creates the bridge (or takes the existing one), gives it the gateway address and brings it up. */
export async function ensureBridge(name: string, gatewayCidr: string, mtu?: number): Promise<void> {
  const lines: string[] = [];
  if (!(await linkExists(name))) lines.push(`link add name ${name} type bridge${mtu ? ` mtu ${mtu}` : ''}`);
  lines.push(`addr replace ${gatewayCidr} dev ${name}`, `link set dev ${name} up`);
  await ipBatch(`error creating bridge ${name}`, lines);
  // Published ports reached on 127.0.0.1 are DNATed onto this bridge: only this interface accepts
  // loopback sources, the host's others are untouched.
  writeFileSync(`/proc/sys/net/ipv4/conf/${name}/route_localnet`, '1');
}

export async function deleteLink(name: string): Promise<void> {
  if (await linkExists(name)) await mustRun(`error removing ${name}`, 'ip', ['link', 'del', 'dev', name]);
}

/** Interfaces attached to a bridge. */
export async function bridgePorts(bridge: string): Promise<string[]> {
  const r = await command('ip', ['-j', 'link', 'show', 'master', bridge]);
  if (r.code !== 0 || !r.stdout.trim()) return [];
  return (JSON.parse(r.stdout) as { ifname: string }[]).map((l) => l.ifname);
}

/**
 * The host's IPv4 routes and interface subnets (an interface that is down has an address but no
 * route), with their device, so new subnets avoid them.
 */
export async function hostRouteDevices(): Promise<{ dst: string; dev: string }[]> {
  const r = await mustRun('error reading the routing table', 'ip', ['-j', '-4', 'route', 'show', 'table', 'all']);
  const routes = (JSON.parse(r) as { dst: string; dev?: string; type?: string }[])
    .filter((route) => route.dst !== 'default' && (!route.type || route.type === 'unicast'))
    .map((route) => ({ dst: route.dst.includes('/') ? route.dst : `${route.dst}/32`, dev: route.dev ?? '' }));
  const a = await mustRun('error reading the interfaces\' addresses', 'ip', ['-j', '-4', 'addr', 'show']);
  const addresses = (JSON.parse(a) as { ifname: string; addr_info?: { local: string; prefixlen: number }[] }[])
    .flatMap((link) => (link.addr_info ?? []).filter((ai) => !ai.local.startsWith('127.')).map((ai) => ({ dst: `${ai.local}/${ai.prefixlen}`, dev: link.ifname })));
  return [...routes, ...addresses];
}

export async function hostRoutes(): Promise<string[]> {
  return (await hostRouteDevices()).map((r) => r.dst);
}

/**
 * A new network namespace kept alive by a bind mount at `file`, loopback up, and then `inside`
 * run there by the same `ip -batch` (so a container's first interface costs no extra process).
 */
export async function createNetns(file: string, inside: string[] = []): Promise<void> {
  closeSync(openSync(file, 'a'));
  const what = `error creating the network namespace ${file}`;
  const input = ['link set lo up', ...inside].join('\n') + '\n';
  const unshare = ['unshare', `--net=${file}`, 'ip', '-batch', '-'];
  if (inside.length > 0) {
    await mustRun(what, unshare[0]!, unshare.slice(1), input);
    return;
  }
  // Nothing to add: the spawner's builtin makes it without starting unshare and ip.
  const r = await runBuiltin(['netns', file], unshare, { input });
  if (r.code !== 0) throw systemError(`${what}: ${r.stderr.toString().trim()}`);
}

export async function deleteNetns(file: string): Promise<void> {
  await unmount(file).catch((err: Error) => {
    throw systemError(`error removing the network namespace ${file}: ${err.message}`);
  });
  rmSync(file, { force: true });
}

export interface VethSpec {
  bridge: string;
  hostName: string;
  netns: string;
  /** Name inside the namespace: eth0, eth1… */
  ifname: string;
  address: string;
  prefixLen: number;
  mac: string;
  /** Set on the container's first network: its default route. */
  gateway?: string;
  mtu?: number;
}

/** The inner end's configuration, run inside the namespace. */
function insideLines(v: VethSpec): string[] {
  return [
    `link set dev ${v.ifname} address ${v.mac}`,
    `addr add ${v.address}/${v.prefixLen} dev ${v.ifname}`,
    `link set dev ${v.ifname} up`,
    ...(v.gateway ? [`route replace default via ${v.gateway} dev ${v.ifname}`] : []),
  ];
}

/** Creates the pair with its inner end directly in the namespace, then addresses it. */
export async function attachVeth(v: VethSpec): Promise<void> {
  const mtu = v.mtu ? ` mtu ${v.mtu}` : '';
  await ipBatch(`error creating the veth pair for ${v.ifname}`, [
    `link add name ${v.hostName}${mtu} type veth peer name ${v.ifname}${mtu} netns ${v.netns}`,
    `link set dev ${v.hostName} master ${v.bridge} up`,
  ]);
  try {
    await ipBatch(`error configuring ${v.ifname} in the container's network namespace`, insideLines(v), v.netns);
  } catch (err) {
    await deleteLink(v.hostName).catch(() => undefined);
    throw err;
  }
}

/**
 * A new namespace at `v.netns` with its first veth: the pair is made from inside, its host end
 * sent to berthd's own namespace, so two processes do what createNetns + attachVeth do in five.
 * On failure the namespace is left for the caller to delete (with the veth in it).
 */
export async function createNetnsWithVeth(v: VethSpec): Promise<void> {
  const mtu = v.mtu ? ` mtu ${v.mtu}` : '';
  await createNetns(v.netns, [
    `link add name ${v.ifname}${mtu} type veth peer name ${v.hostName}${mtu} netns /proc/${process.pid}/ns/net`,
    ...insideLines(v),
  ]);
  try {
    await ipBatch(`error attaching ${v.hostName} to ${v.bridge}`, [`link set dev ${v.hostName} master ${v.bridge} up`]);
  } catch (err) {
    await deleteLink(v.hostName).catch(() => undefined);
    throw err;
  }
}

/** dockerd derives the MAC from the address: 02:42 then the four bytes of the IPv4 address. */
export function macFor(ip: string): string {
  return ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

export function ipForwarding(): boolean {
  return readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() === '1';
}
