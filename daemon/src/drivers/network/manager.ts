// NetworkManager: berthd's networks (the default bridge, user-defined bridges, host and none) and
// each container's place on them. It owns the bridge driver's kernel objects, the nftables table,
// the published-port proxies and the embedded DNS servers, and keeps them equal to the records on
// disk. Every change runs under one lock: IPAM, the firewall and the records move together.
import { randomBytes } from 'node:crypto';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { conflict, forbidden, invalidParameter, notFound, systemError, unavailable } from '../../errors';
import type { Logger } from '../../log';
import { allocate, DEFAULT_POOLS, formatCidr, newAllocation, parseCidr, overlaps, pickSubnet, release, type AddressPool, type Allocation } from './ipam';
import { attachVeth, bridgePorts, createNetns, createNetnsWithVeth, deleteLink, deleteNetns, ensureBridge, hostRouteDevices, hostRoutes, ipForwarding, macFor, type VethSpec } from './bridge';
import { Firewall, type FirewallState } from './firewall';
import { closePorts, openPorts, requestedPorts } from './ports';
import type { PortProxy } from './proxy';
import { DnsServer, parseUpstream } from './dns';
import { parseExtraHost, readHostResolvConf, renderHosts, renderResolvConf } from './etc-files';
import { NetworkStore, type EndpointState, type SandboxRecord } from './store';
import { emptyNetworkSettings, networkSettings, networkView } from './settings';
import type { ContainerNetworkSpec, EndpointRequest, NetworkDriver, NetworkRecord, NetworkSettings, PreparedNetwork } from './network-driver';

export interface NetworkManagerOptions {
  dataRoot: string;
  execRoot: string;
  /** The default bridge's Linux name (berth0). */
  defaultBridge: string;
  /** The default bridge's gateway address and prefix (dockerd's --bip); picked from the pools when absent. */
  bip?: string;
  pools?: AddressPool[];
  /** The nftables table (inet) holding every rule of this berthd. */
  firewallTable: string;
  /** The host's resolv.conf, read for the containers' resolvers. */
  resolvConf?: string;
  log: Logger;
  /** Where network events go (the Engine's event bus). */
  publish?: (action: string, network: NetworkRecord, attributes?: Record<string, string>) => void;
}

/** POST /networks/create's body. */
export interface NetworkCreateRequest {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: { Subnet?: string; IPRange?: string; Gateway?: string }[] | null; Options?: Record<string, string> | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

const PREDEFINED = ['bridge', 'host', 'none'];
const newId = (): string => randomBytes(32).toString('hex');

export class NetworkManager implements NetworkDriver {
  private readonly store: NetworkStore;
  private readonly firewall: Firewall;
  private readonly netnsDir: string;
  private readonly networks = new Map<string, NetworkRecord>();
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly proxies = new Map<string, PortProxy[]>();
  private readonly dns = new Map<string, { server: DnsServer; port: number }>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: NetworkManagerOptions) {
    this.store = new NetworkStore(path.join(options.dataRoot, 'networks'));
    this.firewall = new Firewall(options.firewallTable);
    this.netnsDir = path.join(options.execRoot, 'netns');
    mkdirSync(this.netnsDir, { recursive: true, mode: 0o700 });
  }

  /** Set while init() runs; restore() does not hold the daemon's start-up behind it. */
  private initializing: Promise<void> | undefined;
  /** Why init() failed: every later operation refuses with it. */
  private failure: Error | undefined;

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const guarded = () => (this.failure ? Promise.reject(unavailable(`networking is unavailable on this host: ${this.failure.message}`)) : fn());
    const next = this.queue.then(guarded, guarded);
    this.queue = next.catch(() => undefined);
    return next;
  }

  // ---- start-up and shutdown ----

  /**
   * Loads the records, recreates the predefined networks and the bridges, restores the firewall.
   * The records load at once; the rest spawns ip and nft several times (seconds in an emulated VM),
   * so the daemon serves its API meanwhile and every other operation waits for it in the queue.
   */
  init(): Promise<void> {
    const done = this.exclusive(async () => {
      for (const n of this.store.networks()) this.networks.set(n.Id, n);
      for (const s of this.store.sandboxes()) this.sandboxes.set(s.id, s);
      await this.ensurePredefined();
      // Masquerade is useless without forwarding; dockerd turns it on too.
      if (!ipForwarding()) {
        writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
        this.options.log.info('enabled IPv4 forwarding (net.ipv4.ip_forward=1) for the containers\' traffic');
      }
      // Who holds which address is rebuilt from the containers' records, so handing an address
      // out or back costs no write of the network's record.
      for (const n of this.networks.values()) {
        const gateway = n.IPAM.Config[0]?.Gateway;
        n.used = gateway ? { [gateway]: 'gateway' } : {};
        for (const sb of this.sandboxes.values()) {
          const ep = sb.endpoints[n.Id];
          if (ep?.ip) n.used[ep.ip] = ep.endpointId;
        }
      }
      for (const n of this.networks.values()) {
        // The default bridge may move to another subnet if another engine took its own at the
        // same moment, unless it was configured (--bip) or running containers are on it.
        const live = [...this.sandboxes.values()].some((sb) => sb.endpoints[n.Id]?.ip);
        if (n.bridge) await this.bringUp(n, n.isDefault === true && !this.options.bip && !live);
      }
      // Sandboxes whose namespace did not survive (a reboot) are no longer wired.
      for (const sb of this.sandboxes.values()) {
        if (sb.netns && !existsSync(sb.netns)) await this.unwire(sb);
      }
      await this.applyFirewall();
    });
    this.initializing = done.then(
      () => { this.initializing = undefined; },
      (err: unknown) => { this.initializing = undefined; this.failure = err instanceof Error ? err : new Error(String(err)); },
    );
    return done;
  }

  /**
   * After live restore: re-opens the port proxies of the containers still running and unwires the
   * others (their process died while berthd was away).
   */
  restore(running: Set<string>): Promise<void> {
    const done = this.exclusive(async () => {
      for (const sb of this.sandboxes.values()) {
        if (!sb.netns || sb.mode.startsWith('container:') || sb.mode === 'host') continue;
        if (!running.has(sb.id)) {
          await this.unwire(sb);
          continue;
        }
        const ip = this.primaryIp(sb);
        if (!ip || this.proxies.has(sb.id)) continue;
        const wanted = (sb.published ?? []).map((p) => ({ proto: p.proto, containerPort: p.containerPort, hostIp: p.hostIp, hostPorts: [p.hostPort, p.hostPort] as [number, number] }));
        try {
          this.proxies.set(sb.id, (await openPorts(wanted, ip, sb.name)).proxies);
        } catch (err) {
          this.options.log.warn('could not re-open published ports', { container: sb.id, error: err });
        }
      }
      await this.applyFirewall();
    });
    if (!this.initializing) return done;
    // The daemon's start-up (the containers' live restore) does not wait for the bridges: the
    // restore keeps its place in the queue, ahead of any operation that comes after it.
    done.catch((err: unknown) => this.options.log.warn('restoring networks failed', { err: (err as Error).message }));
    return Promise.resolve();
  }

  /**
   * Graceful shutdown: closes proxies and resolvers and removes the nftables table; bridges that no
   * running container uses are removed (start-up recreates them).
   */
  shutdown(): Promise<void> {
    return this.exclusive(async () => {
      for (const [id, proxies] of this.proxies) {
        await closePorts(proxies);
        this.proxies.delete(id);
      }
      for (const [id, d] of this.dns) {
        await d.server.close();
        this.dns.delete(id);
      }
      await this.firewall.remove();
      for (const n of this.networks.values()) {
        if (n.bridge && (await bridgePorts(n.bridge)).length === 0) await deleteLink(n.bridge).catch(() => undefined);
      }
    });
  }

  private async ensurePredefined(): Promise<void> {
    const byName = (name: string) => [...this.networks.values()].find((n) => n.Name === name);
    const now = new Date().toISOString();
    const base = { Scope: 'local' as const, Internal: false, Attachable: false, EnableIPv6: false, Labels: {}, Created: now };
    if (!byName('host')) this.saveNetwork({ ...base, Id: newId(), Name: 'host', Driver: 'host', Options: {}, IPAM: { Driver: 'default', Options: null, Config: [] } });
    if (!byName('none')) this.saveNetwork({ ...base, Id: newId(), Name: 'none', Driver: 'null', Options: {}, IPAM: { Driver: 'default', Options: null, Config: [] } });
    let bridge = byName('bridge');
    const wantedBip = this.options.bip ? parseCidr(this.options.bip) : undefined;
    const current = bridge?.IPAM.Config[0];
    const bipChanged = wantedBip && current && formatCidr(wantedBip) !== current.Subnet;
    if (!bridge || bridge.bridge !== this.options.defaultBridge || bipChanged) {
      const subnet = wantedBip ?? (current && bridge?.bridge === this.options.defaultBridge ? parseCidr(current.Subnet) : pickSubnet(this.pools(), await this.takenSubnets(bridge?.Id)));
      const gateway = this.options.bip ? this.options.bip.split('/')[0] : undefined;
      const alloc = newAllocation(subnet, gateway);
      if (bridge?.bridge && bridge.bridge !== this.options.defaultBridge) await deleteLink(bridge.bridge).catch(() => undefined);
      bridge = {
        ...base,
        Id: bridge?.Id ?? newId(),
        Name: 'bridge',
        Driver: 'bridge',
        isDefault: true,
        bridge: this.options.defaultBridge,
        Options: {
          'com.docker.network.bridge.default_bridge': 'true',
          'com.docker.network.bridge.enable_icc': 'true',
          'com.docker.network.bridge.enable_ip_masquerade': 'true',
          'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
          'com.docker.network.bridge.name': this.options.defaultBridge,
          'com.docker.network.driver.mtu': '1500',
        },
        IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: alloc.subnet, Gateway: alloc.gateway }] },
        used: alloc.used,
      };
      this.saveNetwork(bridge);
    }
  }

  private pools(): AddressPool[] {
    return this.options.pools ?? DEFAULT_POOLS;
  }

  /** Subnets a new network must not overlap: the host's routes and every other network's. */
  private async takenSubnets(except?: string) {
    const routes = (await hostRoutes()).map((r) => parseCidr(r));
    const ours = [...this.networks.values()].filter((n) => n.Id !== except).flatMap((n) => n.IPAM.Config.map((c) => parseCidr(c.Subnet)));
    return [...routes, ...ours];
  }

  /**
   * Creates the bridge of a network and, on user-defined ones, starts its DNS resolver. A subnet
   * picked from the pools (`canMove`) that another interface also routes now (two engines picked
   * it in the same instant) is given up for the next free one.
   */
  private async bringUp(n: NetworkRecord, canMove = false): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const pool = n.IPAM.Config[0]!;
      await ensureBridge(n.bridge!, `${pool.Gateway}/${parseCidr(pool.Subnet).bits}`);
      if (!canMove || attempt >= 5 || !(await this.clashes(n))) break;
      this.options.log.warn('another interface routes this network\'s subnet: picking another', { network: n.Name, subnet: pool.Subnet });
      await deleteLink(n.bridge!);
      // Both engines may notice at once: a random pause lets one of them move first.
      await new Promise((r) => setTimeout(r, Math.random() * 100));
      const alloc = newAllocation(pickSubnet(this.pools(), await this.takenSubnets(n.Id)));
      n.IPAM.Config = [{ Subnet: alloc.subnet, Gateway: alloc.gateway }];
      n.used = alloc.used;
      this.saveNetwork(n);
    }
    const pool = n.IPAM.Config[0]!;
    if (!n.isDefault && !this.dns.has(n.Id)) {
      const server = new DnsServer((name) => this.lookup(n.Id, name), (client) => this.upstreams(n.Id, client));
      const port = await server.listen(pool.Gateway!);
      this.dns.set(n.Id, { server, port });
    }
  }

  private async clashes(n: NetworkRecord): Promise<boolean> {
    const mine = parseCidr(n.IPAM.Config[0]!.Subnet);
    return (await hostRouteDevices()).some((r) => r.dev !== n.bridge && overlaps(parseCidr(r.dst), mine));
  }

  /** The asking container's --dns, else the host's resolvers (loopback ones too: the resolver runs on the host). */
  private upstreams(networkId: string, client: string) {
    const asking = [...this.sandboxes.values()].find((sb) => sb.endpoints[networkId]?.ip === client);
    const servers = asking && asking.dns.length > 0 ? asking.dns : readHostResolvConf(this.options.resolvConf).nameservers;
    return servers.map(parseUpstream);
  }

  /** Names on a network: container names, short ids and aliases of its live endpoints. */
  private lookup(networkId: string, name: string): string[] | undefined {
    const ips: string[] = [];
    for (const sb of this.sandboxes.values()) {
      const ep = sb.endpoints[networkId];
      if (!ep?.ip) continue;
      const names = [sb.name, sb.id.slice(0, 12), sb.id, ...ep.aliases].map((x) => x.toLowerCase());
      if (names.includes(name)) ips.push(ep.ip);
    }
    return ips.length > 0 ? ips : undefined;
  }

  private firewallState(): FirewallState {
    const state: FirewallState = { networks: [], ports: [], dns: [] };
    for (const n of this.networks.values()) {
      if (!n.bridge) continue;
      state.networks.push({ bridge: n.bridge, subnet: n.IPAM.Config[0]!.Subnet, gateway: n.IPAM.Config[0]!.Gateway!, internal: n.Internal });
      const d = this.dns.get(n.Id);
      if (d) state.dns.push({ bridge: n.bridge, gateway: n.IPAM.Config[0]!.Gateway!, port: d.port });
    }
    for (const sb of this.sandboxes.values()) {
      const ip = this.primaryIp(sb);
      if (!ip) continue;
      for (const p of sb.published ?? []) state.ports.push({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, targetIp: ip, targetPort: p.containerPort });
    }
    return state;
  }

  private applyFirewall(): Promise<void> {
    return this.firewall.apply(this.firewallState());
  }

  private saveNetwork(n: NetworkRecord): void {
    this.store.saveNetwork(n);
    this.networks.set(n.Id, n);
  }

  // ---- networks ----

  list(): NetworkRecord[] {
    return [...this.networks.values()];
  }

  /** By full id, then name, then unique id prefix, as dockerd resolves a network reference. */
  find(ref: string): NetworkRecord {
    const all = [...this.networks.values()];
    const found = this.networks.get(ref) ?? all.find((n) => n.Name === ref);
    if (found) return found;
    const byPrefix = all.filter((n) => n.Id.startsWith(ref));
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw invalidParameter(`network ${ref} is ambiguous (${byPrefix.length} matches found based on ID prefix)`);
    throw notFound(`network ${ref} not found`);
  }

  inspect(ref: string, verbose = false): Record<string, unknown> {
    return networkView(this.find(ref), [...this.sandboxes.values()], verbose);
  }

  /** Containers with a live endpoint on the network. */
  private activeEndpoints(n: NetworkRecord): SandboxRecord[] {
    return [...this.sandboxes.values()].filter((sb) => sb.endpoints[n.Id]?.ip !== undefined || (n.Driver !== 'bridge' && sb.netns && sb.endpoints[n.Id]));
  }

  create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    return this.exclusive(async () => {
      const name = req.Name ?? '';
      if (!name) throw invalidParameter('network name must not be empty');
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw invalidParameter(`invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      const driver = req.Driver || 'bridge';
      if (driver === 'host' || driver === 'null') throw forbidden(`only one instance of "${driver}" network is allowed`);
      if (driver !== 'bridge') throw notFound(`plugin "${driver}" not found`);
      if ([...this.networks.values()].some((n) => n.Name === name)) throw conflict(`network with name ${name} already exists`);
      if (req.EnableIPv6) throw invalidParameter('berthd does not support IPv6 networks yet: create the network without --ipv6');
      const configs = req.IPAM?.Config ?? [];
      if (configs.length > 1) throw invalidParameter('berthd supports one IPv4 pool per network');
      const asked = configs[0];
      let alloc: Allocation;
      const taken = await this.takenSubnets();
      if (asked?.Subnet) {
        const subnet = parseCidr(asked.Subnet);
        if (formatCidr(subnet) !== asked.Subnet) throw invalidParameter(`invalid subnet ${asked.Subnet}: it should be ${formatCidr(subnet)}`);
        const ours = [...this.networks.values()].flatMap((n) => n.IPAM.Config.map((c) => parseCidr(c.Subnet)));
        if (ours.some((t) => overlaps(t, subnet))) throw forbidden('Pool overlaps with other one on this address space');
        alloc = newAllocation(subnet, asked.Gateway, asked.IPRange);
      } else {
        if (asked?.Gateway || asked?.IPRange) throw invalidParameter('a gateway or an ip-range needs a subnet (--subnet)');
        alloc = newAllocation(pickSubnet(this.pools(), taken));
      }
      const id = newId();
      const options = req.Options ?? {};
      const bridge = options['com.docker.network.bridge.name'] || `br-${id.slice(0, 12)}`;
      if ([...this.networks.values()].some((n) => n.bridge === bridge)) throw conflict(`bridge ${bridge} is already used by another network`);
      const record: NetworkRecord = {
        Id: id,
        Name: name,
        Created: new Date().toISOString(),
        Driver: 'bridge',
        Scope: 'local',
        Internal: req.Internal === true,
        Attachable: req.Attachable === true,
        EnableIPv6: false,
        Labels: req.Labels ?? {},
        Options: options,
        IPAM: {
          Driver: req.IPAM?.Driver || 'default',
          Options: req.IPAM?.Options ?? {},
          Config: [{ Subnet: alloc.subnet, Gateway: alloc.gateway, ...(alloc.ipRange ? { IPRange: alloc.ipRange } : {}) }],
        },
        bridge,
        used: alloc.used,
      };
      this.saveNetwork(record);
      try {
        await this.bringUp(record, !asked?.Subnet);
        await this.applyFirewall();
      } catch (err) {
        await this.dropNetwork(record);
        throw err;
      }
      this.options.publish?.('create', record, { name, type: 'bridge' });
      return { Id: id, Warning: '' };
    });
  }

  private async dropNetwork(n: NetworkRecord): Promise<void> {
    const d = this.dns.get(n.Id);
    if (d) await d.server.close();
    this.dns.delete(n.Id);
    this.networks.delete(n.Id);
    this.store.deleteNetwork(n.Id);
    if (n.bridge) await deleteLink(n.bridge).catch(() => undefined);
    await this.applyFirewall().catch(() => undefined);
  }

  /** (NetworkDriver) Forgets a removed container. Networks are removed with removeNetwork. */
  remove(containerId: string): Promise<void> {
    return this.exclusive(async () => {
      const sb = this.sandboxes.get(containerId);
      if (!sb) return;
      await this.unwire(sb);
      this.sandboxes.delete(containerId);
      this.store.deleteSandbox(containerId);
    });
  }

  removeNetwork(ref: string): Promise<void> {
    return this.exclusive(async () => {
      const n = this.find(ref);
      if (PREDEFINED.includes(n.Name)) throw forbidden(`${n.Name} is a pre-defined network and cannot be removed`);
      if (this.activeEndpoints(n).length > 0) throw conflict(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints`);
      await this.dropNetwork(n);
      this.options.publish?.('destroy', n, { name: n.Name, type: n.Driver });
    });
  }

  /** Removes the user-defined networks without endpoints that `keep` does not keep; returns their names. */
  async prune(keep: (n: NetworkRecord) => boolean): Promise<string[]> {
    const removed: string[] = [];
    for (const n of this.list()) {
      if (PREDEFINED.includes(n.Name) || keep(n) || this.activeEndpoints(n).length > 0) continue;
      try {
        await this.removeNetwork(n.Id);
        removed.push(n.Name);
      } catch (err) {
        this.options.log.warn('network prune: could not remove', { network: n.Name, error: err });
      }
    }
    return removed;
  }

  // ---- containers ----

  register(spec: ContainerNetworkSpec, resolveContainer: (ref: string) => string): Promise<void> {
    return this.exclusive(async () => {
      const hc = spec.hostConfig;
      let mode = hc.NetworkMode || 'default';
      if (mode === 'default') mode = 'bridge';
      const endpoints: Record<string, EndpointState> = {};
      const requests = { ...(spec.endpoints ?? {}) };
      if (mode.startsWith('container:')) {
        const target = resolveContainer(mode.slice('container:'.length));
        if (target === spec.id) throw invalidParameter('cannot join own network namespace');
        if (hc.PortBindings && Object.keys(hc.PortBindings).length > 0 || hc.PublishAllPorts) throw invalidParameter('conflicting options: port publishing and the container type network mode');
        if ((hc.Dns ?? []).length > 0 || (hc.ExtraHosts ?? []).length > 0) throw invalidParameter('conflicting options: dns and the network mode');
        mode = `container:${target}`;
      } else if (mode === 'host' || mode === 'none') {
        if (mode === 'host' && (Object.keys(hc.PortBindings ?? {}).length > 0 || hc.PublishAllPorts)) {
          // dockerd drops published ports on the host network with a warning; berthd does the same.
          this.options.log.warn('published ports are discarded when using host network mode', { container: spec.id });
        }
        const n = this.find(mode);
        endpoints[n.Id] = { networkId: n.Id, endpointId: newId(), aliases: [] };
      } else {
        const primary = this.find(mode);
        if (primary.Driver !== 'bridge') throw invalidParameter(`container cannot be connected to network ${mode} with other networks`);
        mode = primary.Id;
        const byNetwork = new Map<string, EndpointRequest>();
        // The CLI keys the primary network's request by the mode as typed ("default", a name, an id).
        const asTyped = spec.hostConfig.NetworkMode || 'default';
        byNetwork.set(primary.Id, requests[asTyped] ?? requests[primary.Name] ?? requests[primary.Id] ?? {});
        for (const [ref, req] of Object.entries(requests)) {
          if (ref === asTyped) continue;
          const n = this.find(ref);
          if (n.Id !== primary.Id) byNetwork.set(n.Id, req);
        }
        for (const [id, req] of byNetwork) endpoints[id] = this.endpointFor(this.networks.get(id)!, req);
      }
      const ports = mode === 'host' || mode.startsWith('container:') ? [] : requestedPorts(hc.PortBindings, hc.PublishAllPorts === true, spec.config.ExposedPorts);
      for (const h of hc.ExtraHosts ?? []) parseExtraHost(h);
      const sb: SandboxRecord = {
        id: spec.id,
        name: spec.name.replace(/^\//, ''),
        hostname: spec.config.Hostname || spec.id.slice(0, 12),
        domainname: spec.config.Domainname ?? '',
        mode,
        endpoints,
        ports,
        exposed: Object.keys(spec.config.ExposedPorts ?? {}),
        dns: hc.Dns ?? [],
        dnsSearch: hc.DnsSearch ?? [],
        dnsOptions: hc.DnsOptions ?? [],
        extraHosts: hc.ExtraHosts ?? [],
      };
      this.sandboxes.set(sb.id, sb);
      this.store.saveSandbox(sb);
    });
  }

  /** Checks an endpoint request against its network (--ip in the subnet, a valid MAC, aliases). */
  private endpointFor(n: NetworkRecord, req: EndpointRequest): EndpointState {
    const ipv4 = req.IPAMConfig?.IPv4Address || undefined;
    if ((ipv4 || (req.Aliases ?? []).length > 0) && n.isDefault) {
      throw invalidParameter(ipv4 ? 'user specified IP address is supported on user defined networks only' : 'network-scoped alias is supported only for containers in user defined networks');
    }
    if (ipv4 && !n.IPAM.Config.some((c) => overlaps(parseCidr(c.Subnet), parseCidr(`${ipv4}/32`)))) {
      throw invalidParameter(`invalid IP address ${ipv4}: it does not belong to any of this network's subnets`);
    }
    if (req.MacAddress && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(req.MacAddress)) throw invalidParameter(`invalid MAC address: ${req.MacAddress}`);
    return {
      networkId: n.Id,
      endpointId: newId(),
      aliases: req.Aliases ?? [],
      ipv4,
      mac: req.MacAddress || undefined,
      driverOpts: req.DriverOpts ?? undefined,
      links: req.Links ?? undefined,
    };
  }

  private sandbox(containerId: string): SandboxRecord {
    let sb = this.sandboxes.get(containerId);
    if (!sb) {
      // A container created before berthd had its networkdriver: the default bridge, no ports.
      this.options.log.warn('container has no network record: putting it on the default bridge', { container: containerId });
      const bridge = [...this.networks.values()].find((n) => n.isDefault)!;
      sb = {
        id: containerId, name: containerId.slice(0, 12), hostname: containerId.slice(0, 12), domainname: '', mode: bridge.Id,
        endpoints: { [bridge.Id]: { networkId: bridge.Id, endpointId: newId(), aliases: [] } },
        ports: [], exposed: [], dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [],
      };
      this.sandboxes.set(containerId, sb);
    }
    return sb;
  }

  private primaryIp(sb: SandboxRecord): string | undefined {
    return Object.values(sb.endpoints).find((e) => e.ip)?.ip;
  }

  private hostGateway(): string {
    const def = [...this.networks.values()].find((n) => n.isDefault);
    return def?.IPAM.Config[0]?.Gateway ?? '';
  }

  prepare(containerId: string, etcDir: string): Promise<PreparedNetwork> {
    return this.exclusive(async () => {
      const sb = this.sandbox(containerId);
      if (sb.netns) await this.unwire(sb);
      mkdirSync(etcDir, { recursive: true });
      sb.etcDir = etcDir;
      const hostsPath = path.join(etcDir, 'hosts');
      const resolvConfPath = path.join(etcDir, 'resolv.conf');
      if (sb.mode.startsWith('container:')) {
        const owner = this.sandboxes.get(sb.mode.slice('container:'.length));
        if (!owner?.netns && owner?.mode !== 'host') throw conflict(`cannot join network of a non running container: ${sb.mode.slice('container:'.length)}`);
        for (const f of ['hosts', 'resolv.conf']) copyFileSync(path.join(owner.etcDir!, f), path.join(etcDir, f));
        this.store.saveSandbox(sb);
        return { netnsPath: owner.netns, hostsPath, resolvConfPath, settings: this.settings(containerId) };
      }
      if (sb.mode === 'host') {
        const hosts = readFileSync('/etc/hosts', 'utf8') + this.extraHostLines(sb);
        writeFileSync(hostsPath, hosts);
        writeFileSync(resolvConfPath, readFileSync(this.options.resolvConf ?? '/etc/resolv.conf', 'utf8'));
        this.store.saveSandbox(sb);
        return { hostsPath, resolvConfPath, settings: this.settings(containerId) };
      }
      try {
        sb.netns = path.join(this.netnsDir, containerId);
        sb.sandboxId = newId();
        let first = true;
        for (const ep of Object.values(sb.endpoints)) {
          const n = this.networks.get(ep.networkId);
          if (!n?.bridge) continue;
          // The first interface is made by the process that makes the namespace.
          await this.wireEndpoint(sb, ep, n, first, first);
          first = false;
        }
        if (first) await createNetns(sb.netns);
        const ip = this.primaryIp(sb);
        if (ip && sb.ports.length > 0) {
          const opened = await openPorts(sb.ports, ip, `${sb.name} (${sb.id.slice(0, 12)})`);
          this.proxies.set(sb.id, opened.proxies);
          sb.published = opened.published;
        }
        this.writeEtc(sb);
        // The rules depend on containers only through their published ports.
        if (sb.published && sb.published.length > 0) await this.applyFirewall();
        // Runtime state (namespace, addresses): not synced, as in unwire; a power cut ends it anyway.
        this.store.saveSandbox(sb, false);
      } catch (err) {
        await this.unwire(sb).catch(() => undefined);
        throw err;
      }
      for (const ep of Object.values(sb.endpoints)) {
        const n = this.networks.get(ep.networkId);
        if (n) this.options.publish?.('connect', n, { container: sb.id, name: n.Name, type: n.Driver });
      }
      return { netnsPath: sb.netns, hostsPath, resolvConfPath, settings: this.settings(containerId) };
    });
  }

  /** `withNamespace`: the namespace does not exist yet and is made with this interface. */
  private async wireEndpoint(sb: SandboxRecord, ep: EndpointState, n: NetworkRecord, primary: boolean, withNamespace = false): Promise<void> {
    const pool = n.IPAM.Config[0]!;
    const alloc: Allocation = { subnet: pool.Subnet, gateway: pool.Gateway!, ipRange: pool.IPRange, used: n.used ?? {}, last: n.last };
    const ip = allocate(alloc, ep.endpointId, ep.ipv4);
    n.used = alloc.used;
    n.last = alloc.last;
    const used = new Set(Object.values(sb.endpoints).map((e) => e.ifname).filter(Boolean));
    let k = 0;
    while (used.has(`eth${k}`)) k++;
    ep.ifname = `eth${k}`;
    ep.hostVeth = `bth${ep.endpointId.slice(0, 8)}`;
    ep.macAddress = ep.mac ?? macFor(ip);
    try {
      const veth: VethSpec = {
        bridge: n.bridge!,
        hostName: ep.hostVeth,
        netns: sb.netns!,
        ifname: ep.ifname,
        address: ip,
        prefixLen: parseCidr(pool.Subnet).bits,
        mac: ep.macAddress,
        gateway: primary && !n.Internal ? pool.Gateway : undefined,
      };
      await (withNamespace ? createNetnsWithVeth(veth) : attachVeth(veth));
    } catch (err) {
      release(alloc, ep.endpointId);
      ep.ifname = ep.hostVeth = ep.macAddress = undefined;
      throw err;
    }
    ep.ip = ip;
  }

  /** `keepLink`: the namespace is about to go, and its veths with it (the kernel's work, not ours). */
  private async unwireEndpoint(ep: EndpointState, keepLink = false): Promise<void> {
    if (ep.hostVeth && !keepLink) await deleteLink(ep.hostVeth).catch(() => undefined);
    const n = this.networks.get(ep.networkId);
    if (n?.used) {
      release({ subnet: '', gateway: '', used: n.used }, ep.endpointId);
    }
    ep.ip = ep.hostVeth = ep.ifname = ep.macAddress = undefined;
  }

  /** Takes a container off its networks: proxies, veths, addresses, namespace. Idempotent. */
  private async unwire(sb: SandboxRecord): Promise<void> {
    const proxies = this.proxies.get(sb.id);
    if (proxies) await closePorts(proxies);
    this.proxies.delete(sb.id);
    const hadPorts = (sb.published ?? []).length > 0;
    // Unmounting the namespace destroys it and its veths in the kernel's own time (a few ms),
    // where `ip link del` waits about 30 ms per veth for the kernel to synchronise.
    const namespaceGoes = sb.netns !== undefined && !sb.mode.startsWith('container:') && existsSync(sb.netns);
    for (const ep of Object.values(sb.endpoints)) {
      const live = ep.ip !== undefined;
      await this.unwireEndpoint(ep, namespaceGoes);
      const n = this.networks.get(ep.networkId);
      if (live && n) this.options.publish?.('disconnect', n, { container: sb.id, name: n.Name, type: n.Driver });
    }
    if (sb.netns && !sb.mode.startsWith('container:')) await deleteNetns(sb.netns);
    sb.netns = sb.sandboxId = sb.published = undefined;
    // Not synced to disk: after a crash, start-up finds the namespace gone and unwires it anyway.
    this.store.saveSandbox(sb, false);
    if (hadPorts) await this.applyFirewall();
  }

  private extraHostLines(sb: SandboxRecord): string {
    return sb.extraHosts.map((h) => {
      const { host, ip } = parseExtraHost(h);
      return `${ip === 'host-gateway' ? this.hostGateway() : ip}\t${host}\n`;
    }).join('');
  }

  private writeEtc(sb: SandboxRecord): void {
    if (!sb.etcDir) return;
    const extraHosts = sb.extraHosts.map((h) => {
      const { host, ip } = parseExtraHost(h);
      return `${host}:${ip === 'host-gateway' ? this.hostGateway() : ip}`;
    });
    const addresses = Object.values(sb.endpoints).map((e) => e.ip).filter((ip): ip is string => !!ip);
    writeFileSync(path.join(sb.etcDir, 'hosts'), renderHosts({ hostname: sb.hostname, domainname: sb.domainname, addresses, extraHosts }));
    // On a user-defined network the embedded resolver answers (it forwards the rest).
    const userNet = Object.values(sb.endpoints).map((e) => this.networks.get(e.networkId)).find((n) => n?.bridge && !n.isDefault);
    const embedded = userNet ? userNet.IPAM.Config[0]!.Gateway : undefined;
    writeFileSync(path.join(sb.etcDir, 'resolv.conf'), renderResolvConf({
      host: readHostResolvConf(this.options.resolvConf), dns: sb.dns, dnsSearch: sb.dnsSearch, dnsOptions: sb.dnsOptions, embedded,
    }));
  }

  release(containerId: string): Promise<void> {
    return this.exclusive(async () => {
      const sb = this.sandboxes.get(containerId);
      if (sb) await this.unwire(sb);
    });
  }

  settings(containerId: string): NetworkSettings {
    const sb = this.sandboxes.get(containerId);
    if (!sb) return emptyNetworkSettings();
    if (sb.mode.startsWith('container:')) {
      const s = emptyNetworkSettings();
      const owner = this.sandboxes.get(sb.mode.slice('container:'.length));
      s.SandboxKey = owner?.netns ?? '';
      return s;
    }
    return networkSettings(sb, this.networks);
  }

  revision(containerId: string): number {
    return this.store.revision(containerId);
  }

  connect(containerId: string, ref: string, request: EndpointRequest): Promise<void> {
    return this.exclusive(async () => {
      const sb = this.sandbox(containerId);
      const n = this.find(ref);
      if (sb.mode === 'host' || sb.mode === 'none' || sb.mode.startsWith('container:')) {
        throw forbidden('container sharing network namespace with another container or host cannot be connected to any other network');
      }
      if (n.Driver !== 'bridge') throw forbidden(`container cannot be disconnected from host network or connected to host network`);
      if (sb.endpoints[n.Id]) throw forbidden(`endpoint with name ${sb.name} already exists in network ${n.Name}`);
      const ep = this.endpointFor(n, request);
      sb.endpoints[n.Id] = ep;
      if (sb.netns) {
        try {
          await this.wireEndpoint(sb, ep, n, this.primaryIp(sb) === undefined);
        } catch (err) {
          delete sb.endpoints[n.Id];
          throw err;
        }
        this.writeEtc(sb);
        await this.applyFirewall();
        this.options.publish?.('connect', n, { container: sb.id, name: n.Name, type: n.Driver });
      }
      this.store.saveSandbox(sb);
    });
  }

  disconnect(containerId: string, ref: string, force: boolean): Promise<void> {
    return this.exclusive(async () => {
      const n = this.find(ref);
      const sb = this.sandboxes.get(containerId);
      const ep = sb?.endpoints[n.Id];
      if (!sb || !ep) {
        if (force) return;
        throw forbidden(`container ${containerId} is not connected to network ${n.Name}`);
      }
      if (n.Driver !== 'bridge') throw forbidden('container cannot be disconnected from host network or connected to host network');
      const live = ep.ip !== undefined;
      await this.unwireEndpoint(ep);
      delete sb.endpoints[n.Id];
      if (live) {
        this.writeEtc(sb);
        await this.applyFirewall();
        this.options.publish?.('disconnect', n, { container: sb.id, name: n.Name, type: n.Driver });
      }
      this.store.saveSandbox(sb);
    });
  }

  rename(containerId: string, newName: string): Promise<void> {
    return this.exclusive(async () => {
      const sb = this.sandboxes.get(containerId);
      if (!sb) return;
      sb.name = newName.replace(/^\//, '');
      this.store.saveSandbox(sb);
    });
  }

  /** The published ports of a container (`docker port`), from its settings. */
  ports(containerId: string): NetworkSettings['Ports'] {
    return this.settings(containerId).Ports;
  }

  /** Throws when the firewall could not be programmed at all (no nft): the daemon says so at start. */
  /** nft on PATH (looked up, not run: a spawn costs a visible moment of an emulated VM's boot). */
  static async check(searchPath = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): Promise<void> {
    const found = searchPath.split(':').some((dir) => {
      try {
        accessSync(path.join(dir || '.', 'nft'), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
    if (!found) throw systemError('nft (nftables) is not installed: install the nftables package (scripts/setup.sh does)');
  }
}
