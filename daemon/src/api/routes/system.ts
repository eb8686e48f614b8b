// System routes: ping, version, info, events, disk usage.
import type { Route } from '../router';
import type { RequestContext } from '../context';
import { parseFilters, matchesAny, matchesLabels, type Filters } from '../filters';
import { parseTimestampNanos } from '../timestamps';
import type { DockerEvent } from '../../engine/events';
import { invalidParameter } from '../../errors';

const EVENT_FILTERS = ['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume'] as const;

/** What berthd answers while its components still open (see ApiServer): nothing else is needed. */
export const pingRoutes: Route[] = [
  { method: 'GET', path: '/_ping', handler: ping },
  { method: 'HEAD', path: '/_ping', handler: ping },
];

export const systemRoutes: Route[] = [
  ...pingRoutes,
  { method: 'GET', path: '/version', handler: async (ctx) => ctx.json(200, await ctx.engine.run('system.version', undefined, { hidden: true })) },
  { method: 'GET', path: '/info', handler: async (ctx) => ctx.json(200, await ctx.engine.run('system.info', undefined, { hidden: true })) },
  { method: 'GET', path: '/events', handler: events },
  { method: 'GET', path: '/system/df', handler: diskUsage },
];

async function ping(ctx: RequestContext): Promise<void> {
  ctx.res.setHeader('Builder-Version', '1');
  ctx.res.setHeader('Swarm', 'inactive');
  ctx.res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
  ctx.res.setHeader('Pragma', 'no-cache');
  ctx.text(200, 'OK');
}

async function diskUsage(ctx: RequestContext): Promise<void> {
  const allowed = ['container', 'image', 'volume', 'build-cache'];
  const requested = ctx.query.getAll('type');
  for (const t of requested) {
    if (!allowed.includes(t)) throw invalidParameter(`unknown object type: ${t}`);
  }
  const types = new Set(requested.length > 0 ? requested : allowed);
  ctx.json(200, await ctx.engine.run('system.df', { types }, { hidden: true }));
}

function eventMatches(e: DockerEvent, f: Filters): boolean {
  const attrs = e.Actor.Attributes;
  const idOrName = (v: string) => e.Actor.ID === v || e.Actor.ID.startsWith(v) || attrs.name === v;
  return (
    matchesAny(f, 'type', (v) => e.Type === v) &&
    matchesAny(f, 'event', (v) => e.Action === v || e.Action.startsWith(`${v}:`)) &&
    matchesAny(f, 'scope', (v) => e.scope === v) &&
    matchesAny(f, 'container', (v) => e.Type === 'container' && idOrName(v)) &&
    matchesAny(f, 'image', (v) => (e.Type === 'image' && idOrName(v)) || attrs.image === v) &&
    matchesAny(f, 'network', (v) => e.Type === 'network' && idOrName(v)) &&
    matchesAny(f, 'volume', (v) => e.Type === 'volume' && idOrName(v)) &&
    matchesAny(f, 'daemon', (v) => e.Type === 'daemon' && idOrName(v)) &&
    matchesLabels(f, attrs)
  );
}

/**
 * GET /events: replays kept events from `since`, then streams new ones until `until` (or until the
 * client leaves). With only `until` in the past it answers what was kept and ends, as dockerd does.
 */
async function events(ctx: RequestContext): Promise<void> {
  const nowNano = Date.now() * 1e6;
  const sinceRaw = ctx.string('since');
  const untilRaw = ctx.string('until');
  const since = sinceRaw ? parseTimestampNanos('since', sinceRaw) : undefined;
  const until = untilRaw ? parseTimestampNanos('until', untilRaw) : undefined;
  if (since !== undefined && until !== undefined && until < since) {
    throw invalidParameter('`since` time must be before `until` time');
  }
  const filters = parseFilters(ctx.string('filters') ?? null, EVENT_FILTERS);
  const bus = ctx.engine.events;
  const res = ctx.res;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();

  const send = (e: DockerEvent) => {
    if (eventMatches(e, filters)) res.write(JSON.stringify(e) + '\n');
  };
  // Subscribe before replaying so nothing published in between is lost; dedupe by timestamp.
  const queued: DockerEvent[] = [];
  let replayed = false;
  let lastReplayed = -1;
  const unsubscribe = bus.subscribe((e) => {
    if (until !== undefined && e.timeNano > until) return;
    if (!replayed) queued.push(e);
    else send(e);
  });
  try {
    if (since !== undefined || (until !== undefined && until <= nowNano)) {
      for (const e of bus.replay(since ?? 0, until)) {
        send(e);
        lastReplayed = e.timeNano;
      }
    }
    replayed = true;
    for (const e of queued) if (e.timeNano > lastReplayed) send(e);
    if (until !== undefined && until <= nowNano) return;
    const wait = until !== undefined ? (until - nowNano) / 1e6 : undefined;
    await new Promise<void>((resolve) => {
      const timer = wait !== undefined ? setTimeout(resolve, wait) : undefined;
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  } finally {
    unsubscribe();
    res.end();
  }
}
