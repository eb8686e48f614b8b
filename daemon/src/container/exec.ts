// `docker exec`: exec instances of running containers. Each runs under its own shim (the
// execdriver's Task); berthd keeps what inspect shows (running, exit code, pid) in memory, as
// dockerd does: exec instances do not survive a berthd restart.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { conflict, invalidParameter, notFound } from '../errors';
import type { AttachSession, Task } from '../drivers/exec/exec-driver';
import { ALL_CAPABILITIES } from '../drivers/exec/capabilities';
import { mergeEnv } from '../drivers/exec/oci-spec';
import { resolveUser } from '../drivers/exec/user';
import type { Container } from './container';
import type { Containers } from './containers';
import { resolveInRoot } from './scoped-path';

export interface ExecConfig {
  User?: string;
  Privileged?: boolean;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  DetachKeys?: string;
  Env?: string[] | null;
  WorkingDir?: string;
  Cmd?: string[] | null;
  ConsoleSize?: [number, number] | null;
}

export class ExecInstance {
  running = false;
  exitCode: number | null = null;
  pid = 0;
  task?: Task;
  /** Resolves with the exit code once the process has ended. */
  done?: Promise<number>;
  /** Settles once the exec's process runs (its pty exists) or failed to: a resize may come first. */
  readonly ready: Promise<void>;
  settleReady!: (err?: Error) => void;

  constructor(readonly id: string, readonly container: Container, readonly config: ExecConfig) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err ? reject(err) : resolve());
    });
    this.ready.catch(() => undefined);
  }

  inspect(): Record<string, unknown> {
    const cmd = this.config.Cmd ?? [];
    return {
      ID: this.id,
      Running: this.running,
      ExitCode: this.exitCode,
      ProcessConfig: { tty: this.config.Tty === true, entrypoint: cmd[0] ?? '', arguments: cmd.slice(1), privileged: this.config.Privileged === true, user: this.config.User ?? '' },
      OpenStdin: this.config.AttachStdin === true,
      OpenStderr: this.config.AttachStderr === true,
      OpenStdout: this.config.AttachStdout === true,
      CanRemove: false,
      ContainerID: this.container.id,
      DetachKeys: this.config.DetachKeys ?? '',
      Pid: this.pid,
    };
  }
}

export class Execs {
  private readonly execs = new Map<string, ExecInstance>();

  constructor(private readonly containers: Containers) {}

  private checkRunning(c: Container): void {
    if (c.state.Paused) throw conflict(`Container ${c.id} is paused, unpause the container before exec`);
    if (c.state.Restarting) throw conflict(`Container ${c.id} is restarting, wait until the container is running`);
    if (!c.running) throw conflict(`Container ${c.id} is not running`);
  }

  create(ref: string, config: ExecConfig): { Id: string } {
    const c = this.containers.get(ref);
    if (!config.Cmd || config.Cmd.length === 0) throw invalidParameter('No exec command specified');
    this.checkRunning(c);
    const id = randomBytes(32).toString('hex');
    const exec = new ExecInstance(id, c, config);
    this.execs.set(id, exec);
    c.execIds.add(id);
    this.containers.emit(c, `exec_create: ${config.Cmd.join(' ')}`, { execID: id });
    return { Id: id };
  }

  get(id: string): ExecInstance {
    const exec = this.execs.get(id);
    if (!exec) throw notFound(`No such exec instance: ${id}`);
    return exec;
  }

  /**
   * Starts an exec instance. With `attach`, the session is opened before the process runs so no
   * output is lost. Resolves once the process runs; `exec.done` resolves at its exit.
   */
  async start(id: string, attach: boolean): Promise<{ exec: ExecInstance; session?: AttachSession }> {
    const exec = this.get(id);
    if (exec.running) throw conflict(`Error: Exec command ${id} is already running`);
    if (exec.exitCode !== null) throw conflict(`Error: Exec command ${id} has already run`);
    const c = exec.container;
    this.checkRunning(c);
    const ctask = this.containers.runningTask(c);
    const cfg = exec.config;
    let task: Task;
    try {
      task = await ctask.exec(id, { process: this.process(c, cfg), tty: cfg.Tty === true, openStdin: cfg.AttachStdin === true });
    } catch (err) {
      exec.settleReady(err as Error);
      throw err;
    }
    exec.task = task;
    let session: AttachSession | undefined;
    if (attach) {
      session = await task.attach({ stdin: cfg.AttachStdin === true, stdout: cfg.AttachStdout !== false, stderr: cfg.AttachStderr !== false, stdinOnce: true });
    }
    try {
      await task.start();
    } catch (err) {
      exec.settleReady(err as Error);
      session?.detach();
      // dockerd records 126 for any exec that could not start.
      exec.exitCode = 126;
      await task.delete().catch(() => undefined);
      this.containers.emit(c, 'exec_die', { execID: id, exitCode: String(exec.exitCode) });
      throw err;
    }
    exec.running = true;
    exec.pid = task.pid;
    exec.settleReady();
    this.containers.emit(c, `exec_start: ${(cfg.Cmd ?? []).join(' ')}`, { execID: id });
    exec.done = task.wait().then(
      (status) => {
        exec.running = false;
        exec.exitCode = status.exitCode;
        this.containers.emit(c, 'exec_die', { execID: id, exitCode: String(status.exitCode) });
        // The client is told as soon as the exit is known; the shim's own ending (it removes
        // its state dir) need not hold up the stream's close, only the container's removal.
        const teardown = task.delete().catch(() => undefined);
        c.execTeardowns.add(teardown);
        void teardown.then(() => c.execTeardowns.delete(teardown));
        return status.exitCode;
      },
      () => {
        exec.running = false;
        exec.exitCode = 126;
        return 126;
      },
    );
    return { exec, session };
  }

  /**
   * Resizes an exec's tty. The docker CLI sends the first resize as soon as it has asked for the
   * start, often before the exec has its task: wait for it, up to 10 s, as dockerd does.
   */
  async resize(id: string, rows: number, cols: number): Promise<void> {
    const exec = this.get(id);
    if (!exec.running) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(conflict(`timeout waiting for exec session ready`)), 10_000);
      });
      try {
        await Promise.race([exec.ready, timeout]);
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('timeout')) throw err;
        throw conflict(`Exec ${id} is not running`);
      } finally {
        clearTimeout(timer);
      }
    }
    await exec.task!.resize(rows, cols);
  }

  /** Forgets the exec instances of a removed container. */
  forget(c: Container): void {
    for (const id of c.execIds) this.execs.delete(id);
  }

  /** The OCI process of an exec: the container's process with the exec's command, env, user and cwd. */
  private process(c: Container, cfg: ExecConfig): Record<string, unknown> & { args: string[]; terminal: boolean } {
    const base = this.containers.spec(c).process;
    const rootfs = c.record.BaseFS ?? '';
    const read = (p: string) => {
      try {
        return readFileSync(resolveInRoot(rootfs, p), 'utf8');
      } catch {
        return undefined;
      }
    };
    let user = base.user;
    let home = '/';
    try {
      const r = resolveUser(cfg.User || c.record.Config.User || '', c.record.HostConfig.GroupAdd ?? [], read('/etc/passwd'), read('/etc/group'));
      if (cfg.User) user = { uid: r.uid, gid: r.gid, additionalGids: r.additionalGids };
      home = r.home;
    } catch (err) {
      if (cfg.User) throw err;
    }
    const caps = cfg.Privileged ? { bounding: ALL_CAPABILITIES, effective: ALL_CAPABILITIES, permitted: ALL_CAPABILITIES } : base.capabilities;
    const env = mergeEnv(base.env.filter((e) => cfg.Tty || !e.startsWith('TERM=')), [...(cfg.Tty ? ['TERM=xterm'] : []), ...(cfg.Env ?? [])]);
    // HOME as the runtime sets it when the image and the exec leave it out: the user's home.
    if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${home}`);
    const proc: Record<string, unknown> & { args: string[]; terminal: boolean } = {
      ...base,
      terminal: cfg.Tty === true,
      args: cfg.Cmd ?? [],
      env,
      cwd: cfg.WorkingDir || base.cwd,
      user,
      capabilities: caps,
    };
    if (cfg.ConsoleSize && cfg.ConsoleSize[0] > 0 && cfg.Tty) proc.consoleSize = { height: cfg.ConsoleSize[0], width: cfg.ConsoleSize[1] };
    else delete proc.consoleSize;
    return proc;
  }
}
