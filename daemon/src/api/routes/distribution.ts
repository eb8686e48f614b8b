// Distribution routes: pull (POST /images/create?fromImage=…), push, login, manifest inspection and
// search. POST /images/create is shared with import (fromSrc), which the image routes answer:
// this table's entry handles `fromImage` and hands everything else to theirs.
import type { Route, Handler } from '../router';
import type { RequestContext } from '../context';
import { parseFilters } from '../filters';
import { decodeAuthHeader } from '../../distribution/auth';
import { pullReference } from '../../distribution/distribution';
import { jsonLines, ProgressOutput, type ProgressSink } from '../../distribution/progress';
import { invalidParameter, messageOf, notFound } from '../../errors';

/** The routes, given the image routes' handler of POST /images/create (import) to defer to. */
export function distributionRoutes(importHandler: Handler | undefined): Route[] {
  return [
    { method: 'POST', path: '/images/create', handler: (ctx) => (ctx.query.has('fromImage') || !importHandler ? pullImage(ctx) : importHandler(ctx)) },
    { method: 'POST', path: '/images/{name:.*}/push', handler: pushImage },
    { method: 'GET', path: '/images/search', handler: searchImages },
    { method: 'POST', path: '/auth', handler: auth },
    { method: 'GET', path: '/distribution/{name:.*}/json', handler: inspectDistribution },
  ];
}

/**
 * A JSON-lines progress response whose 200 header goes out with the first message, so errors before
 * it (unknown tag, refused credentials) keep their HTTP status, as dockerd's do.
 */
async function progressResponse(ctx: RequestContext, work: (sink: ProgressSink) => Promise<void>): Promise<void> {
  const write = jsonLines(ctx.res);
  const sink: ProgressSink = (m) => {
    if (!ctx.res.headersSent) ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    if (!ctx.res.writableEnded) write(m);
  };
  try {
    await work(sink);
  } catch (err) {
    if (!ctx.res.headersSent) throw err;
    if (!ctx.signal.aborted) new ProgressOutput(sink).error(messageOf(err));
  }
  if (!ctx.res.headersSent) ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  ctx.res.end();
}

async function pullImage(ctx: RequestContext): Promise<void> {
  const fromImage = ctx.string('fromImage') ?? '';
  if (fromImage === '') throw invalidParameter('fromImage must be set to pull an image');
  const ref = pullReference(fromImage, ctx.string('tag') || undefined);
  const auth = decodeAuthHeader(ctx.req.headers['x-registry-auth']);
  const platform = ctx.string('platform') || undefined;
  await progressResponse(ctx, (sink) => ctx.engine.run('image.pull', { reference: ref.full, platform, auth, sink }, { signal: ctx.signal, description: `pull ${ref.familiar}${platform ? ` (${platform})` : ''}` }));
}

async function pushImage(ctx: RequestContext): Promise<void> {
  const name = ctx.params.name!;
  const auth = decodeAuthHeader(ctx.req.headers['x-registry-auth']);
  const tag = ctx.string('tag') || undefined;
  await progressResponse(ctx, async (sink) => {
    await ctx.engine.run('image.push', { name, tag, auth, sink }, { signal: ctx.signal, description: `push ${name}${tag ? `:${tag}` : ''}` });
  });
}

async function auth(ctx: RequestContext): Promise<void> {
  const body = (await ctx.readJson<Record<string, string>>()) ?? {};
  const result = await ctx.engine.run('registry.login', { auth: decodeAuthHeader(Buffer.from(JSON.stringify(body)).toString('base64')) }, { signal: ctx.signal, description: `login ${body.serveraddress ?? ''}` });
  ctx.json(200, result);
}

async function inspectDistribution(ctx: RequestContext): Promise<void> {
  const auth = decodeAuthHeader(ctx.req.headers['x-registry-auth']);
  ctx.json(200, await ctx.engine.run('distribution.inspect', { name: ctx.params.name!, auth }, { signal: ctx.signal, hidden: true }));
}

async function searchImages(ctx: RequestContext): Promise<void> {
  const term = ctx.string('term');
  if (!term) throw notFound('the search term (term) is required');
  const filters = parseFilters(ctx.string('filters') ?? null, ['stars', 'is-official', 'is-automated']);
  const limit = ctx.query.has('limit') && ctx.string('limit') !== '' ? ctx.int('limit', 25) : undefined;
  const auth = decodeAuthHeader(ctx.req.headers['x-registry-auth']);
  ctx.json(200, await ctx.engine.run('image.search', { term, limit, filters, auth }, { signal: ctx.signal, hidden: true }));
}
