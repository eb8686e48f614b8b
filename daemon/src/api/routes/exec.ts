// Exec routes: create an exec instance in a running container, start it (hijacked, or detached),
// resize its tty, inspect it. The work is the container component's exec jobs.
import type { Readable } from 'node:stream';
import type { Route } from '../router';
import type { RequestContext } from '../context';
import { framedWriter, StreamType } from '../streams/multiplexed-stream';
import { invalidParameter } from '../../errors';
import { DetachScanner, parseDetachKeys } from '../../container/attach';
import type { ExecConfig } from '../../container/exec';

export const execRoutes: Route[] = [
  { method: 'POST', path: '/containers/{id}/exec', handler: create },
  { method: 'POST', path: '/exec/{id}/start', handler: start },
  { method: 'POST', path: '/exec/{id}/resize', handler: resize },
  { method: 'GET', path: '/exec/{id}/json', handler: inspect },
];

async function create(ctx: RequestContext): Promise<void> {
  const config = await ctx.readJson<ExecConfig>();
  if (!config) throw invalidParameter('exec config cannot be empty');
  if (config.DetachKeys) parseDetachKeys(config.DetachKeys);
  ctx.json(201, await ctx.engine.run('exec.create', { id: ctx.params.id!, config }));
}

async function start(ctx: RequestContext): Promise<void> {
  const body = (await ctx.readJson<{ Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null }>()) ?? {};
  const execId = ctx.params.id!;
  const info = await ctx.engine.run('exec.inspect', { id: execId }, { hidden: true });
  const tty = (info.ProcessConfig as { tty: boolean }).tty;
  if (body.Detach) {
    await ctx.engine.run('exec.start', { id: execId, attach: false }, { hidden: true });
    ctx.text(200, '');
    return;
  }
  // As dockerd: the connection is taken over first; a process that cannot start is reported
  // in the stream, and the client reads the exit code (126) from inspect.
  const hijacked = ctx.hijack(tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
  const out = hijacked.output;
  const stdout = tty ? out : framedWriter(out, StreamType.Stdout);
  const stderr = tty ? out : framedWriter(out, StreamType.Stderr);
  let started;
  try {
    started = await ctx.engine.run('exec.start', { id: execId, attach: true }, { hidden: true });
  } catch (err) {
    stdout.write(Buffer.from(`${(err as Error).message}\r\n`));
    stdout.end(() => hijacked.closeWrite());
    return;
  }
  const { exec, session } = started;
  if (body.ConsoleSize && body.ConsoleSize[0] > 0 && tty) await exec.task?.resize(body.ConsoleSize[0], body.ConsoleSize[1]).catch(() => undefined);
  if (!session) {
    hijacked.closeWrite();
    return;
  }
  const keys = parseDetachKeys(exec.config.DetachKeys);
  let open = 0;
  let detached = false;
  const done = new Promise<void>((resolve) => {
    const pipe = (from: Readable, to: NodeJS.WritableStream) => {
      open++;
      from.on('data', (chunk: Buffer) => {
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.once('end', () => {
        if (--open === 0) resolve();
      });
    };
    pipe(session.stdout, stdout);
    pipe(session.stderr, stderr);
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    if (hijacked.input && session.stdin) {
      const scanner = new DetachScanner(keys, () => {
        detached = true;
        session.detach();
        resolve();
      });
      (hijacked.input as Readable).pipe(scanner).pipe(session.stdin);
    }
  });
  await done;
  // The exit is recorded before the stream ends, so the client's inspect that follows sees it.
  if (!detached && !ctx.signal.aborted) await exec.done?.catch(() => undefined);
  hijacked.closeWrite();
}

async function resize(ctx: RequestContext): Promise<void> {
  const rows = ctx.int('h', 0);
  const cols = ctx.int('w', 0);
  await ctx.engine.run('exec.resize', { id: ctx.params.id!, rows, cols }, { hidden: true });
  ctx.text(200, '');
}

async function inspect(ctx: RequestContext): Promise<void> {
  ctx.json(200, await ctx.engine.run('exec.inspect', { id: ctx.params.id! }, { hidden: true }));
}
