// The API's views of networks and endpoints (network inspect, container NetworkSettings), derived
// from the records at read time.
import type { EndpointSettings, NetworkRecord, NetworkSettings } from './network-driver';
import type { EndpointState, SandboxRecord } from './store';
import { parseCidr } from './ipam';
import { portMap } from './ports';

export function endpointSettings(network: NetworkRecord, sandbox: SandboxRecord, ep: EndpointState): EndpointSettings {
  const pool = network.IPAM.Config[0];
  const live = ep.ip !== undefined;
  const userDefined = network.Driver === 'bridge' && !network.isDefault;
  return {
    IPAMConfig: ep.ipv4 ? { IPv4Address: ep.ipv4 } : null,
    Links: ep.links && ep.links.length > 0 ? ep.links : null,
    Aliases: ep.aliases.length > 0 ? ep.aliases : null,
    MacAddress: ep.macAddress ?? ep.mac ?? '',
    DriverOpts: ep.driverOpts ?? null,
    NetworkID: network.Id,
    EndpointID: live ? ep.endpointId : '',
    Gateway: live && pool?.Gateway ? pool.Gateway : '',
    IPAddress: ep.ip ?? '',
    IPPrefixLen: live && pool ? parseCidr(pool.Subnet).bits : 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: userDefined ? [sandbox.name, sandbox.id.slice(0, 12), ...ep.aliases] : null,
  };
}

export function emptyNetworkSettings(): NetworkSettings {
  return {
    Bridge: '',
    SandboxID: '',
    SandboxKey: '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: {},
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: '',
    Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    MacAddress: '',
    Networks: {},
  };
}

export function networkSettings(sandbox: SandboxRecord, networks: Map<string, NetworkRecord>): NetworkSettings {
  const s = emptyNetworkSettings();
  s.SandboxID = sandbox.sandboxId ?? '';
  s.SandboxKey = sandbox.netns ?? '';
  s.Ports = sandbox.netns ? portMap(Object.fromEntries(sandbox.exposed.map((k) => [k, {}])), sandbox.ports, sandbox.published ?? []) : {};
  for (const ep of Object.values(sandbox.endpoints)) {
    const network = networks.get(ep.networkId);
    if (!network) continue;
    const view = endpointSettings(network, sandbox, ep);
    s.Networks[network.Name] = view;
    // The deprecated top-level fields describe the default bridge, as in dockerd.
    if (network.isDefault) {
      s.EndpointID = view.EndpointID;
      s.Gateway = view.Gateway;
      s.IPAddress = view.IPAddress;
      s.IPPrefixLen = view.IPPrefixLen;
      s.MacAddress = view.MacAddress;
    }
  }
  return s;
}

/** GET /networks/{id}: the record in the API's shape, with its attached containers. */
export function networkView(network: NetworkRecord, sandboxes: SandboxRecord[], verbose: boolean): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  for (const sb of sandboxes) {
    const ep = sb.endpoints[network.Id];
    if (!ep || ep.ip === undefined && network.Driver === 'bridge') continue;
    if (network.Driver !== 'bridge' && !sb.netns && sb.mode !== 'host') continue;
    const bits = network.IPAM.Config[0] ? parseCidr(network.IPAM.Config[0].Subnet).bits : 0;
    containers[sb.id] = {
      Name: sb.name,
      EndpointID: ep.endpointId,
      MacAddress: ep.macAddress ?? '',
      IPv4Address: ep.ip ? `${ep.ip}/${bits}` : '',
      IPv6Address: '',
    };
  }
  const view: Record<string, unknown> = {
    Name: network.Name,
    Id: network.Id,
    Created: network.Created,
    Scope: network.Scope,
    Driver: network.Driver,
    EnableIPv4: true,
    EnableIPv6: network.EnableIPv6,
    IPAM: network.IPAM,
    Internal: network.Internal,
    Attachable: network.Attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: network.Options,
    Labels: network.Labels,
  };
  if (verbose) view.Services = {};
  return view;
}
