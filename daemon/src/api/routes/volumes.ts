// Volume routes: a table and thin handlers over the Engine's volume jobs. Berth's own routes for
// the app's volume browser are documented in the README ("Berth API extensions"):
//   GET /berth/volumes/{name}/files?path=&offset=&limit=   one directory of the volume, paged
//   GET /berth/volumes/{name}/file?path=                   one file's bytes
import { pipeline } from 'node:stream/promises';
import type { Route } from '../router';
import type { RequestContext } from '../context';
import { parseFilters } from '../filters';
import { invalidParameter } from '../../errors';
import type { VolumeCreateRequest } from '../../drivers/volume/manager';

const LIST_FILTERS = ['dangling', 'driver', 'label', 'name'] as const;
const PRUNE_FILTERS = ['label', 'label!', 'all'] as const;

export const volumeRoutes: Route[] = [
  { method: 'GET', path: '/volumes', handler: listVolumes },
  { method: 'POST', path: '/volumes/create', handler: createVolume },
  { method: 'POST', path: '/volumes/prune', handler: pruneVolumes },
  { method: 'GET', path: '/volumes/{name}', handler: inspectVolume },
  { method: 'DELETE', path: '/volumes/{name}', handler: removeVolume },
  { method: 'GET', path: '/berth/volumes/{name}/files', handler: browseVolume },
  { method: 'GET', path: '/berth/volumes/{name}/file', handler: downloadFile },
];

async function listVolumes(ctx: RequestContext): Promise<void> {
  const filters = parseFilters(ctx.string('filters') ?? null, LIST_FILTERS);
  ctx.json(200, { Volumes: await ctx.engine.run('volume.list', { filters }, { hidden: true }), Warnings: [] });
}

async function createVolume(ctx: RequestContext): Promise<void> {
  const body = (await ctx.readJson<VolumeCreateRequest>()) ?? {};
  if (typeof body !== 'object') throw invalidParameter('volume create: the request body must be a JSON object');
  ctx.json(201, await ctx.engine.run('volume.create', body, { description: `volume ${body.Name ?? ''}` }));
}

async function inspectVolume(ctx: RequestContext): Promise<void> {
  ctx.json(200, await ctx.engine.run('volume.inspect', { name: ctx.params.name! }, { hidden: true }));
}

async function removeVolume(ctx: RequestContext): Promise<void> {
  await ctx.engine.run('volume.remove', { name: ctx.params.name!, force: ctx.bool('force') }, { description: `volume ${ctx.params.name}` });
  ctx.noContent();
}

async function pruneVolumes(ctx: RequestContext): Promise<void> {
  const filters = parseFilters(ctx.string('filters') ?? null, PRUNE_FILTERS);
  // API < 1.42 pruned named volumes too (dockerd 23 made `all` opt-in).
  if (!ctx.atLeast('1.42') && !filters.has('all')) filters.set('all', ['true']);
  ctx.json(200, await ctx.engine.run('volume.prune', { filters }));
}

async function browseVolume(ctx: RequestContext): Promise<void> {
  ctx.json(200, await ctx.engine.run('volume.browse', {
    name: ctx.params.name!, path: ctx.string('path') ?? '/', offset: ctx.int('offset', 0), limit: ctx.int('limit', 200),
  }, { hidden: true }));
}

async function downloadFile(ctx: RequestContext): Promise<void> {
  const rel = ctx.string('path');
  if (!rel) throw invalidParameter('path is required');
  const file = await ctx.engine.run('volume.download', { name: ctx.params.name!, path: rel }, { hidden: true });
  ctx.res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': file.size,
    'Content-Disposition': `attachment; filename="${file.name.replace(/["\\\r\n]/g, '_')}"`,
  });
  if (ctx.req.method === 'HEAD') {
    file.stream.destroy();
    ctx.res.end();
    return;
  }
  await pipeline(file.stream, ctx.res);
}
