// Network routes: a table and thin handlers that decode, validate and ask the Engine's network jobs.
import type { Route } from '../router';
import type { RequestContext } from '../context';
import { parseFilters } from '../filters';
import { invalidParameter } from '../../errors';
import type { NetworkCreateRequest } from '../../drivers/network/manager';
import type { EndpointRequest } from '../../drivers/network/network-driver';

const LIST_FILTERS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'] as const;
const PRUNE_FILTERS = ['label', 'label!', 'until'] as const;

export const networkRoutes: Route[] = [
  { method: 'GET', path: '/networks', handler: listNetworks },
  { method: 'POST', path: '/networks/create', handler: createNetwork },
  { method: 'POST', path: '/networks/prune', handler: pruneNetworks },
  { method: 'GET', path: '/networks/{id}', handler: inspectNetwork },
  { method: 'DELETE', path: '/networks/{id}', handler: removeNetwork },
  { method: 'POST', path: '/networks/{id}/connect', handler: connect },
  { method: 'POST', path: '/networks/{id}/disconnect', handler: disconnect },
];

async function listNetworks(ctx: RequestContext): Promise<void> {
  const filters = parseFilters(ctx.string('filters') ?? null, LIST_FILTERS);
  for (const v of filters.get('type') ?? []) {
    if (v !== 'custom' && v !== 'builtin') throw invalidParameter(`invalid filter: 'type'='${v}'`);
  }
  ctx.json(200, await ctx.engine.run('network.list', { filters }, { hidden: true }));
}

async function inspectNetwork(ctx: RequestContext): Promise<void> {
  const scope = ctx.string('scope');
  if (scope && scope !== 'local') throw invalidParameter(`network ${ctx.params.id} not found in scope ${scope}`);
  ctx.json(200, await ctx.engine.run('network.inspect', { id: ctx.params.id!, verbose: ctx.bool('verbose') }, { hidden: true }));
}

async function createNetwork(ctx: RequestContext): Promise<void> {
  const body = await ctx.readJson<NetworkCreateRequest>();
  if (!body || typeof body !== 'object') throw invalidParameter('network create: the request body must be a JSON object');
  ctx.json(201, await ctx.engine.run('network.create', body, { description: `network ${body.Name ?? ''}` }));
}

async function removeNetwork(ctx: RequestContext): Promise<void> {
  await ctx.engine.run('network.remove', { id: ctx.params.id! }, { description: `network ${ctx.params.id}` });
  ctx.noContent();
}

async function connect(ctx: RequestContext): Promise<void> {
  const body = await ctx.readJson<{ Container?: string; EndpointConfig?: EndpointRequest | null }>();
  if (!body?.Container) throw invalidParameter('no container specified');
  await ctx.engine.run('network.connect', { id: ctx.params.id!, container: body.Container, endpoint: body.EndpointConfig ?? {} });
  ctx.noContent(200);
}

async function disconnect(ctx: RequestContext): Promise<void> {
  const body = await ctx.readJson<{ Container?: string; Force?: boolean }>();
  if (!body?.Container) throw invalidParameter('no container specified');
  await ctx.engine.run('network.disconnect', { id: ctx.params.id!, container: body.Container, force: body.Force === true });
  ctx.noContent(200);
}

async function pruneNetworks(ctx: RequestContext): Promise<void> {
  const filters = parseFilters(ctx.string('filters') ?? null, PRUNE_FILTERS);
  ctx.json(200, await ctx.engine.run('network.prune', { filters }));
}
