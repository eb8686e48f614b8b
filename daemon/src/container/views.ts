// What clients read about containers: GET /containers/{id}/json (inspect) and the items and
// filters of GET /containers/json, in the Engine API's shapes.
import { invalidParameter } from '../errors';

/** Filter values by key, as the API layer parsed them (`filters` query parameter). */
export type Filters = Map<string, string[]>;

const matchesAny = (f: Filters, key: string, test: (v: string) => boolean): boolean => {
  const values = f.get(key);
  return !values || values.length === 0 || values.some(test);
};

const matchesLabels = (f: Filters, labels: Record<string, string> | undefined): boolean =>
  (f.get('label') ?? []).every((v) => {
    const eq = v.indexOf('=');
    if (eq < 0) return labels !== undefined && v in labels;
    return labels !== undefined && labels[v.slice(0, eq)] === v.slice(eq + 1);
  });
import type { Container } from './container';
import { describeState } from './state';
import { etcPaths } from './etc-files';
import { portSummaries, type ContainerAttachments } from '../drivers/attachments';

export const LIST_FILTERS = ['ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume'] as const;
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

function networkSettings(c: Container): Record<string, unknown> {
  const mode = c.record.HostConfig.NetworkMode ?? 'default';
  const networks: Record<string, unknown> = {};
  const name = mode === 'default' ? 'none' : mode;
  if (name === 'none' || name === 'host') {
    networks[name] = {
      IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '',
      IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DriverOpts: null, DNSNames: null,
    };
  }
  return { Bridge: '', SandboxID: '', SandboxKey: '', Ports: {}, HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: '', Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', MacAddress: '', Networks: networks };
}

function mounts(c: Container): Record<string, unknown>[] {
  return (c.record.HostConfig.Binds ?? []).map((b) => {
    const [source, destination, mode = ''] = b.split(':');
    return { Type: 'bind', Source: source, Destination: destination, Mode: mode, RW: !mode.split(',').includes('ro'), Propagation: 'rprivate' };
  });
}

export function inspectContainer(c: Container, dir: string, logPath: string, size?: { rw: number; rootFs: number }, attachments?: ContainerAttachments): Record<string, unknown> {
  const r = c.record;
  const etc = etcPaths(dir);
  const out: Record<string, unknown> = {
    Id: r.ID,
    Created: r.Created,
    Path: r.Path,
    Args: r.Args,
    State: r.State,
    Image: r.Image,
    ResolvConfPath: etc.resolvConf,
    HostnamePath: etc.hostname,
    HostsPath: etc.hosts,
    LogPath: logPath,
    Name: r.Name,
    RestartCount: r.RestartCount,
    Driver: r.Driver,
    Platform: r.Platform,
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: c.execIds.size > 0 ? [...c.execIds] : null,
    HostConfig: r.HostConfig,
    GraphDriver: r.GraphDriver,
    Mounts: attachments?.volumes ? attachments.mounts(c.id) : mounts(c),
    Config: r.Config,
    NetworkSettings: attachments?.network ? attachments.networkSettings(c.id) : networkSettings(c),
  };
  if (size) {
    out.SizeRw = size.rw;
    out.SizeRootFs = size.rootFs;
  }
  return out;
}

/** dockerd's Command column: the entrypoint and arguments joined with spaces, unquoted. */
export const commandLine = (c: Container): string => [c.record.Path, ...c.record.Args].join(' ');

/**
 * A list item's fields but State and Status, which are read live from the state (Status holds a
 * duration): `before` comes ahead of them and `after` behind, in dockerd's order. They change only
 * when the record is saved or the container's network changes, so the list caches them encoded
 * (summaries.ts).
 */
export function summaryParts(c: Container, attachments?: ContainerAttachments): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const r = c.record;
  // The settings are built once: Ports and Networks both come from them.
  const settings = attachments?.network ? attachments.networkSettings(r.ID) : undefined;
  const before = {
    Id: r.ID,
    Names: [r.Name],
    Image: r.Config.Image ?? '',
    ImageID: r.Image,
    Command: commandLine(c),
    Created: Math.floor(c.created / 1000),
    Ports: settings ? portSummaries(settings) : [],
    Labels: r.Config.Labels ?? {},
  };
  const after = {
    HostConfig: { NetworkMode: r.HostConfig.NetworkMode ?? 'default' },
    NetworkSettings: { Networks: settings ? settings.Networks : (networkSettings(c).Networks as Record<string, unknown>) },
    Mounts: attachments?.volumes ? attachments.mounts(r.ID) : mounts(c),
  };
  return { before, after };
}

export function listItem(c: Container, size?: { rw: number; rootFs: number }, attachments?: ContainerAttachments, now = Date.now()): Record<string, unknown> {
  const { before, after } = summaryParts(c, attachments);
  const item: Record<string, unknown> = { ...before, State: c.record.State.Status, Status: describeState(c.record.State, now), ...after };
  if (size) {
    item.SizeRw = size.rw;
    item.SizeRootFs = size.rootFs;
  }
  return item;
}

export interface ListOptions {
  all: boolean;
  limit: number;
  filters: Filters;
  /** Resolves `ancestor` values to image ids (and the ids of their descendants are not tracked). */
  imageIds: (ref: string) => string[];
  /** Resolves a container reference for before/since. */
  find: (ref: string) => Container | undefined;
  /** The network and volume drivers, for the network, volume, publish and expose filters. */
  attachments?: ContainerAttachments;
}

export function listContainers(all: Container[], o: ListOptions): Container[] {
  const f = o.filters;
  for (const s of f.get('status') ?? []) {
    if (!STATUSES.includes(s)) throw invalidParameter(`invalid filter 'status=${s}'`);
  }
  for (const h of f.get('health') ?? []) {
    if (!['starting', 'healthy', 'unhealthy', 'none'].includes(h)) throw invalidParameter(`Unrecognised filter value for health: ${h}`);
  }
  const exited = (f.get('exited') ?? []).map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw invalidParameter(`invalid filter 'exited=${v}'`);
    return n;
  });
  const refTime = (key: 'before' | 'since'): number | undefined => {
    const v = f.get(key)?.[0];
    if (v === undefined) return undefined;
    const c = o.find(v);
    if (!c) throw invalidParameter(`No such container: ${v}`);
    return c.created;
  };
  const before = refTime('before');
  const since = refTime('since');
  const ancestorIds = (f.get('ancestor') ?? []).flatMap((a) => o.imageIds(a));
  // Newest first, as dockerd lists them.
  const sorted = [...all].sort((a, b) => b.created - a.created || (b.id < a.id ? -1 : 1));
  const showAll = o.all || f.has('status') || f.has('exited') || before !== undefined || since !== undefined || o.limit > 0;
  // The filters' test; `docker ps -a` without filters (the common case) skips it altogether.
  const passes = (c: Container): boolean => {
    const s = c.record.State;
    const created = c.created;
    if (before !== undefined && created >= before) return false;
    if (since !== undefined && created <= since) return false;
    if (!matchesAny(f, 'id', (v) => c.id.startsWith(v))) return false;
    if (!matchesAny(f, 'name', (v) => new RegExp(v).test(c.record.Name))) return false;
    if (!matchesAny(f, 'status', (v) => v === s.Status)) return false;
    if (!matchesLabels(f, c.record.Config.Labels ?? undefined)) return false;
    if (exited.length > 0 && (s.Running || s.StartedAt.startsWith('0001') || !exited.includes(s.ExitCode))) return false;
    if (!matchesAny(f, 'health', (v) => (s.Health?.Status ?? 'none') === v)) return false;
    if (f.has('ancestor') && !ancestorIds.includes(c.record.Image) && !(f.get('ancestor') ?? []).includes(c.record.Config.Image ?? '')) return false;
    // The network and volume views are built only for the filters that read them.
    const att = o.attachments;
    if (att?.network) {
      if (f.has('network') || f.has('publish') || f.has('expose')) {
        const settings = att.networkSettings(c.id);
        const networks = Object.entries(settings.Networks);
        if (!matchesAny(f, 'network', (v) => networks.some(([name, ep]) => name === v || (ep.NetworkID !== '' && ep.NetworkID.startsWith(v))))) return false;
        // publish=8080[/tcp] is a host port, expose=80[/tcp] a container port.
        const ports = portSummaries(settings);
        const port = (v: string, pick: (p: { PublicPort?: number; PrivatePort: number }) => number | undefined) => {
          const [n, proto = 'tcp'] = v.split('/');
          return ports.some((p) => String(pick(p)) === n && p.Type === proto);
        };
        if (!matchesAny(f, 'publish', (v) => port(v, (p) => p.PublicPort))) return false;
        if (!matchesAny(f, 'expose', (v) => port(v, (p) => p.PrivatePort))) return false;
      }
    } else {
      if (!matchesAny(f, 'network', (v) => (c.record.HostConfig.NetworkMode === 'default' ? 'none' : c.record.HostConfig.NetworkMode) === v)) return false;
      if (f.has('publish') || f.has('expose')) return false;
    }
    if (att?.volumes) {
      if (f.has('volume')) {
        const mounts = att.mounts(c.id);
        if (!matchesAny(f, 'volume', (v) => mounts.some((m) => m.Name === v || m.Source === v || m.Destination === v))) return false;
      }
    } else if (!matchesAny(f, 'volume', (v) => (c.record.HostConfig.Binds ?? []).some((b) => b.split(':')[0] === v || b.split(':')[1] === v))) return false;
    if (f.has('is-task') && (f.get('is-task') ?? []).includes('true')) return false;
    return true;
  };
  const out: Container[] = [];
  for (const c of sorted) {
    if (!showAll && !c.record.State.Running) continue;
    if (f.size > 0 && !passes(c)) continue;
    out.push(c);
    if (o.limit > 0 && out.length >= o.limit) break;
  }
  return out;
}
