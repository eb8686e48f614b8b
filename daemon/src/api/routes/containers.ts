// Container routes: the table, then handlers that decode, validate and encode; the work is the
// container component's jobs (container/jobs.ts).
import { pipeline } from 'node:stream/promises';
import { PassThrough, Writable, type Readable } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Route } from '../router';
import type { RequestContext } from '../context';
import { parseFilters } from '../filters';
import { parseTimestampNanos } from '../timestamps';
import { framedWriter, frame, StreamType } from '../streams/multiplexed-stream';
import { invalidParameter } from '../../errors';
import { LIST_FILTERS } from '../../container/views';
import type { ContainerConfig, HostConfig } from '../../container/types';
import type { EndpointRequest } from '../../drivers/network/network-driver';

export const containerRoutes: Route[] = [
  { method: 'GET', path: '/containers/json', handler: list },
  { method: 'POST', path: '/containers/create', handler: create },
  { method: 'POST', path: '/containers/prune', handler: prune },
  { method: 'GET', path: '/containers/{id}/json', handler: inspect },
  { method: 'GET', path: '/containers/{id}/top', handler: top },
  { method: 'GET', path: '/containers/{id}/logs', handler: logs },
  { method: 'GET', path: '/containers/{id}/changes', handler: changes },
  { method: 'GET', path: '/containers/{id}/export', handler: exportContainer },
  { method: 'GET', path: '/containers/{id}/stats', handler: stats },
  { method: 'GET', path: '/containers/{id}/archive', handler: getArchive },
  { method: 'HEAD', path: '/containers/{id}/archive', handler: headArchive },
  { method: 'PUT', path: '/containers/{id}/archive', handler: putArchive },
  { method: 'POST', path: '/containers/{id}/start', handler: simple('container.start') },
  { method: 'POST', path: '/containers/{id}/stop', handler: stop },
  { method: 'POST', path: '/containers/{id}/restart', handler: restart },
  { method: 'POST', path: '/containers/{id}/kill', handler: kill },
  { method: 'POST', path: '/containers/{id}/pause', handler: simple('container.pause') },
  { method: 'POST', path: '/containers/{id}/unpause', handler: simple('container.unpause') },
  { method: 'POST', path: '/containers/{id}/wait', handler: wait },
  { method: 'POST', path: '/containers/{id}/rename', handler: rename },
  { method: 'POST', path: '/containers/{id}/update', handler: update },
  { method: 'POST', path: '/containers/{id}/resize', handler: resize },
  { method: 'POST', path: '/containers/{id}/attach', handler: attach },
  { method: 'GET', path: '/containers/{id}/attach/ws', handler: attachWebsocket },
  { method: 'DELETE', path: '/containers/{id}', handler: remove },
];

const id = (ctx: RequestContext) => ctx.params.id!;

function simple(name: 'container.start' | 'container.pause' | 'container.unpause') {
  return async (ctx: RequestContext) => {
    await ctx.engine.run(name, { id: id(ctx) });
    ctx.noContent();
  };
}

async function list(ctx: RequestContext): Promise<void> {
  const filters = parseFilters(ctx.string('filters') ?? null, LIST_FILTERS);
  ctx.encodedJson(200, await ctx.engine.run('container.list', { all: ctx.bool('all'), limit: ctx.int('limit', -1), size: ctx.bool('size'), filters }, { hidden: true }));
}

interface CreateBody extends ContainerConfig {
  HostConfig?: HostConfig;
  NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointRequest> | null } | null;
}

async function create(ctx: RequestContext): Promise<void> {
  const body = await ctx.readJson<CreateBody>();
  if (!body || typeof body !== 'object') throw invalidParameter('config cannot be empty in order to create a container');
  const { HostConfig: hostConfig, NetworkingConfig: networking, ...config } = body;
  const platform = ctx.string('platform');
  if (platform && !/^linux(\/|$)/.test(platform)) throw invalidParameter(`image with reference ${config.Image} was found but does not match the specified platform: wanted ${platform}`);
  const name = ctx.string('name');
  ctx.json(201, await ctx.engine.run('container.create', { name: name || undefined, config, hostConfig: hostConfig ?? {}, networkingConfig: networking?.EndpointsConfig }, { description: `${name ?? ''} ${config.Image ?? ''}`.trim() }));
}

async function prune(ctx: RequestContext): Promise<void> {
  const filters = parseFilters(ctx.string('filters') ?? null, ['until', 'label', 'label!']);
  ctx.json(200, await ctx.engine.run('container.prune', { filters }));
}

async function inspect(ctx: RequestContext): Promise<void> {
  ctx.json(200, await ctx.engine.run('container.inspect', { id: id(ctx), size: ctx.bool('size') }, { hidden: true }));
}

async function top(ctx: RequestContext): Promise<void> {
  ctx.json(200, await ctx.engine.run('container.top', { id: id(ctx), psArgs: ctx.string('ps_args') ?? '-ef' }, { hidden: true }));
}

function write(res: NodeJS.WritableStream, data: Buffer): Promise<void> | void {
  if (!res.write(data)) return new Promise((r) => res.once('drain', () => r()));
}

async function logs(ctx: RequestContext): Promise<void> {
  const stdout = ctx.bool('stdout');
  const stderr = ctx.bool('stderr');
  if (!stdout && !stderr) throw invalidParameter('Bad parameters: you must choose at least one stream');
  const tailRaw = ctx.string('tail') ?? 'all';
  const tail = tailRaw === 'all' || tailRaw === '' ? -1 : Number(tailRaw);
  if (!Number.isInteger(tail)) throw invalidParameter(`invalid value for tail: ${JSON.stringify(tailRaw)}`);
  const since = logTime('since', ctx.string('since'));
  const until = logTime('until', ctx.string('until'));
  const { tty } = await ctx.engine.run('container.tty', { id: id(ctx) }, { hidden: true });
  const options = {
    stdout, stderr, follow: ctx.bool('follow'), timestamps: ctx.bool('timestamps'),
    ...(tail >= 0 ? { tail } : {}), ...(since ? { since } : {}), ...(until ? { until } : {}),
    format: tty ? 'raw' as const : 'multiplexed' as const,
  };
  const res = ctx.res;
  res.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
  res.flushHeaders();
  await ctx.engine.run('container.logs', { id: id(ctx), options, sink: (chunk) => write(res, chunk) }, { signal: ctx.signal, hidden: true })
    .catch((err: unknown) => {
      if ((err as Error).name !== 'AbortError') throw err;
    });
  res.end();
}

/** A since/until parameter as the log reader takes it, "SECONDS[.NANOS]" (undefined: unset);
 * kept as text so no nanosecond is lost to a double. */
function logTime(name: string, raw: string | undefined): string | undefined {
  if (!raw || raw === '0') return undefined;
  const nanos = parseTimestampNanos(name, raw); // validates, as dockerd does
  return /^-?\d+(\.\d{1,9})?$/.test(raw.trim()) ? raw.trim() : (nanos / 1e9).toFixed(3);
}

async function changes(ctx: RequestContext): Promise<void> {
  const list = await ctx.engine.run('container.changes', { id: id(ctx) }, { hidden: true });
  ctx.json(200, list.length > 0 ? list : null);
}

async function exportContainer(ctx: RequestContext): Promise<void> {
  const tar = await ctx.engine.run('container.export', { id: id(ctx) }, { signal: ctx.signal });
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  await pipeline(tar, ctx.res).catch(() => ctx.res.destroy());
}

async function stats(ctx: RequestContext): Promise<void> {
  const stream = ctx.bool('stream', true);
  const oneShot = ctx.bool('one-shot');
  if (oneShot && stream) throw invalidParameter('cannot have stream=true and one-shot=true');
  const res = ctx.res;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  await ctx.engine.run('container.stats', { id: id(ctx), stream, oneShot, send: (s) => write(res, Buffer.from(JSON.stringify(s) + '\n')) }, { signal: ctx.signal, hidden: true })
    .catch((err: unknown) => {
      if ((err as Error).name !== 'AbortError') throw err;
    });
  res.end();
}

function archivePathParam(ctx: RequestContext): string {
  const p = ctx.string('path');
  if (!p) throw invalidParameter('bad parameter: path cannot be empty');
  return p;
}

const statHeader = (stat: unknown) => Buffer.from(JSON.stringify(stat)).toString('base64');

async function headArchive(ctx: RequestContext): Promise<void> {
  const stat = await ctx.engine.run('container.archive.stat', { id: id(ctx), path: archivePathParam(ctx) }, { hidden: true });
  ctx.res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/x-tar' });
  ctx.res.end();
}

async function getArchive(ctx: RequestContext): Promise<void> {
  const { stat, tar } = await ctx.engine.run('container.archive.get', { id: id(ctx), path: archivePathParam(ctx) }, { signal: ctx.signal });
  ctx.res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/x-tar' });
  await pipeline(tar, ctx.res).catch(() => ctx.res.destroy());
}

async function putArchive(ctx: RequestContext): Promise<void> {
  await ctx.engine.run('container.archive.put', {
    id: id(ctx), path: archivePathParam(ctx), tar: ctx.req as Readable,
    noOverwriteDirNonDir: ctx.bool('noOverwriteDirNonDir'), copyUIDGID: ctx.bool('copyUIDGID'),
  }, { signal: ctx.signal });
  ctx.res.writeHead(200, { 'Content-Length': 0 });
  ctx.res.end();
}

function stopArgs(ctx: RequestContext): { id: string; signal?: string; timeout?: number } {
  const t = ctx.string('t');
  const timeout = t === undefined || t === '' ? undefined : ctx.int('t', 10);
  return { id: id(ctx), signal: ctx.string('signal') || undefined, timeout };
}

async function stop(ctx: RequestContext): Promise<void> {
  await ctx.engine.run('container.stop', stopArgs(ctx));
  ctx.noContent();
}

async function restart(ctx: RequestContext): Promise<void> {
  await ctx.engine.run('container.restart', stopArgs(ctx));
  ctx.noContent();
}

async function kill(ctx: RequestContext): Promise<void> {
  await ctx.engine.run('container.kill', { id: id(ctx), signal: ctx.string('signal') || undefined });
  ctx.noContent();
}

async function wait(ctx: RequestContext): Promise<void> {
  const condition = ctx.string('condition') || 'not-running';
  if (condition !== 'not-running' && condition !== 'next-exit' && condition !== 'removed') {
    throw invalidParameter(`invalid condition: "${condition}"`);
  }
  // Registered before the headers go out, so a client that starts the container next cannot miss the exit.
  const result = ctx.engine.run('container.wait', { id: id(ctx), condition }, { signal: ctx.signal, hidden: true });
  // A missing container is a plain 404 before anything is sent.
  const early = await Promise.race([result.then(() => undefined, (e: unknown) => e), new Promise((r) => setImmediate(() => r('pending')))]);
  if (early !== undefined && early !== 'pending') throw early;
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  ctx.res.flushHeaders();
  try {
    const r = await result;
    ctx.res.end(JSON.stringify({ StatusCode: r.StatusCode, Error: r.Error ?? null }) + '\n');
  } catch (err) {
    ctx.res.end(JSON.stringify({ StatusCode: -1, Error: { Message: (err as Error).message } }) + '\n');
  }
}

async function rename(ctx: RequestContext): Promise<void> {
  const name = ctx.string('name');
  if (!name) throw invalidParameter('Neither old nor new names may be empty');
  await ctx.engine.run('container.rename', { id: id(ctx), name });
  ctx.noContent();
}

async function update(ctx: RequestContext): Promise<void> {
  const body = (await ctx.readJson<HostConfig>()) ?? {};
  ctx.json(200, await ctx.engine.run('container.update', { id: id(ctx), hostConfig: body }));
}

async function resize(ctx: RequestContext): Promise<void> {
  const rows = ctx.int('h', 0);
  const cols = ctx.int('w', 0);
  if (rows < 0 || cols < 0) throw invalidParameter('height and width must be positive');
  await ctx.engine.run('container.resize', { id: id(ctx), rows, cols }, { hidden: true });
  ctx.text(200, '');
}

async function attach(ctx: RequestContext): Promise<void> {
  const { tty } = await ctx.engine.run('container.tty', { id: id(ctx) }, { hidden: true });
  const request = {
    stdin: ctx.bool('stdin'), stdout: ctx.bool('stdout'), stderr: ctx.bool('stderr'),
    logs: ctx.bool('logs'), stream: ctx.bool('stream'), detachKeys: ctx.string('detachKeys') || undefined,
  };
  const hijacked = ctx.hijack(tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
  const out = hijacked.output;
  const io = {
    input: request.stdin ? (hijacked.input as Readable | null) : null,
    stdout: tty ? (out as never) : framedWriter(out, StreamType.Stdout),
    stderr: tty ? (out as never) : framedWriter(out, StreamType.Stderr),
  };
  try {
    await ctx.engine.run('container.attach', { id: id(ctx), request, io }, { signal: ctx.signal, hidden: true });
  } catch (err) {
    if ((err as Error).name !== 'AbortError' && !tty) out.write(frame(StreamType.SystemErr, Buffer.from(`${(err as Error).message}\n`)));
  }
  hijacked.closeWrite();
}

async function remove(ctx: RequestContext): Promise<void> {
  if (ctx.bool('link')) throw invalidParameter('Conflict, cannot remove the default link name of the container');
  await ctx.engine.run('container.remove', { id: id(ctx), force: ctx.bool('force'), volumes: ctx.bool('v') });
  ctx.noContent();
}

/**
 * One server for every websocket attach; it only performs handshakes. Made at the first one: the ws
 * library loads https, tls and zlib, which the engine's start need not wait for.
 */
let websockets: Promise<WebSocketServer> | undefined;
const websocketServer = () => (websockets ??= import('ws').then(({ WebSocketServer }) => new WebSocketServer({ noServer: true, perMessageDeflate: false })));

/**
 * GET /containers/{id}/attach/ws: the container's streams over a websocket, as dockerd serves
 * them: output as binary messages (no multiplexing), client messages as stdin.
 */
async function attachWebsocket(ctx: RequestContext): Promise<void> {
  await ctx.engine.run('container.tty', { id: id(ctx) }, { hidden: true });
  const upgrade = ctx.takeUpgrade();
  if (!upgrade || (ctx.req.headers.upgrade ?? '').toLowerCase() !== 'websocket') throw invalidParameter('attach/ws needs a websocket upgrade request');
  const server = await websocketServer();
  const ws = await new Promise<WebSocket>((resolve) => server.handleUpgrade(ctx.req, upgrade.socket as never, upgrade.head, resolve));
  const input = new PassThrough();
  ws.on('message', (data: Buffer) => input.write(data));
  ws.on('close', () => input.end());
  const output = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== ws.OPEN) return cb();
      ws.send(chunk, { binary: true }, () => cb());
    },
  });
  const request = {
    stdin: ctx.bool('stdin'), stdout: ctx.bool('stdout', true), stderr: ctx.bool('stderr', true),
    logs: ctx.bool('logs'), stream: ctx.bool('stream', true), detachKeys: ctx.string('detachKeys') || undefined,
  };
  const closed = new AbortController();
  ws.on('close', () => closed.abort(Object.assign(new Error('client disconnected'), { name: 'AbortError' })));
  try {
    await ctx.engine.run('container.attach', { id: id(ctx), request, io: { input: request.stdin ? input : null, stdout: output, stderr: output } }, { signal: closed.signal, hidden: true });
  } catch (err) {
    if ((err as Error).name !== 'AbortError') ws.close(1011, (err as Error).message.slice(0, 120));
  }
  if (ws.readyState === ws.OPEN) ws.close(1000);
}
