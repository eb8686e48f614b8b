// Berth's own routes for the Engine's jobs, which the app's activity view follows:
//   GET  /berth/jobs               every running job and the recent finished ones
//   GET  /berth/jobs/events        JSON lines: the current list as `snapshot` events, then changes
//   GET  /berth/jobs/{id}          one job
//   POST /berth/jobs/{id}/cancel   cancels a running job (204), 409 when it already ended
import type { Route } from '../router';
import type { RequestContext } from '../context';
import { conflict, notFound } from '../../errors';

export const jobRoutes: Route[] = [
  { method: 'GET', path: '/berth/jobs', handler: async (ctx) => ctx.json(200, ctx.engine.list()) },
  { method: 'GET', path: '/berth/jobs/events', handler: jobEvents },
  { method: 'GET', path: '/berth/jobs/{id}', handler: async (ctx) => ctx.json(200, findJob(ctx).snapshot()) },
  { method: 'POST', path: '/berth/jobs/{id}/cancel', handler: cancelJob },
];

function findJob(ctx: RequestContext) {
  const job = ctx.engine.get(ctx.params.id!);
  if (!job || job.hidden) throw notFound(`No such job: ${ctx.params.id}`);
  return job;
}

async function cancelJob(ctx: RequestContext): Promise<void> {
  const job = findJob(ctx);
  if (job.state !== 'queued' && job.state !== 'running') throw conflict(`job ${job.id} (${job.name}) has already ended: ${job.state}`);
  if (!job.snapshot().cancellable) throw conflict(`job ${job.id} (${job.name}) cannot be cancelled: stop berthd instead`);
  job.cancel('cancelled by request');
  ctx.noContent();
}

async function jobEvents(ctx: RequestContext): Promise<void> {
  const res = ctx.res;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  // Followers learn the stream is open before the first job event, which may be a long way off.
  res.flushHeaders();
  const stop = ctx.engine.onJob((e) => res.write(JSON.stringify(e) + '\n'));
  for (const job of ctx.engine.list()) res.write(JSON.stringify({ kind: 'snapshot', job }) + '\n');
  await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
  stop();
  res.end();
}
