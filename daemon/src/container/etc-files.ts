// The files berthd writes for each container and bind-mounts over the image's: /etc/hostname,
// /etc/hosts and /etc/resolv.conf, with dockerd's content. They are written at create; the network
// driver rewrites hosts and resolv.conf with the container's addresses and resolver when it
// attaches it, with the same renderers.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { readHostResolvConf, renderHosts, renderResolvConf } from '../drivers/network/etc-files';
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

export function writeEtcFiles(dir: string, config: ContainerConfig, hc: HostConfig): EtcPaths {
  const paths = etcPaths(dir);
  writeFileSync(paths.hostname, `${config.Hostname}\n`);
  // host-gateway needs the network's gateway: the network driver adds those entries when it attaches.
  const extraHosts = (hc.ExtraHosts ?? []).filter((e) => !/[:=]host-gateway$/.test(e));
  writeFileSync(paths.hosts, renderHosts({ hostname: config.Hostname ?? '', domainname: config.Domainname, addresses: [], extraHosts }));
  writeFileSync(paths.resolvConf, renderResolvConf({ host: readHostResolvConf(), dns: hc.Dns ?? [], dnsSearch: hc.DnsSearch ?? [], dnsOptions: hc.DnsOptions ?? [] }));
  return paths;
}
