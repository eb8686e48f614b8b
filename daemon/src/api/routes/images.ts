// Image routes: a table and thin handlers that decode, validate and ask the Engine's image jobs.
// Berth's own browsing routes (for the app's image explorer) are documented in the README:
//   GET /berth/images/{name}/layers                     layers with instruction and size
//   GET /berth/images/{name}/layers/{index}/tree        one directory of a layer's tree, paged
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Route } from '../router';
import type { RequestContext } from '../context';
import { parseFilters } from '../filters';
import { JsonProgressWriter } from '../streams/json-progress';
import { invalidParameter, messageOf, notImplemented, statusOf } from '../../errors';

const LIST_FILTERS = ['before', 'dangling', 'label', 'reference', 'since', 'until'] as const;
const PRUNE_FILTERS = ['dangling', 'label', 'label!', 'until'] as const;

export const imageRoutes: Route[] = [
  { method: 'GET', path: '/images/json', handler: listImages },
  { method: 'GET', path: '/images/get', handler: saveImages },
  { method: 'POST', path: '/images/load', handler: loadImages },
  { method: 'POST', path: '/images/create', handler: createImage },
  { method: 'POST', path: '/images/prune', handler: pruneImages },
  { method: 'GET', path: '/images/{name:.*}/json', handler: inspectImage },
  { method: 'GET', path: '/images/{name:.*}/history', handler: imageHistory },
  { method: 'GET', path: '/images/{name:.*}/get', handler: saveImages },
  { method: 'POST', path: '/images/{name:.*}/tag', handler: tagImage },
  { method: 'DELETE', path: '/images/{name:.*}', handler: removeImage },
  { method: 'GET', path: '/berth/images/{name:.*}/layers', handler: imageLayers },
  { method: 'GET', path: '/berth/images/{name:.*}/layers/{index}/tree', handler: layerTree },
];

async function listImages(ctx: RequestContext): Promise<void> {
  const filters = parseFilters(ctx.string('filters') ?? null, LIST_FILTERS);
  // The pre-1.41 `filter` parameter is a reference pattern.
  const legacyFilter = ctx.string('filter');
  if (legacyFilter) filters.set('reference', [...(filters.get('reference') ?? []), legacyFilter]);
  const images = await ctx.engine.run('image.list', { filters, all: ctx.bool('all'), sharedSize: ctx.bool('shared-size'), legacy: !ctx.atLeast('1.44') }, { hidden: true });
  ctx.json(200, images);
}

async function inspectImage(ctx: RequestContext): Promise<void> {
  const version = (v: string) => ctx.atLeast(v);
  ctx.json(200, await ctx.engine.run('image.inspect', { name: ctx.params.name!, atLeast: version }, { hidden: true }));
}

async function imageHistory(ctx: RequestContext): Promise<void> {
  ctx.json(200, await ctx.engine.run('image.history', { name: ctx.params.name! }, { hidden: true }));
}

async function tagImage(ctx: RequestContext): Promise<void> {
  const repo = ctx.string('repo');
  if (!repo) throw invalidParameter('repository name (repo) is required to tag an image');
  await ctx.engine.run('image.tag', { name: ctx.params.name!, repo, tag: ctx.string('tag') });
  ctx.noContent(201);
}

async function removeImage(ctx: RequestContext): Promise<void> {
  const items = await ctx.engine.run('image.remove', { name: ctx.params.name!, force: ctx.bool('force'), noprune: ctx.bool('noprune') });
  ctx.json(200, items);
}

async function pruneImages(ctx: RequestContext): Promise<void> {
  const filters = parseFilters(ctx.string('filters') ?? null, PRUNE_FILTERS);
  ctx.json(200, await ctx.engine.run('image.prune', { filters }));
}

/** A JSON-lines response whose 200 header goes out with the first line, so early errors keep their status. */
function lazyJsonStream(ctx: RequestContext): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!ctx.res.headersSent) ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
      if (ctx.res.write(chunk)) cb();
      else ctx.res.once('drain', () => cb());
    },
  });
}

/** Ends a streamed response with an error line once it started; before that, the error keeps its status. */
async function streamed(ctx: RequestContext, out: Writable, work: (progress: JsonProgressWriter) => Promise<void>): Promise<void> {
  const progress = new JsonProgressWriter(out);
  try {
    await work(progress);
  } catch (err) {
    if (!ctx.res.headersSent) throw err;
    progress.error(messageOf(err), statusOf(err));
  }
  if (!ctx.res.headersSent) ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  ctx.res.end();
}

async function loadImages(ctx: RequestContext): Promise<void> {
  const quiet = ctx.bool('quiet');
  const out = lazyJsonStream(ctx);
  await streamed(ctx, out, async (progress) => {
    const result = await ctx.engine.run('image.load', { progress: quiet ? undefined : progress }, { stdin: ctx.req, signal: ctx.signal, description: 'docker load' });
    for (const image of result.images) {
      if (image.refs.length === 0) progress.stream(`Loaded image ID: ${image.id}\n`);
      for (const ref of image.refs) progress.stream(`Loaded image: ${ref}\n`);
    }
  });
}

async function saveImages(ctx: RequestContext): Promise<void> {
  const names = ctx.params.name ? [ctx.params.name] : ctx.query.getAll('names').flatMap((n) => n.split(',')).filter((n) => n !== '');
  const tar = await ctx.engine.run('image.save', { names }, { signal: ctx.signal, description: `docker save ${names.join(' ')}` });
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  await pipeline(tar, ctx.res).catch((err: Error) => {
    // The client went away, or a blob vanished mid-save: the response cannot say more.
    ctx.res.destroy(err);
  });
}

async function createImage(ctx: RequestContext): Promise<void> {
  const fromSrc = ctx.string('fromSrc');
  if (fromSrc === undefined) {
    // Pulls (fromImage) belong to the distribution component, which handles this route before us.
    throw notImplemented('pulling images is not available in this berthd: load them with docker load');
  }
  if (fromSrc !== '-') throw notImplemented(`berthd does not download images to import: fetch ${fromSrc} yourself and pipe it: curl -L URL | docker import - NAME`);
  const changes = ctx.query.getAll('changes');
  const out = lazyJsonStream(ctx);
  await streamed(ctx, out, async (progress) => {
    const id = await ctx.engine.run('image.import', {
      repo: ctx.string('repo') || undefined,
      tag: ctx.string('tag') || undefined,
      message: ctx.string('message'),
      changes,
      platform: ctx.string('platform') || undefined,
    }, { stdin: ctx.req, signal: ctx.signal, description: 'docker import' });
    progress.status(id);
  });
}

async function imageLayers(ctx: RequestContext): Promise<void> {
  ctx.json(200, await ctx.engine.run('image.layers', { name: ctx.params.name! }, { hidden: true }));
}

async function layerTree(ctx: RequestContext): Promise<void> {
  const layer = Number(ctx.params.index);
  if (!Number.isInteger(layer)) throw invalidParameter(`invalid layer index ${JSON.stringify(ctx.params.index)}: expected 0, 1, …`);
  const page = await ctx.engine.run('image.tree', {
    name: ctx.params.name!,
    layer,
    path: ctx.string('path') ?? '/',
    offset: Math.max(0, ctx.int('offset', 0)),
    limit: ctx.int('limit', 500),
    changesOnly: ctx.bool('changes'),
  }, { hidden: true });
  ctx.json(200, page);
}
