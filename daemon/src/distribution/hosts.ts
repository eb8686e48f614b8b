// Where a registry is reached, as dockerd decides it: docker.io through its mirrors first, then
// registry-1.docker.io; an insecure registry (127.0.0.0/8 by default, or one named by
// `insecure-registries`) over HTTPS without verification and then over plain HTTP; the CA and
// client certificate of a registry from certs.d/HOST[:PORT]/ (ca.crt, client.cert, client.key).
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Endpoint } from './transport';
import { DEFAULT_DOMAIN } from '../graph/reference';
import { invalidParameter } from '../errors';

export const DEFAULT_CERTS_DIR = '/etc/berth/certs.d';
const HUB_ENDPOINT = 'https://registry-1.docker.io';
/** dockerd treats loopback registries as insecure without being told. */
const DEFAULT_INSECURE_CIDRS = ['127.0.0.0/8'];

export interface HostsConfig {
  registryMirrors: string[];
  insecureRegistries: string[];
  certsDir: string;
}

function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsRaw] = cidr.split('/');
  const family = net.isIP(base!);
  if (family === 0 || family !== net.isIP(ip)) return false;
  const bits = Number(bitsRaw ?? (family === 4 ? 32 : 128));
  const list = new net.BlockList();
  list.addSubnet(base!, bits, family === 4 ? 'ipv4' : 'ipv6');
  return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** The host part of "host:port" or "[v6]:port". */
function hostnameOf(registry: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(registry);
  if (m) return m[1]!;
  return registry.replace(/:\d+$/, '');
}

export class RegistryHosts {
  constructor(private readonly config: () => HostsConfig) {}

  /** Whether TLS may be skipped for a registry: by name, or by an address in an insecure CIDR. */
  async isInsecure(registry: string): Promise<boolean> {
    const { insecureRegistries } = this.config();
    const names = insecureRegistries.filter((r) => !r.includes('/'));
    const cidrs = [...DEFAULT_INSECURE_CIDRS, ...insecureRegistries.filter((r) => r.includes('/'))];
    const bare = registry.replace(/^https?:\/\//, '');
    if (names.includes(bare)) return true;
    const host = hostnameOf(bare);
    let addresses: string[];
    if (net.isIP(host)) addresses = [host];
    else {
      try {
        // (a built-in loaded on first use, not at start: see components.ts)
        addresses = (await process.getBuiltinModule('node:dns/promises').lookup(host, { all: true })).map((a) => a.address);
      } catch {
        return false;
      }
    }
    return addresses.some((ip) => cidrs.some((c) => cidrContains(c, ip)));
  }

  /** The registry's TLS material from certs.d, undefined when it has none. */
  tlsFor(registry: string): Endpoint['tls'] {
    const dir = path.join(this.config().certsDir, registry.replace(/[/\\]/g, ''));
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return undefined;
    }
    const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
    const ca = names.filter((n) => n.endsWith('.crt')).sort().map(read);
    const certName = names.find((n) => n.endsWith('.cert'));
    const tls: NonNullable<Endpoint['tls']> = {};
    if (ca.length > 0) tls.ca = ca;
    if (certName) {
      const keyName = certName.replace(/\.cert$/, '.key');
      if (!names.includes(keyName)) throw invalidParameter(`missing key ${keyName} for client certificate ${certName} in ${dir}`);
      tls.cert = read(certName);
      tls.key = read(keyName);
    }
    return tls;
  }

  /** Endpoints to try for a registry, in order. Pulls use mirrors; pushes and logins do not. */
  async endpoints(registry: string, purpose: 'pull' | 'push' | 'login'): Promise<Endpoint[]> {
    const out: Endpoint[] = [];
    if (registry === DEFAULT_DOMAIN) {
      if (purpose === 'pull') {
        for (const mirror of this.config().registryMirrors) {
          const url = new URL(mirror.includes('://') ? mirror : `https://${mirror}`);
          out.push({ origin: url.origin, registry, mirror: true, insecure: await this.isInsecure(url.host), tls: this.tlsFor(url.host) });
        }
      }
      out.push({ origin: HUB_ENDPOINT, registry, mirror: false, insecure: false, tls: this.tlsFor(DEFAULT_DOMAIN) });
      return out;
    }
    const insecure = await this.isInsecure(registry);
    const tls = this.tlsFor(registry);
    out.push({ origin: `https://${registry}`, registry, mirror: false, insecure, tls });
    if (insecure) out.push({ origin: `http://${registry}`, registry, mirror: false, insecure, tls });
    return out;
  }
}
