// Published ports: `-p [ip:]host:container[/proto]`, host port ranges and `-P`, as the CLI sends
// them in HostConfig.PortBindings and PublishAllPorts. Opening is all or nothing: a taken port
// closes the ones already opened, so a container never starts half-published.
import { invalidParameter, systemError } from '../../errors';
import { listenTcp, listenUdp, PortTakenError, type PortProxy } from './proxy';
import type { PortBinding } from './network-driver';
import { isIPv4 } from './ipam';

export interface PortRequest {
  proto: 'tcp' | 'udp';
  containerPort: number;
  hostIp: string;
  /** Inclusive range to pick from; null: any free port (the kernel's choice). */
  hostPorts: [number, number] | null;
}

export interface PublishedPort {
  proto: 'tcp' | 'udp';
  containerPort: number;
  hostIp: string;
  hostPort: number;
}

function parsePortKey(key: string): { port: number; proto: 'tcp' | 'udp' } {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(key);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw invalidParameter(`invalid port specification: "${key}"`);
  if (m[2] === 'sctp') throw invalidParameter(`invalid port specification: "${key}": sctp is not supported by berthd`);
  return { port: Number(m[1]), proto: (m[2] ?? 'tcp') as 'tcp' | 'udp' };
}

function parseHostPorts(raw: string | undefined): [number, number] | null {
  if (!raw) return null;
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(raw);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2] ?? m?.[1]);
  if (!m || lo < 1 || hi > 65535 || hi < lo) throw invalidParameter(`invalid hostPort: ${raw}`);
  return [lo, hi];
}

/** What the container asks to publish, checked (the create-time validation). */
export function requestedPorts(bindings: Record<string, unknown> | null | undefined, publishAll: boolean, exposed: Record<string, unknown> | null | undefined): PortRequest[] {
  const out: PortRequest[] = [];
  const seen = new Set<string>();
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { port, proto } = parsePortKey(key);
    seen.add(`${port}/${proto}`);
    const entries = Array.isArray(list) && list.length > 0 ? (list as Partial<PortBinding>[]) : [{}];
    for (const b of entries) {
      const hostIp = b.HostIp ?? '';
      if (hostIp !== '' && !isIPv4(hostIp)) throw invalidParameter(`invalid host IP address "${hostIp}" for port ${key}: berthd publishes on IPv4 addresses`);
      out.push({ proto, containerPort: port, hostIp, hostPorts: parseHostPorts(b.HostPort) });
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      const { port, proto } = parsePortKey(key);
      if (!seen.has(`${port}/${proto}`)) out.push({ proto, containerPort: port, hostIp: '', hostPorts: null });
    }
  }
  return out;
}

export interface OpenPorts {
  published: PublishedPort[];
  proxies: PortProxy[];
}

async function openOne(r: PortRequest, targetIp: string): Promise<PortProxy> {
  const target = { host: targetIp, port: r.containerPort };
  const open = (port: number) => (r.proto === 'tcp' ? listenTcp(r.hostIp, port, target) : listenUdp(r.hostIp, port, target));
  if (!r.hostPorts) return open(0);
  const [lo, hi] = r.hostPorts;
  let lastError: unknown;
  for (let port = lo; port <= hi; port++) {
    try {
      return await open(port);
    } catch (err) {
      if (!(err instanceof PortTakenError)) throw err;
      lastError = err;
    }
  }
  if (lo !== hi) throw new Error(`Bind for ${r.hostIp || '0.0.0.0'}:${lo}-${hi} failed: every port of the range is already allocated`);
  throw lastError;
}

/** Opens every requested port for `targetIp`, or none. `endpoint` names the container in errors. */
export async function openPorts(requests: PortRequest[], targetIp: string, endpoint: string): Promise<OpenPorts> {
  const opened: OpenPorts = { published: [], proxies: [] };
  try {
    for (const r of requests) {
      const proxy = await openOne(r, targetIp);
      opened.proxies.push(proxy);
      opened.published.push({ proto: r.proto, containerPort: r.containerPort, hostIp: r.hostIp, hostPort: proxy.port });
    }
    return opened;
  } catch (err) {
    await closePorts(opened.proxies);
    const why = err instanceof Error ? err.message : String(err);
    throw systemError(`driver failed programming external connectivity on endpoint ${endpoint}: ${why}`);
  }
}

export async function closePorts(proxies: PortProxy[]): Promise<void> {
  await Promise.all(proxies.map((p) => p.close().catch(() => undefined)));
}

/** NetworkSettings.Ports: every exposed or published port, with its bindings (null when unpublished). */
export function portMap(exposed: Record<string, unknown> | null | undefined, requests: PortRequest[], published: PublishedPort[]): Record<string, PortBinding[] | null> {
  const map: Record<string, PortBinding[] | null> = {};
  for (const key of Object.keys(exposed ?? {})) map[key.includes('/') ? key : `${key}/tcp`] = null;
  for (const r of requests) map[`${r.containerPort}/${r.proto}`] ??= null;
  for (const p of published) {
    const key = `${p.containerPort}/${p.proto}`;
    (map[key] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
  }
  return map;
}
