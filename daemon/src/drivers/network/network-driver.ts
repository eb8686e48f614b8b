// The networkdriver: what the container layer asks of networking, and the shapes of the Engine
// API it answers with (Network, EndpointSettings, NetworkSettings). The implementation is
// NetworkManager (manager.ts) over the bridge driver (bridge.ts), the firewall (firewall.ts), the
// port publisher (ports.ts) and the embedded DNS (dns.ts).
import type { ContainerConfig, HostConfig } from '../../container/types';

/** An IPAM pool of a network, as `docker network inspect` shows it. */
export interface IpamConfig {
  Subnet: string;
  Gateway?: string;
  IPRange?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

/** A network's record on disk (<data-root>/networks/<id>.json), in the API's field names. */
export interface NetworkRecord {
  Id: string;
  Name: string;
  Created: string;
  Driver: 'bridge' | 'host' | 'null';
  Scope: 'local';
  Internal: boolean;
  Attachable: boolean;
  EnableIPv6: boolean;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IpamConfig[] };
  /** The Linux bridge carrying it (bridge driver only). */
  bridge?: string;
  /** The default bridge (`bridge`, on berth0): no DNS, legacy links. */
  isDefault?: boolean;
  /** Addresses in use: address → endpoint id (or "gateway"); rebuilt from the containers at start-up. */
  used?: Record<string, string>;
  /** The last address handed out. */
  last?: string;
}

/** EndpointSettings of the API: the per-network part of a container's NetworkSettings. */
export interface EndpointSettings {
  IPAMConfig: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
}

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** NetworkSettings of container inspect. */
export interface NetworkSettings {
  Bridge: string;
  SandboxID: string;
  SandboxKey: string;
  HairpinMode: boolean;
  LinkLocalIPv6Address: string;
  LinkLocalIPv6PrefixLen: number;
  Ports: Record<string, PortBinding[] | null>;
  SecondaryIPAddresses: null;
  SecondaryIPv6Addresses: null;
  EndpointID: string;
  Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  MacAddress: string;
  Networks: Record<string, EndpointSettings>;
}

/** What a client asks for one network at create or connect (NetworkingConfig.EndpointsConfig[n]). */
export interface EndpointRequest {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
  Links?: string[] | null;
}

/** What the networkdriver needs to know of a container. */
export interface ContainerNetworkSpec {
  id: string;
  /** With or without the leading slash. */
  name: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** POST /containers/create's NetworkingConfig.EndpointsConfig. */
  endpoints?: Record<string, EndpointRequest> | null;
}

/** What start needs from the networkdriver. */
export interface PreparedNetwork {
  /** The network namespace to join; absent with --network host. */
  netnsPath?: string;
  /** Host files to bind-mount at /etc/hosts and /etc/resolv.conf. */
  hostsPath: string;
  resolvConfPath: string;
  settings: NetworkSettings;
}

export interface NetworkDriver {
  /**
   * Checks and records a container's networking at create time: the networks exist, --ip is in
   * their subnet, --network container:<id> names a container, the port specs parse. Nothing is
   * wired yet. `resolveContainer` turns a name or id prefix into a full id (for container:<x>).
   */
  register(spec: ContainerNetworkSpec, resolveContainer: (ref: string) => string): Promise<void>;
  /**
   * Wires a container before its process starts: its network namespace, a veth on each network,
   * addresses, routes, published ports (all or none: a taken port undoes the rest and throws 409
   * "port is already allocated"), DNS and /etc/hosts. `etcDir` receives hosts and resolv.conf.
   */
  prepare(containerId: string, etcDir: string): Promise<PreparedNetwork>;
  /** Undoes prepare once the container's process has exited (veths, ports, the namespace). */
  release(containerId: string): Promise<void>;
  /** Forgets a removed container (after release). */
  remove(containerId: string): Promise<void>;
  /** A container's NetworkSettings (empty addresses while it is not running). */
  settings(containerId: string): NetworkSettings;
  /** A number that grows whenever the container's settings may have changed (views cached on it compare it). */
  revision(containerId: string): number;
  /** docker network connect: live when the container runs, recorded for its next start otherwise. */
  connect(containerId: string, network: string, request: EndpointRequest): Promise<void>;
  disconnect(containerId: string, network: string, force: boolean): Promise<void>;
  /** After live restore: re-opens the published ports of the containers still running, unwires the others. */
  restore(running: Set<string>): Promise<void>;
  /** Renames the container in DNS and /etc/hosts of the networks it is on. */
  rename(containerId: string, newName: string): Promise<void>;
}
