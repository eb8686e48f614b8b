// /etc/hosts and /etc/resolv.conf of a container, as dockerd writes them: the container's own
// addresses and --add-host entries; the host's resolvers (or --dns) on the default bridge and the
// embedded resolver on user-defined networks.
import { readFileSync } from 'node:fs';
import { invalidParameter } from '../../errors';
import { isIPv4 } from './ipam';

export interface HostsInput {
  hostname: string;
  domainname?: string;
  /** The container's addresses (one per network). */
  addresses: string[];
  /** --add-host host:ip (or host=ip), host-gateway already resolved. */
  extraHosts: string[];
}

export function renderHosts(h: HostsInput): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const entry of h.extraHosts) {
    const { host, ip } = parseExtraHost(entry);
    lines.push(`${ip}\t${host}`);
  }
  const names = h.domainname ? `${h.hostname}.${h.domainname} ${h.hostname}` : h.hostname;
  for (const ip of h.addresses) lines.push(`${ip}\t${names}`);
  return lines.join('\n') + '\n';
}

/** `host:ip` or `host=ip` (IPv6 addresses keep their colons); `host-gateway` is the caller's. */
export function parseExtraHost(entry: string): { host: string; ip: string } {
  const sep = entry.includes('=') ? entry.indexOf('=') : entry.indexOf(':');
  const host = entry.slice(0, sep);
  const ip = entry.slice(sep + 1);
  if (sep <= 0 || !ip) throw invalidParameter(`invalid argument "${entry}" for "--add-host" flag: bad format for add-host: "${entry}"`);
  if (ip !== 'host-gateway' && !isIPv4(ip) && !/^[0-9a-fA-F:.]+$/.test(ip)) {
    throw invalidParameter(`invalid argument "${entry}" for "--add-host" flag: invalid IP address in add-host: "${ip}"`);
  }
  return { host, ip };
}

export interface HostResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

export function parseResolvConf(text: string): HostResolvConf {
  const conf: HostResolvConf = { nameservers: [], search: [], options: [] };
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) conf.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') conf.search = rest;
    else if (key === 'options') conf.options.push(...rest);
  }
  return conf;
}

export function readHostResolvConf(file = '/etc/resolv.conf'): HostResolvConf {
  try {
    return parseResolvConf(readFileSync(file, 'utf8'));
  } catch {
    return { nameservers: [], search: [], options: [] };
  }
}

/** Resolvers on the host's loopback are unreachable from a container's namespace. */
const reachable = (ns: string[]): string[] => ns.filter((n) => !/^127\./.test(n) && n !== '::1');

export interface ResolvInput {
  host: HostResolvConf;
  /** --dns, --dns-search, --dns-option */
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** The embedded resolver's address on a user-defined network. */
  embedded?: string;
}

export function renderResolvConf(r: ResolvInput): string {
  const search = r.dnsSearch.length > 0 ? r.dnsSearch.filter((s) => s !== '.') : r.host.search;
  const options = r.dnsOptions.length > 0 ? r.dnsOptions : r.host.options;
  let nameservers: string[];
  if (r.embedded) nameservers = [r.embedded];
  else if (r.dns.length > 0) nameservers = r.dns;
  else {
    nameservers = reachable(r.host.nameservers);
    // dockerd's fallback when the host only has a local resolver.
    if (nameservers.length === 0) nameservers = ['8.8.8.8', '8.8.4.4'];
  }
  const lines = nameservers.map((n) => `nameserver ${n}`);
  if (search.length > 0) lines.push(`search ${search.join(' ')}`);
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  return lines.join('\n') + '\n';
}

/** Where the embedded resolver forwards: --dns, else the host's reachable resolvers. */
export function upstreamsFor(dns: string[], host: HostResolvConf): string[] {
  return dns.length > 0 ? dns : reachable(host.nameservers);
}
