// The networkdriver's jobs: what the API's network routes ask the Engine to run. Container
// references (connect, disconnect) resolve through ContainerRefs, which the container component
// provides once it is wired.
import type { Engine } from '../../engine/engine';
import { notFound } from '../../errors';
import type { NetworkManager, NetworkCreateRequest } from './manager';
import type { EndpointRequest, NetworkRecord } from './network-driver';

export type NetworkFilters = Map<string, string[]>;

/** Resolves a container name, id or id prefix to its full id (404 `No such container: x`). */
export type ContainerRefs = (ref: string) => string;

export const noContainers: ContainerRefs = (ref) => {
  throw notFound(`No such container: ${ref}`);
};

declare module '../../engine/engine' {
  interface JobTable {
    'network.list': { args: { filters: NetworkFilters }; result: Record<string, unknown>[] };
    'network.inspect': { args: { id: string; verbose: boolean }; result: Record<string, unknown> };
    'network.create': { args: NetworkCreateRequest; result: { Id: string; Warning: string } };
    'network.remove': { args: { id: string }; result: void };
    'network.connect': { args: { id: string; container: string; endpoint: EndpointRequest }; result: void };
    'network.disconnect': { args: { id: string; container: string; force: boolean }; result: void };
    'network.prune': { args: { filters: NetworkFilters }; result: { NetworksDeleted: string[] } };
  }
}

function labelsMatch(filters: NetworkFilters, labels: Record<string, string>, key: 'label' | 'label!'): boolean {
  const values = filters.get(key);
  if (!values) return true;
  const test = (v: string) => {
    const eq = v.indexOf('=');
    return eq < 0 ? v in labels : labels[v.slice(0, eq)] === v.slice(eq + 1);
  };
  return key === 'label' ? values.every(test) : !values.some(test);
}

const BUILTIN = ['bridge', 'host', 'none'];

export function networkMatches(n: NetworkRecord, view: Record<string, unknown>, f: NetworkFilters): boolean {
  const any = (key: string, test: (v: string) => boolean) => {
    const values = f.get(key);
    return !values || values.length === 0 || values.some(test);
  };
  const containers = Object.keys((view.Containers as Record<string, unknown>) ?? {}).length;
  return any('driver', (v) => n.Driver === v)
    && any('id', (v) => n.Id.startsWith(v))
    && any('name', (v) => n.Name.includes(v))
    && any('scope', (v) => v === 'local')
    && any('type', (v) => (v === 'builtin') === BUILTIN.includes(n.Name))
    && any('dangling', (v) => (v === 'true' || v === '1') === (containers === 0 && !BUILTIN.includes(n.Name)))
    && labelsMatch(f, n.Labels, 'label');
}

export function registerNetworkJobs(engine: Pick<Engine, 'register'>, networks: () => NetworkManager, containers: () => ContainerRefs): void {
  engine.register('network.list', async ({ args }) => networks().list()
    .map((n) => ({ n, view: networks().inspect(n.Id) }))
    .filter(({ n, view }) => networkMatches(n, view, args.filters))
    .map(({ view }) => view));
  engine.register('network.inspect', async ({ args }) => networks().inspect(args.id, args.verbose));
  engine.register('network.create', async ({ args }) => networks().create(args));
  engine.register('network.remove', async ({ args }) => networks().removeNetwork(args.id));
  engine.register('network.connect', async ({ args }) => {
    const n = networks().find(args.id);
    await networks().connect(containers()(args.container), n.Id, args.endpoint);
  });
  engine.register('network.disconnect', async ({ args }) => {
    const n = networks().find(args.id);
    let id: string;
    try {
      id = containers()(args.container);
    } catch (err) {
      if (args.force) return;
      throw err;
    }
    await networks().disconnect(id, n.Id, args.force);
  });
  engine.register('network.prune', async ({ args }) => {
    const until = args.filters.get('until')?.[0];
    const cutoff = until ? parseUntil(until) : Infinity;
    const removed = await networks().prune((n) => !(labelsMatch(args.filters, n.Labels, 'label') && labelsMatch(args.filters, n.Labels, 'label!') && Date.parse(n.Created) < cutoff));
    return { NetworksDeleted: removed };
  });
}

/** `until`: a Unix timestamp, an RFC 3339 date, or a duration like 10m / 24h before now. */
export function parseUntil(raw: string): number {
  const d = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(raw);
  if (d) {
    const unit = { ns: 1e-6, us: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 }[d[2] as 'ns'];
    return Date.now() - Number(d[1]) * unit;
  }
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw) * 1000;
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw notFound(`invalid until filter: ${raw}`);
  return t;
}
