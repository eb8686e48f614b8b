// The files berthd writes for each container and bind-mounts over the image's: /etc/hostname,
// /etc/hosts and /etc/resolv.conf, with dockerd's content.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ContainerConfig, HostConfig } from './types';

export interface EtcPaths {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

export const etcPaths = (dir: string): EtcPaths => ({
  hostname: path.join(dir, 'hostname'),
  hosts: path.join(dir, 'hosts'),
  resolvConf: path.join(dir, 'resolv.conf'),
});

export function hostsContent(config: ContainerConfig, hc: HostConfig, address?: string): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const extra of hc.ExtraHosts ?? []) {
    const i = extra.indexOf(':');
    if (i > 0) lines.push(`${extra.slice(i + 1)}\t${extra.slice(0, i)}`);
  }
  if (address) {
    const fqdn = config.Domainname ? `${config.Hostname}.${config.Domainname} ` : '';
    lines.push(`${address}\t${fqdn}${config.Hostname}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * The host's resolv.conf without loopback nameservers (they mean nothing in the container's
 * network namespace); Google's resolvers when none remain, as dockerd does. --dns, --dns-search
 * and --dns-option replace the corresponding lines.
 */
export function resolvConfContent(hc: HostConfig, hostResolvConf = '/etc/resolv.conf'): string {
  let host = '';
  try {
    host = readFileSync(hostResolvConf, 'utf8');
  } catch {
    // No resolv.conf on the host.
  }
  const lines = host.split('\n');
  let nameservers = lines.filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]!).filter((ns) => !/^(127\.|::1$)/.test(ns));
  let search = lines.filter((l) => /^\s*(search|domain)\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  let options = lines.filter((l) => /^\s*options\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  if (hc.Dns && hc.Dns.length > 0) nameservers = hc.Dns;
  if (hc.DnsSearch && hc.DnsSearch.length > 0) search = hc.DnsSearch.filter((s) => s !== '.');
  if (hc.DnsOptions && hc.DnsOptions.length > 0) options = hc.DnsOptions;
  if (nameservers.length === 0) nameservers = ['8.8.8.8', '8.8.4.4'];
  const out: string[] = [];
  if (search.length > 0) out.push(`search ${search.join(' ')}`);
  for (const ns of nameservers) out.push(`nameserver ${ns}`);
  if (options.length > 0) out.push(`options ${options.join(' ')}`);
  return out.join('\n') + '\n';
}

export function writeEtcFiles(dir: string, config: ContainerConfig, hc: HostConfig): EtcPaths {
  const paths = etcPaths(dir);
  writeFileSync(paths.hostname, `${config.Hostname}\n`);
  writeFileSync(paths.hosts, hostsContent(config, hc));
  writeFileSync(paths.resolvConf, resolvConfContent(hc));
  return paths;
}
