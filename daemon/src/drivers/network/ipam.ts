// IP address management: IPv4 subnets picked from the address pools so they never overlap a route
// of the host (another engine's bridge, the LAN, a VPN) or another network, and the addresses of
// each network handed out one by one. The allocations live in the network's record on disk.
import { invalidParameter, conflict, unavailable } from '../../errors';

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  base: number;
  bits: number;
}

export interface AddressPool {
  base: string;
  size: number;
}

/** dockerd's default pools: 172.17–31.x.x/16, then 192.168.x.x/20. */
export const DEFAULT_POOLS: AddressPool[] = [
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/15', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/13', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
];

export function parseIp(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    throw invalidParameter(`invalid IPv4 address: ${ip}`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function isIPv4(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s) && s.split('.').every((p) => Number(p) <= 255);
}

const maskOf = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

export function parseCidr(cidr: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m || Number(m[2]) > 32) throw invalidParameter(`invalid CIDR address: ${cidr}`);
  const bits = Number(m[2]);
  return { base: (parseIp(m[1]!) & maskOf(bits)) >>> 0, bits };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.bits}`;
}

export const cidrSize = (c: Cidr): number => 2 ** (32 - c.bits);

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.bits)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  return ((a.base & maskOf(bits)) >>> 0) === ((b.base & maskOf(bits)) >>> 0);
}

/** The first subnet of the pools that overlaps nothing in `taken`. */
export function pickSubnet(pools: AddressPool[], taken: Cidr[]): Cidr {
  for (const pool of pools) {
    const range = parseCidr(pool.base);
    if (pool.size < range.bits || pool.size > 30) throw invalidParameter(`invalid address pool ${pool.base} with size ${pool.size}`);
    const step = 2 ** (32 - pool.size);
    for (let base = range.base; base < range.base + cidrSize(range); base += step) {
      const candidate = { base, bits: pool.size };
      if (!taken.some((t) => overlaps(t, candidate))) return candidate;
    }
  }
  throw invalidParameter('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}

/** The addresses of one network: who holds which, and where the next search starts. */
export interface Allocation {
  subnet: string;
  gateway: string;
  /** Addresses are handed out from here (dockerd's --ip-range); the subnet when absent. */
  ipRange?: string;
  /** Address → holder (an endpoint id, or "gateway"). */
  used: Record<string, string>;
  /** The last address handed out: the next search starts after it, so addresses are not reused at once. */
  last?: string;
}

export function newAllocation(subnet: Cidr, gateway?: string, ipRange?: string): Allocation {
  const gw = gateway ? parseIp(gateway) : subnet.base + 1;
  if (!contains(subnet, gw)) throw invalidParameter(`gateway ${gateway} is not in subnet ${formatCidr(subnet)}`);
  if (ipRange) {
    const r = parseCidr(ipRange);
    if (!contains(subnet, r.base) || r.bits < subnet.bits) throw invalidParameter(`ip-range ${ipRange} is not within subnet ${formatCidr(subnet)}`);
  }
  return { subnet: formatCidr(subnet), gateway: formatIp(gw), ipRange, used: { [formatIp(gw)]: 'gateway' } };
}

/** Takes `wanted` (an --ip) or the next free address; throws when it is taken or none is left. */
export function allocate(a: Allocation, holder: string, wanted?: string): string {
  const subnet = parseCidr(a.subnet);
  if (wanted) {
    const ip = parseIp(wanted);
    if (!contains(subnet, ip)) throw invalidParameter(`invalid IP address ${wanted}: it does not belong to any of this network's subnets (${a.subnet})`);
    if (ip === subnet.base || ip === subnet.base + cidrSize(subnet) - 1) throw invalidParameter(`invalid IP address ${wanted}: it is the network or broadcast address of ${a.subnet}`);
    const holderNow = a.used[wanted];
    if (holderNow && holderNow !== holder) throw conflict(`Address already in use: ${wanted}`);
    a.used[wanted] = holder;
    return wanted;
  }
  const range = a.ipRange ? parseCidr(a.ipRange) : subnet;
  const first = range.base + (range.base === subnet.base ? 1 : 0);
  const end = range.base + cidrSize(range) - (range.base + cidrSize(range) === subnet.base + cidrSize(subnet) ? 1 : 0);
  const count = end - first;
  const last = a.last ? parseIp(a.last) : first - 1;
  for (let i = 1; i <= count; i++) {
    let n = last + i;
    if (n >= end || n < first) n = first + ((n - first) % count + count) % count;
    const ip = formatIp(n);
    if (!a.used[ip]) {
      a.used[ip] = holder;
      a.last = ip;
      return ip;
    }
  }
  throw unavailable(`no available IPv4 addresses on this network's address pools: ${a.subnet}`);
}

export function release(a: Allocation, holder: string): void {
  for (const [ip, h] of Object.entries(a.used)) if (h === holder) delete a.used[ip];
}
