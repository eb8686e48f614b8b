// The container component's jobs: what the API's container and exec routes ask the Engine to
// run. Each job is a thin call into Containers/Execs; streams travel in the arguments.
import type { Readable } from 'node:stream';
import type { Engine } from '../engine/engine';
import { conflict, invalidParameter } from '../errors';
import type { AttachSession } from '../drivers/exec/exec-driver';
import type { Containers, CreateRequest } from './containers';
import type { Execs, ExecConfig, ExecInstance } from './exec';
import type { WaitResult } from './container';
import { inspectContainer, listContainers, type Filters } from './views';
import { ContainerSummaries } from './summaries';
import { readLogs, type LogReadOptions } from '../drivers/exec/log-reader';
import { sampleStats, statsJson, type StatsSample } from './stats';
import { top } from './top';
import { attachContainer, type AttachIo, type AttachRequest } from './attach';
import { archivePath, exportRootfs, extractToPath, statPath, type PathStat } from './archive';
import type { HostConfig } from './types';
import type { Change } from '../drivers/graph/graph-driver';

export interface LogsArgs {
  id: string;
  /** What to read and how to frame it; following stops by itself once the container is not running. */
  options: Omit<LogReadOptions, 'stop'>;
  /** Receives the formatted output (frames or raw bytes) in order; a promise holds the reading back. */
  sink: (chunk: Buffer) => Promise<void> | void;
}

export interface StatsArgs {
  id: string;
  stream: boolean;
  oneShot: boolean;
  send: (stats: Record<string, unknown>) => Promise<void> | void;
}

declare module '../engine/engine' {
  interface JobTable {
    'container.create': { args: CreateRequest; result: { Id: string; Warnings: string[] } };
    /** The JSON array of list items, already encoded (summaries.ts keeps each container's encoded). */
    'container.list': { args: { all: boolean; limit: number; size: boolean; filters: Filters }; result: Buffer };
    'container.inspect': { args: { id: string; size: boolean }; result: Record<string, unknown> };
    'container.top': { args: { id: string; psArgs: string }; result: { Titles: string[]; Processes: string[][] } };
    'container.logs': { args: LogsArgs; result: { tty: boolean } };
    'container.changes': { args: { id: string }; result: Change[] };
    'container.export': { args: { id: string }; result: Readable };
    'container.stats': { args: StatsArgs; result: void };
    'container.start': { args: { id: string }; result: void };
    'container.stop': { args: { id: string; signal?: string; timeout?: number }; result: void };
    'container.restart': { args: { id: string; signal?: string; timeout?: number }; result: void };
    'container.kill': { args: { id: string; signal?: string }; result: void };
    'container.pause': { args: { id: string }; result: void };
    'container.unpause': { args: { id: string }; result: void };
    'container.wait': { args: { id: string; condition: 'not-running' | 'next-exit' | 'removed' }; result: WaitResult };
    'container.rename': { args: { id: string; name: string }; result: void };
    'container.update': { args: { id: string; hostConfig: HostConfig }; result: { Warnings: string[] } };
    'container.resize': { args: { id: string; rows: number; cols: number }; result: void };
    'container.attach': { args: { id: string; request: AttachRequest; io: AttachIo }; result: string };
    'container.tty': { args: { id: string }; result: { tty: boolean; running: boolean } };
    'container.remove': { args: { id: string; force: boolean; volumes: boolean }; result: void };
    'container.prune': { args: { filters: Filters }; result: { ContainersDeleted: string[]; SpaceReclaimed: number } };
    'container.archive.stat': { args: { id: string; path: string }; result: PathStat };
    'container.archive.get': { args: { id: string; path: string }; result: { stat: PathStat; tar: Readable } };
    'container.archive.put': { args: { id: string; path: string; tar: Readable; noOverwriteDirNonDir: boolean; copyUIDGID: boolean }; result: void };
    'exec.create': { args: { id: string; config: ExecConfig }; result: { Id: string } };
    'exec.start': { args: { id: string; attach: boolean }; result: { exec: ExecInstance; session?: AttachSession } };
    'exec.resize': { args: { id: string; rows: number; cols: number }; result: void };
    'exec.inspect': { args: { id: string }; result: Record<string, unknown> };
  }
}

/** dockerd's prune `until` filter: a timestamp or a Go duration ago. */
function untilMs(raw: string): number {
  const dur = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(raw);
  if (dur) {
    const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    return Date.now() - Number(dur[1]) * unit[dur[2]!]!;
  }
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw) * 1000;
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw invalidParameter(`invalid filter 'until=${raw}'`);
  return t;
}

/** Files the runtime creates as mount points in the writable layer; dockerd's init layer hides them. */
const MOUNTPOINTS = ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/dev', '/proc', '/sys', '/.dockerenv', '/sbin/docker-init', '/dev/console', '/dev/pts', '/dev/shm'];

function withoutMountpoints(changes: Change[]): Change[] {
  const hidden = changes.filter((ch) => ch.Kind === 1 && MOUNTPOINTS.includes(ch.Path));
  const kept = changes.filter((ch) => !hidden.includes(ch));
  // A directory shown as changed only because of hidden entries is not a change either.
  return kept.filter((ch) => {
    if (ch.Kind !== 0) return true;
    const under = (p: string) => p.startsWith(ch.Path === '/' ? '/' : `${ch.Path}/`);
    return !(hidden.some((h) => under(h.Path)) && !kept.some((k) => k !== ch && under(k.Path)));
  });
}

export function registerContainerJobs(engine: Engine, containers: Containers, execs: Execs, imageIds: (ref: string) => string[]): void {
  const size = (id: string) => containers.sizes(containers.get(id));
  engine.register('container.create', async (job) => containers.create(job.args));
  const summaries = new ContainerSummaries(containers.store, containers.attachments);
  engine.register('container.list', async (job) => {
    const list = listContainers(containers.store.list(), { ...job.args, imageIds, find: (ref) => containers.store.find(ref), attachments: containers.attachments });
    // Sizes walk the disk; without them the body is assembled synchronously from cached summaries.
    if (!job.args.size) return summaries.encode(list);
    return summaries.encode(list, await Promise.all(list.map((c) => size(c.id))));
  });
  engine.register('container.inspect', async (job) => {
    const c = containers.get(job.args.id);
    return inspectContainer(c, containers.store.dir(c.id), containers.logPath(c), job.args.size ? await size(c.id) : undefined, containers.attachments);
  });
  engine.register('container.top', async (job) => {
    const c = containers.get(job.args.id);
    if (!c.running) throw conflict(`Container ${c.id} is not running`);
    const result = await top(await containers.runningTask(c).cgroups(), job.args.psArgs);
    containers.emit(c, 'top');
    return result;
  });
  engine.register('container.logs', async (job) => {
    const c = containers.get(job.args.id);
    const { options, sink } = job.args;
    const stop = c.running && options.follow ? c.wait('not-running', job.signal).then(() => undefined, () => undefined) : Promise.resolve();
    const output = readLogs(containers.logPath(c), { ...options, stop });
    const abort = () => output.destroy();
    job.signal.addEventListener('abort', abort, { once: true });
    try {
      for await (const chunk of output as AsyncIterable<Buffer>) {
        if (job.signal.aborted) break;
        await sink(chunk);
      }
    } catch (err) {
      // The client went away: the reader was destroyed under the loop.
      if (!job.signal.aborted) throw err;
    } finally {
      job.signal.removeEventListener('abort', abort);
      output.destroy();
    }
    return { tty: c.record.Config.Tty === true };
  });
  engine.register('container.changes', async (job) => {
    const c = containers.get(job.args.id);
    return withoutMountpoints(await containers.graph.changes(c.id));
  });
  engine.register('container.export', async (job) => {
    const c = containers.get(job.args.id);
    const tar = await exportRootfs(containers, c, job.signal);
    containers.emit(c, 'export');
    return tar;
  });
  engine.register('container.stats', async (job) => {
    const c = containers.get(job.args.id);
    const { stream, oneShot, send } = job.args;
    const sample = async (): Promise<StatsSample | undefined> => {
      const task = containers.task(c);
      if (!task || !c.running) return undefined;
      return sampleStats(await task.cgroups()).catch(() => undefined);
    };
    let previous: StatsSample | undefined;
    if (!stream && !oneShot) {
      // dockerd's one-off answer carries a previous sample a second old, so CPU % can be computed.
      previous = await sample();
      if (previous) await new Promise((r) => setTimeout(r, 1000));
    }
    for (;;) {
      const now = await sample();
      await send(statsJson(c.id, c.record.Name, now, previous));
      previous = now;
      if (!stream || job.signal.aborted) return;
      if (!now && !c.state.Running) return;
      await new Promise<void>((r) => {
        const t = setTimeout(r, 1000);
        job.signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
      });
      if (job.signal.aborted) return;
    }
  });
  engine.register('container.start', async (job) => containers.start(job.args.id));
  engine.register('container.stop', async (job) => containers.stop(job.args.id, job.args));
  engine.register('container.restart', async (job) => containers.restart(job.args.id, job.args));
  engine.register('container.kill', async (job) => containers.kill(job.args.id, job.args.signal));
  engine.register('container.pause', async (job) => containers.pause(job.args.id));
  engine.register('container.unpause', async (job) => containers.unpause(job.args.id));
  engine.register('container.wait', async (job) => containers.wait(job.args.id, job.args.condition, job.signal));
  engine.register('container.rename', async (job) => containers.rename(job.args.id, job.args.name));
  engine.register('container.update', async (job) => containers.update(job.args.id, job.args.hostConfig));
  engine.register('container.resize', async (job) => {
    const c = containers.get(job.args.id);
    const task = containers.task(c);
    if (!task) throw conflict(`Container ${c.id} is not running`);
    await task.resize(job.args.rows, job.args.cols);
    containers.emit(c, 'resize', { height: String(job.args.rows), width: String(job.args.cols) });
  });
  engine.register('container.tty', async (job) => {
    const c = containers.get(job.args.id);
    return { tty: c.record.Config.Tty === true, running: c.running };
  });
  engine.register('container.attach', async (job) => attachContainer(containers, containers.get(job.args.id), job.args.request, job.args.io, job.signal));
  engine.register('container.remove', async (job) => {
    const c = containers.get(job.args.id);
    await containers.remove(job.args.id, { force: job.args.force, volumes: job.args.volumes });
    execs.forget(c);
  });
  engine.register('container.prune', async (job) => {
    const f = job.args.filters;
    const until = f.get('until')?.map(untilMs);
    const deleted: string[] = [];
    for (const c of containers.store.list()) {
      if (c.state.Running || c.state.Status === 'removing') continue;
      if (until && !until.every((u) => Date.parse(c.record.Created) < u)) continue;
      const labels = c.record.Config.Labels ?? {};
      const labelOk = (f.get('label') ?? []).every((v) => { const [k, val] = v.split('=', 2); return val === undefined ? k! in labels : labels[k!] === val; });
      const labelNotOk = (f.get('label!') ?? []).some((v) => { const [k, val] = v.split('=', 2); return val === undefined ? k! in labels : labels[k!] === val; });
      if (!labelOk || labelNotOk) continue;
      try {
        await containers.remove(c.id, { force: false });
        execs.forget(c);
        deleted.push(c.id);
      } catch (err) {
        containers.log.warn('prune could not remove a container', { id: c.id, err: (err as Error).message });
      }
    }
    containers.events.publish('container', 'prune', '', { reclaimed: '0' });
    return { ContainersDeleted: deleted, SpaceReclaimed: 0 };
  });
  engine.register('container.archive.stat', async (job) => statPath(containers, containers.get(job.args.id), job.args.path));
  engine.register('container.archive.get', async (job) => {
    const c = containers.get(job.args.id);
    const result = await archivePath(containers, c, job.args.path, job.signal);
    containers.emit(c, 'archive-path');
    return result;
  });
  engine.register('container.archive.put', async (job) => {
    const { id, path, tar, ...o } = job.args;
    const c = containers.get(id);
    await extractToPath(containers, c, path, tar, o);
    containers.emit(c, 'extract-to-dir');
  });
  engine.register('exec.create', async (job) => execs.create(job.args.id, job.args.config));
  engine.register('exec.start', async (job) => execs.start(job.args.id, job.args.attach));
  engine.register('exec.resize', async (job) => execs.resize(job.args.id, job.args.rows, job.args.cols));
  engine.register('exec.inspect', async (job) => execs.get(job.args.id).inspect());
}

