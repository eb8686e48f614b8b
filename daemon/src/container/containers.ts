// The container component: every container berthd manages, from create to remove, through the
// execdriver (processes under shims) and the graphdriver (root filesystems). It keeps the store
// true on disk after every transition, publishes Docker's events, applies restart policies, and
// re-adopts running containers when berthd starts again (live restore).
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { EventBus } from '../engine/events';
import type { Logger } from '../log';
import type { GraphDriver } from '../drivers/graph/graph-driver';
import type { ContainerTask, ExecDriver, ExitStatus } from '../drivers/exec/exec-driver';
import { buildSpec, type OciSpec, type SpecHost } from '../drivers/exec/oci-spec';
import { resolveUser } from '../drivers/exec/user';
import { conflict, EngineError, invalidParameter, notModified, notFound } from '../errors';
import { Container, newRecord, type WaitResult } from './container';
import { ContainerStore } from './store';
import { generateName, validateName } from './names';
import { applyHostDefaults, mergeImageConfig, validateHostConfig, validateResources, type HostLimits } from './create-config';
import { writeEtcFiles, etcPaths } from './etc-files';
import { resolveInRoot } from './scoped-path';
import { restartsWithDaemon } from './restart-policy';
import { setPaused, setRemoving, setRestarting, setRunning, setStartFailed, setStopped, restoreAfterFailedRemoval, setDead } from './state';
import { parseSignal, SIGKILL, SIGTERM } from './signals';
import { HealthMonitor } from './health';
import { applyCgroupResources } from './cgroup-update';
import { specHostFor } from './host';
import { listItem } from './views';
import type { ContainerConfig, HostConfig, ImageRuntimeConfig } from './types';
import { ContainerAttachments, mergeMounts, type PreparedAttachments } from '../drivers/attachments';
import type { EndpointRequest } from '../drivers/network/network-driver';

/** What the container component needs of the graph: an image by reference, id or id prefix. */
export interface ImageResolver {
  /** 404 `No such image: <ref>` when absent. */
  resolve(ref: string): Promise<{ id: string; config: ImageRuntimeConfig; topLayer?: string }>;
  /** Bytes of an image's unpacked layers (SizeRootFs counts them). */
  size(id: string): number;
}

export interface ContainersOptions {
  /** <data-root>/containers */
  root: string;
  events: EventBus;
  images: ImageResolver;
  graph: GraphDriver;
  exec: ExecDriver;
  specHost: SpecHost;
  limits: HostLimits;
  /** The runtime new containers get (the usable default, e.g. runc where crun refuses the host). */
  defaultRuntime?: () => string;
  log: Logger;
  /** The networkdriver and volumedriver (network none and spec-only binds without them). */
  attachments?: ContainerAttachments;
}

export interface CreateRequest {
  name?: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** NetworkingConfig.EndpointsConfig. */
  networkingConfig?: Record<string, EndpointRequest> | null;
}

const LOG_FILE = 'container.log';

export class Containers {
  readonly store: ContainerStore;
  private readonly tasks = new Map<string, ContainerTask>();
  private readonly health = new Map<string, HealthMonitor>();
  /** Attach requests waiting for the task that `start` is about to create. */
  private readonly pendingAttach = new Map<string, Set<(task: ContainerTask) => Promise<void>>>();

  readonly attachments: ContainerAttachments;

  constructor(private readonly o: ContainersOptions) {
    this.store = new ContainerStore(o.root);
    this.attachments = o.attachments ?? new ContainerAttachments();
  }

  get events(): EventBus {
    return this.o.events;
  }

  get graph(): GraphDriver {
    return this.o.graph;
  }

  /**
   * SizeRw and SizeRootFs of `docker ps -s` and inspect --size: the bytes of the files in the
   * container's writable layer, and those plus its image's.
   */
  async sizes(c: Container): Promise<{ rw: number; rootFs: number }> {
    const upper = c.record.GraphDriver.Data?.UpperDir;
    let rw = 0;
    if (upper) {
      rw = await treeSize(upper);
    } else {
      // vfs: the rootfs is a full copy; count what changed against the image.
      const changes = await this.o.graph.changes(c.id).catch(() => []);
      const rootfs = c.record.BaseFS;
      for (const ch of changes) {
        if (ch.Kind === 2 || !rootfs) continue;
        const st = await lstat(path.join(rootfs, ch.Path)).catch(() => undefined);
        if (st?.isFile()) rw += st.size;
      }
    }
    return { rw, rootFs: rw + this.o.images.size(c.record.Image) };
  }

  /** `docker system df`'s container entries: list items with their sizes. */
  async diskUsage(): Promise<Record<string, unknown>[]> {
    return Promise.all(this.store.list().map(async (c) => listItem(c, await this.sizes(c), this.attachments)));
  }

  get log(): Logger {
    return this.o.log;
  }

  get(ref: string): Container {
    return this.store.get(ref);
  }

  task(c: Container): ContainerTask | undefined {
    return this.tasks.get(c.id);
  }

  /** The running task, or dockerd's 409. */
  runningTask(c: Container): ContainerTask {
    const task = this.tasks.get(c.id);
    if (!task || !c.running) throw conflict(`Container ${c.id} is not running`);
    return task;
  }

  logPath(c: Container): string {
    return path.join(this.store.dir(c.id), LOG_FILE);
  }

  bundleDir(c: Container): string {
    return path.join(this.store.dir(c.id), 'bundle');
  }

  /** The OCI spec the container last started with (exec and health checks start from it). */
  spec(c: Container): OciSpec {
    return JSON.parse(readFileSync(path.join(this.bundleDir(c), 'config.json'), 'utf8')) as OciSpec;
  }

  emit(c: Container, action: string, extra: Record<string, string> = {}): void {
    const attributes: Record<string, string> = { ...(c.record.Config.Labels ?? {}), image: c.record.Config.Image ?? '', name: c.name, ...extra };
    this.o.events.publish('container', action, c.id, attributes);
  }

  counts(): { total: number; running: number; paused: number; stopped: number } {
    let running = 0;
    let paused = 0;
    for (const c of this.store.list()) {
      if (c.state.Paused) paused++;
      else if (c.state.Running) running++;
    }
    const total = this.store.size;
    return { total, running, paused, stopped: total - running - paused };
  }

  // ---- create ----------------------------------------------------------------------------

  async create(req: CreateRequest): Promise<{ Id: string; Warnings: string[] }> {
    const config = req.config ?? {};
    const hostConfig: HostConfig = { ...(req.hostConfig ?? {}) };
    // dockerd's order: the settings, then the image (a 404 makes the client pull), then the name.
    const requested = req.name ? validateName(req.name) : undefined;
    if (!config.Image) throw invalidParameter('No image specified');
    const warnings = validateHostConfig(hostConfig, this.o.limits, this.attachments.network !== undefined);
    if (hostConfig.Init && !this.o.specHost.initBinary) throw invalidParameter('--init: no init binary is installed on this host (tini-static)');
    applyHostDefaults(hostConfig, this.o.limits, this.o.defaultRuntime?.() ?? 'runc');
    const image = await this.o.images.resolve(config.Image);
    // The id and name are claimed together, with no await between the check and the claim, so
    // concurrent creates never pick the same name (dockerd reserves them at this point too).
    const reservation = this.store.reserve(requested, generateName);
    const { id, name } = reservation;
    let c: Container | undefined;
    try {
      const merged = mergeImageConfig(config, image.config, id);
      await this.o.graph.prepare(id, image.topLayer);
      const record = newRecord({
        ID: id,
        Created: new Date().toISOString(),
        Path: merged.path,
        Args: merged.args,
        Image: image.id,
        Name: name,
        Driver: this.o.graph.name,
        Config: merged.config,
        HostConfig: hostConfig,
        GraphDriver: { Name: this.o.graph.name, Data: this.o.graph.metadata(id, 'container', image.topLayer) },
      });
      if (merged.config.Healthcheck?.Test && merged.config.Healthcheck.Test[0] !== 'NONE') {
        record.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
      }
      c = new Container(record);
      await this.attachments.register({ id, name, config: merged.config, hostConfig, endpoints: req.networkingConfig }, (ref) => this.get(ref).id);
      this.store.add(c);
      writeEtcFiles(this.store.dir(id), merged.config, hostConfig);
    } catch (err) {
      await this.attachments.remove(id, true).catch(() => undefined);
      await this.o.graph.remove(id).catch(() => undefined);
      if (c && this.store.find(id) === c) this.store.remove(c);
      this.store.release(reservation);
      throw err;
    }
    this.emit(c, 'create');
    return { Id: id, Warnings: warnings };
  }

  // ---- start and the monitor ---------------------------------------------------------------

  async start(ref: string): Promise<void> {
    const c = this.get(ref);
    await c.exclusive(async () => {
      if (c.state.Paused) throw conflict('cannot start a paused container, try unpause instead');
      if (c.running) throw notModified();
      if (c.state.Status === 'removing' || c.state.Dead) throw conflict('container is marked for removal and cannot be started');
      clearTimeout(c.restartTimer);
      c.restartManager.reset();
      c.record.HasBeenManuallyStopped = false;
      await this.run(c);
    });
  }

  /** Creates the task and starts it; the caller holds the container's lock. */
  private async run(c: Container): Promise<void> {
    await Promise.all([c.taskGone, c.released]);
    const mounting = this.o.graph.mount(c.id);
    mounting.catch(() => undefined); // awaited below; a failed network must not leave it unhandled
    let task: ContainerTask | undefined;
    let rootfs: string;
    try {
      const attached = await this.attachments.prepare(c.id, this.store.dir(c.id), mounting);
      rootfs = await mounting;
      const spec = this.buildSpec(c, rootfs, attached);
      const bundle = this.bundleDir(c);
      mkdirSync(bundle, { recursive: true, mode: 0o700 });
      writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
      const logOpts = c.record.HostConfig.LogConfig?.Config ?? {};
      task = await this.o.exec.create(c.id, {
        bundle,
        tty: c.record.Config.Tty === true,
        openStdin: c.record.Config.OpenStdin === true,
        log: { path: this.logPath(c), maxSize: logOpts['max-size'] ? parseByteSize(logOpts['max-size']) : undefined, maxFile: logOpts['max-file'] ? Number(logOpts['max-file']) : undefined },
        runtime: typeof c.record.HostConfig.Runtime === 'string' && c.record.HostConfig.Runtime ? c.record.HostConfig.Runtime : undefined,
      });
      this.tasks.set(c.id, task);
      // Clients that attached before start get the output from its first byte.
      const waiting = this.pendingAttach.get(c.id);
      if (waiting) {
        this.pendingAttach.delete(c.id);
        await Promise.race([Promise.allSettled([...waiting].map((connect) => connect(task!))), new Promise((r) => setTimeout(r, 2000))]);
      }
      await task.start();
    } catch (err) {
      this.tasks.delete(c.id);
      await task?.delete().catch(() => undefined);
      await this.attachments.release(c.id).catch(() => undefined);
      await mounting.catch(() => undefined);
      await this.o.graph.unmount(c.id).catch(() => undefined);
      const exitCode = err instanceof EngineError && 'exitCode' in err && typeof err.exitCode === 'number' ? err.exitCode : 128;
      setStartFailed(c.state, (err as Error).message, exitCode);
      this.store.save(c);
      if (c.record.HostConfig.AutoRemove) {
        // As dockerd: a --rm container that cannot start is removed (after this start's lock).
        setImmediate(() => void this.remove(c.id, { force: true, volumes: true }).catch(() => undefined));
      }
      throw err;
    }
    setRunning(c.state, task.pid);
    c.record.HasBeenStartedBefore = true;
    c.record.BaseFS = rootfs;
    this.store.save(c, { durable: false });
    this.emit(c, 'start');
    this.monitor(c, task);
    this.startHealth(c);
  }

  private buildSpec(c: Container, rootfs: string, attached: PreparedAttachments): OciSpec {
    const { Config: config, HostConfig: hc } = c.record;
    const read = (p: string) => {
      try {
        return readFileSync(resolveInRoot(rootfs, p), 'utf8');
      } catch {
        return undefined;
      }
    };
    const user = resolveUser(config.User ?? '', hc.GroupAdd ?? [], read('/etc/passwd'), read('/etc/group'));
    // The working directory is created when missing, as dockerd does.
    if (config.WorkingDir) {
      const wd = resolveInRoot(rootfs, config.WorkingDir);
      if (!existsSync(wd)) mkdirSync(wd, { recursive: true, mode: 0o755 });
    }
    const spec = buildSpec({
      id: c.id,
      rootfs,
      path: c.record.Path,
      args: c.record.Args,
      config,
      // The volumedriver resolves -v (named volumes too) into attached.mounts.
      hostConfig: this.attachments.volumes ? { ...hc, Binds: [] } : hc,
      netnsPath: attached.netnsPath,
      user,
      etcFiles: etcPaths(this.store.dir(c.id)),
      host: specHostFor(this.o.specHost, hc),
    });
    spec.mounts = mergeMounts(spec.mounts, attached.mounts);
    return spec;
  }

  private monitor(c: Container, task: ContainerTask): void {
    task.wait().then(
      (exit) => this.onExit(c, task, exit),
      (err: unknown) => {
        this.o.log.error('lost the shim of a container', { id: c.id, err: (err as Error).message });
        return this.onExit(c, task, { exitCode: 255, signal: 0, exitedAt: new Date().toISOString(), oomKilled: false, error: (err as Error).message });
      },
    ).catch((err: unknown) => this.o.log.error('exit handling failed', { id: c.id, err: (err as Error).message }));
  }

  /** The process ended: record it, tell everyone, then restart or remove as the policy says. */
  private async onExit(c: Container, task: ContainerTask, exit: ExitStatus): Promise<void> {
    if (this.tasks.get(c.id) === task) this.tasks.delete(c.id);
    // The runtime's delete runs in the shim while berthd records the exit: with the init gone,
    // the container's network and root filesystem are free already.
    c.taskGone = task.delete().catch((err: unknown) => this.o.log.warn('task delete failed', { id: c.id, err: (err as Error).message }));
    // dockerd's order: the exit is recorded and told, then the network and the root filesystem
    // are let go (what needs them waits for c.released).
    c.released = Promise.all([
      this.attachments.release(c.id).catch((err: unknown) => this.o.log.warn('network/volume release failed', { id: c.id, err: (err as Error).message })),
      this.o.graph.unmount(c.id).catch(() => undefined),
    ]).then(() => undefined);
    await this.stopHealth(c);
    const startedAt = Date.parse(c.state.StartedAt);
    const exitedAt = Date.parse(exit.exitedAt) || Date.now();
    const delay = c.record.HostConfig.AutoRemove
      ? undefined
      : c.restartManager.shouldRestart({ exitCode: exit.exitCode, manuallyStopped: c.record.HasBeenManuallyStopped, ranForMs: exitedAt - startedAt });
    const info = { exitCode: exit.exitCode, oomKilled: exit.oomKilled, at: new Date(exitedAt) };
    if (delay !== undefined) {
      setRestarting(c.state, info);
      c.record.RestartCount = c.restartManager.restartCount;
    } else {
      setStopped(c.state, info);
    }
    if (this.store.find(c.id) === c) this.store.save(c, { durable: false });
    if (exit.oomKilled) this.emit(c, 'oom');
    this.emit(c, 'die', { exitCode: String(exit.exitCode), execDuration: String(Math.max(0, Math.round((exitedAt - startedAt) / 1000))) });
    c.lifecycle.emit('exit', { StatusCode: exit.exitCode, Error: null } satisfies WaitResult);
    if (delay !== undefined) {
      c.restartTimer = setTimeout(() => {
        c.exclusive(async () => {
          if (!c.state.Restarting || this.store.find(c.id) !== c) return;
          await this.run(c);
        }).catch((err: unknown) => {
          this.o.log.warn('restart failed', { id: c.id, err: (err as Error).message });
          c.lifecycle.emit('exit', { StatusCode: c.state.ExitCode, Error: { Message: (err as Error).message } });
        });
      }, delay);
    } else if (c.record.HostConfig.AutoRemove) {
      await this.remove(c.id, { force: true, volumes: true }).catch((err: unknown) => {
        if (!(err instanceof EngineError && err.status === 404)) this.o.log.warn('auto-remove failed', { id: c.id, err: (err as Error).message });
      });
    }
  }

  /** Resolves once the container's next exit has been recorded. */
  private nextExit(c: Container): Promise<WaitResult> {
    return c.wait('next-exit');
  }

  // ---- stop, kill, restart, pause -------------------------------------------------------

  async stop(ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    const c = this.get(ref);
    await c.exclusive(() => this.stopLocked(c, opts));
  }

  private async stopLocked(c: Container, opts: { signal?: string; timeout?: number }): Promise<void> {
    if (!c.state.Running) throw notModified();
    c.record.HasBeenManuallyStopped = true;
    c.restartManager.cancel();
    if (c.state.Restarting) {
      clearTimeout(c.restartTimer);
      setStopped(c.state, { exitCode: c.state.ExitCode, at: new Date(c.state.FinishedAt) });
      this.store.save(c);
      this.emit(c, 'stop');
      return;
    }
    this.store.save(c);
    const task = this.runningTask(c);
    const signal = parseSignal(opts.signal || c.record.Config.StopSignal, SIGTERM);
    const timeout = opts.timeout ?? c.record.Config.StopTimeout ?? 10;
    const exited = this.nextExit(c);
    await this.signalTask(c, task, signal);
    let done = false;
    if (timeout < 0) {
      await exited;
      done = true;
    } else {
      done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeout * 1000))]);
    }
    if (!done) {
      await this.signalTask(c, task, SIGKILL).catch(() => undefined);
      await exited;
    }
    this.emit(c, 'stop');
  }

  /** Sends a signal (a paused container is thawed for it to be delivered) and publishes `kill`. */
  private async signalTask(c: Container, task: ContainerTask, signal: number): Promise<void> {
    this.emit(c, 'kill', { signal: String(signal) });
    await task.kill(signal);
    if (c.state.Paused && (signal === SIGKILL || signal === SIGTERM)) {
      await task.resume().catch(() => undefined);
      setPaused(c.state, false);
    }
  }

  async kill(ref: string, signalName?: string): Promise<void> {
    const c = this.store.find(ref);
    if (!c) throw notFound(`Cannot kill container: ${ref}: No such container: ${ref}`);
    const signal = parseSignal(signalName, SIGKILL);
    if (!c.state.Running) throw conflict(`Cannot kill container: ${ref}: Container ${c.id} is not running`);
    c.record.HasBeenManuallyStopped = true;
    const stopSignal = parseSignal(c.record.Config.StopSignal, SIGTERM);
    if (signal === SIGKILL || signal === stopSignal) c.restartManager.cancel();
    if (c.state.Restarting) {
      clearTimeout(c.restartTimer);
      setStopped(c.state, { exitCode: c.state.ExitCode });
      this.store.save(c);
      this.emit(c, 'kill', { signal: String(signal) });
      return;
    }
    this.store.save(c);
    const task = this.tasks.get(c.id);
    if (!task) throw conflict(`Cannot kill container: ${ref}: Container ${c.id} is not running`);
    const exited = signal === SIGKILL ? this.nextExit(c) : undefined;
    await this.signalTask(c, task, signal);
    // dockerd answers a SIGKILL once the container is gone, so `docker kill; docker rm` works.
    if (exited) await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  }

  async restart(ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    const c = this.get(ref);
    await c.exclusive(async () => {
      if (c.state.Running) {
        try {
          await this.stopLocked(c, opts);
        } catch (err) {
          if (!(err instanceof EngineError && err.status === 304)) throw err;
        }
      }
      clearTimeout(c.restartTimer);
      c.restartManager.reset();
      c.record.HasBeenManuallyStopped = false;
      await this.run(c);
      this.emit(c, 'restart');
    });
  }

  async pause(ref: string): Promise<void> {
    const c = this.get(ref);
    await c.exclusive(async () => {
      if (!c.running) throw conflict(`Container ${c.id} is not running`);
      if (c.state.Paused) throw conflict(`Container ${c.id} is already paused`);
      await this.runningTask(c).pause();
      setPaused(c.state, true);
      this.store.save(c);
      this.emit(c, 'pause');
    });
  }

  async unpause(ref: string): Promise<void> {
    const c = this.get(ref);
    await c.exclusive(async () => {
      if (!c.state.Paused) throw conflict(`Container ${c.id} is not paused`);
      await this.runningTask(c).resume();
      setPaused(c.state, false);
      this.store.save(c);
      this.emit(c, 'unpause');
    });
  }

  // ---- remove, rename, update, wait -----------------------------------------------------

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c = this.get(ref);
    await c.exclusive(async () => {
      if (this.store.find(c.id) !== c) throw notFound(`No such container: ${ref}`);
      if (c.state.Running && !opts.force) {
        if (c.state.Paused) throw conflict(`You cannot remove a paused container ${c.id}. Unpause and then stop the container before attempting removal or force remove`);
        if (!c.state.Restarting) throw conflict(`You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`);
      }
      clearTimeout(c.restartTimer);
      c.restartManager.cancel();
      if (c.state.Running && !c.state.Restarting) {
        const task = this.tasks.get(c.id);
        if (task) {
          const exited = this.nextExit(c);
          await this.signalTask(c, task, SIGKILL).catch(() => undefined);
          await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
        }
      }
      setRemoving(c.state);
      try {
        const task = this.tasks.get(c.id);
        if (task) await task.delete();
        this.tasks.delete(c.id);
        // The network and volumes go after the exit's release of them; the root filesystem's
        // removal unmounts it whether or not that release has yet.
        const attachments = c.released.then(() => this.attachments.remove(c.id, opts.volumes === true)).catch((err: unknown) => this.o.log.warn('network/volume removal failed', { id: c.id, err: (err as Error).message }));
        await Promise.all([c.taskGone, attachments, this.o.graph.remove(c.id), ...c.execTeardowns]);
      } catch (err) {
        restoreAfterFailedRemoval(c.state);
        setDead(c.state);
        this.store.save(c);
        throw err;
      }
      this.store.remove(c);
      this.emit(c, 'destroy');
      c.lifecycle.emit('removed', { StatusCode: c.state.ExitCode, Error: null } satisfies WaitResult);
    });
  }

  rename(ref: string, newName: string): void {
    const c = this.get(ref);
    if (!newName) throw invalidParameter('Neither old nor new names may be empty');
    const old = c.record.Name;
    this.store.rename(c, newName);
    void this.attachments.rename(c.id, newName).catch(() => undefined);
    this.emit(c, 'rename', { oldName: old });
  }

  async update(ref: string, changes: HostConfig): Promise<{ Warnings: string[] }> {
    const c = this.get(ref);
    return c.exclusive(async () => {
      const hc = c.record.HostConfig;
      const next: HostConfig = { ...hc };
      const fields = ['Memory', 'MemorySwap', 'MemoryReservation', 'CpuShares', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'PidsLimit', 'BlkioWeight'] as const;
      for (const f of fields) {
        const v = changes[f];
        if (v !== undefined && v !== null && v !== 0 && v !== '') (next as Record<string, unknown>)[f] = v;
      }
      if (changes.Memory && !changes.MemorySwap && (hc.MemorySwap ?? 0) > 0 && (hc.MemorySwap ?? 0) < changes.Memory) {
        throw invalidParameter('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
      }
      if (changes.RestartPolicy && changes.RestartPolicy.Name !== undefined) {
        if (hc.AutoRemove && changes.RestartPolicy.Name && changes.RestartPolicy.Name !== 'no') {
          throw invalidParameter('Restart policy cannot be updated because AutoRemove is enabled for the container');
        }
        next.RestartPolicy = changes.RestartPolicy;
      }
      const warnings = validateResources(next, this.o.limits, true);
      validateHostConfig({ ...next, Binds: [] }, this.o.limits);
      const task = this.tasks.get(c.id);
      if (task && c.running) await applyResources(task, next, this.o.limits);
      c.record.HostConfig = next;
      c.restartManager.setPolicy(next.RestartPolicy ?? { Name: 'no' });
      this.store.save(c);
      this.emit(c, 'update');
      return { Warnings: warnings };
    });
  }

  wait(ref: string, condition: 'not-running' | 'next-exit' | 'removed', signal?: AbortSignal): Promise<WaitResult> {
    const c = this.get(ref);
    return c.wait(condition, signal);
  }

  /** Registers an attach that connects once `start` has created the task. */
  whenTaskCreated(c: Container, connect: (task: ContainerTask) => Promise<void>): () => void {
    let set = this.pendingAttach.get(c.id);
    if (!set) this.pendingAttach.set(c.id, (set = new Set()));
    set.add(connect);
    return () => set!.delete(connect);
  }

  // ---- health -------------------------------------------------------------------------

  private startHealth(c: Container): void {
    const hc = c.record.Config.Healthcheck;
    if (!hc?.Test || hc.Test.length === 0 || hc.Test[0] === 'NONE') return;
    const monitor = new HealthMonitor(this, c);
    this.health.set(c.id, monitor);
    monitor.start();
  }

  private async stopHealth(c: Container): Promise<void> {
    const monitor = this.health.get(c.id);
    this.health.delete(c.id);
    if (monitor) await Promise.race([monitor.stop(), new Promise((r) => setTimeout(r, 5000))]);
  }

  // ---- live restore -------------------------------------------------------------------

  /** Loads the store and reconciles it with the shims that outlived the previous berthd. */
  async restore(): Promise<void> {
    const containers = this.store.load((id, err) => this.o.log.warn('skipping unreadable container', { id, err: (err as Error).message }));
    const restored = await this.o.exec.restore();
    const byId = new Map(restored.map((r) => [r.id, r]));
    const toStart: Container[] = [];
    for (const c of containers) {
      const found = byId.get(c.id);
      byId.delete(c.id);
      try {
        // A task that runs is adopted, even when berthd died before recording its start.
        if (found?.task && (found.status === 'running' || found.status === 'created')) {
          this.tasks.set(c.id, found.task);
          if (found.status === 'created') {
            // berthd died between create and start: finish what it began.
            await found.task.start();
          }
          const runtimeState = await found.task.state().catch(() => undefined);
          if (runtimeState) setPaused(c.state, runtimeState.status === 'paused');
          if (c.state.Restarting || !c.state.Running) setRunning(c.state, found.task.pid);
          c.state.Pid = found.task.pid || c.state.Pid;
          this.store.save(c);
          this.monitor(c, found.task);
          this.startHealth(c);
          this.o.log.info('re-adopted running container', { id: c.id, pid: c.state.Pid });
          continue;
        }
        if (found?.task && found.exit) {
          if (c.state.Running) {
            // It exited while berthd was away: record it and apply the policy now.
            await this.onExit(c, found.task, found.exit);
          } else {
            await found.task.delete().catch(() => undefined);
          }
          continue;
        }
        if (found?.status === 'lost' || (found && !found.task)) await this.o.exec.cleanupLost(c.id).catch(() => undefined);
        if (c.state.Restarting) {
          // berthd stopped during a restart back-off: the exit it recorded stands; the policy resumes below.
          setStopped(c.state, { exitCode: c.state.ExitCode, at: new Date(c.state.FinishedAt) });
          this.store.save(c);
        } else if (c.state.Running) {
          setStopped(c.state, { exitCode: 255, error: 'the container\'s monitor (shim) was gone when berthd started' });
          await this.o.graph.unmount(c.id).catch(() => undefined);
          this.store.save(c);
        }
        if (c.state.Status === 'removing') {
          await this.remove(c.id, { force: true }).catch(() => undefined);
          continue;
        }
        if (c.record.HasBeenStartedBefore && restartsWithDaemon(c.record.HostConfig.RestartPolicy, c.record.HasBeenManuallyStopped, c.state.ExitCode, c.record.RestartCount)) {
          toStart.push(c);
        }
      } catch (err) {
        this.o.log.error('restoring a container failed', { id: c.id, err: (err as Error).message });
      }
    }
    // Shims of containers that no longer exist.
    for (const r of byId.values()) {
      if (r.task) await r.task.delete().catch(() => undefined);
      else await this.o.exec.cleanupLost(r.id).catch(() => undefined);
    }
    // Published ports and namespaces of the containers still running; the others are unwired.
    await this.attachments.restore(new Set(this.store.list().filter((x) => x.state.Running).map((x) => x.id)))
      .catch((err: unknown) => this.o.log.warn('restoring networks failed', { err: (err as Error).message }));
    for (const c of toStart) {
      c.exclusive(() => this.run(c)).catch((err: unknown) => this.o.log.warn('restart at start-up failed', { id: c.id, err: (err as Error).message }));
    }
  }
}

/** Bytes of the regular files below `dir`, hard links counted once. */
async function treeSize(dir: string): Promise<number> {
  const seen = new Set<number>();
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const st = await lstat(p).catch(() => undefined);
        if (st && !seen.has(st.ino)) {
          seen.add(st.ino);
          total += st.size;
        }
      }
    }
  };
  await walk(dir);
  return total;
}

function parseByteSize(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(raw.trim());
  if (!m) throw invalidParameter(`invalid log max-size: ${raw}`);
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
  return Math.floor(Number(m[1]) * mult[m[2]!.toLowerCase()]!);
}

/** Applies updated resources to a running container's cgroups. */
async function applyResources(task: ContainerTask, hc: HostConfig, limits: HostLimits): Promise<void> {
  await applyCgroupResources(await task.cgroups(), hc, limits);
}
