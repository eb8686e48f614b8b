// The ExecDriver over berth-shim: one shim per container and per exec process. The driver
// spawns shims, talks to them over attach.sock, reads their exit records, and re-adopts them
// after a berthd restart. State: STATE_ROOT/containers/<id>/ and STATE_ROOT/exec/<exec id>/,
// each a shim's state dir plus the driver's task.json.
import { constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { open, readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { EngineError, conflict, invalidParameter, systemError } from '../../errors';
import { cgroupPathsOf, type CgroupPaths } from './cgroups';
import type {
  AttachOptions, AttachSession, ContainerTask, CreateOptions, ExecDriver, ExecOptions, ExitStatus, RestoredTask, Task,
} from './exec-driver';
import { chooseRuntime, RuntimeCli, type OciRuntime, type RuntimeState } from './runtime';
import { Frame, ShimConnection, openAttachSession, parseExit, resizePayload } from './shim-client';
import { writeFileAtomicSync } from '../../atomic-file';
import { nativeExecDescription } from './native-exec';
import { defaultShimPath, runCommand } from '../spawner/spawner';

/** A runtime failure, worded as dockerd words it; exitCode is what dockerd records for the
 * container when the command cannot run (127 not found, 126 not executable). */
export class RuntimeError extends EngineError {
  constructor(status: number, message: string, readonly exitCode?: number) {
    super(status, message);
  }
}

function classify(prefix: string, msg: string): RuntimeError {
  const text = `${prefix}: ${msg}: unknown`;
  if (/executable file not found|no such file or directory/i.test(msg)) return new RuntimeError(400, text, 127);
  if (/permission denied/i.test(msg)) return new RuntimeError(400, text, 126);
  if (/not a directory/i.test(msg)) return new RuntimeError(400, `${text}: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type`, 127);
  return new RuntimeError(500, text);
}

export interface ShimDriverOptions {
  /** Where shim state dirs live (the exec-root, e.g. /run/berth). Any length: the sockets in
   * them are reached by short /proc paths (see dialStateDir). */
  stateRoot: string;
  runtimes: OciRuntime[];
  /** Execs started by the shim itself (native/shim/src/nsexec.c) where it can; false: always `runtime exec`. */
  nativeExec?: boolean;
  /** The default-runtime setting (a function to follow config reloads). */
  defaultRuntime: string | (() => string);
  /** Each runtime's --root; default STATE_ROOT/runtime/<name>. */
  runtimeRoot?: (name: string) => string;
  shimPath?: string;
}

/** What the driver keeps beside the shim's files, so a new berthd knows how to reach it. */
interface TaskRecord {
  kind: 'container' | 'exec';
  id: string;
  containerId: string;
  runtime: string;
  runtimeRoot: string;
  bundle: string;
  tty: boolean;
  stdin: boolean;
}

// Task records live in the exec root: runtime state, meaningless after a reboot (the one event an
// fsync guards against), so atomic against a crash of berthd but not synced. Small and unsynced,
// they are written synchronously: a few system calls, where the async path takes a thread-pool
// round trip for each (a millisecond per file, on the way to every start and exec).
const writeJsonAtomic = (file: string, value: unknown): void => writeFileAtomicSync(file, JSON.stringify(value), { durable: false });

async function readExit(stateDir: string): Promise<ExitStatus | undefined> {
  try {
    return parseExit(await readFile(path.join(stateDir, 'exit'), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Waits for p, but no longer than ms. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** Resolves once the shim process for stateDir has exited (a zombie counts: its parent is
 * init, which reaps when it will), so a caller that deletes sees no shim left. */
async function shimGone(pid: number, stateDir: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // A shim that has closed its sockets is a millisecond from gone: look again soon, then less often.
  let pause = 1;
  while (pid > 0 && Date.now() < deadline) {
    let stat: string;
    let cmdline: string;
    try {
      [stat, cmdline] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/cmdline`, 'utf8')]);
    } catch {
      return;
    }
    const state = stat[stat.lastIndexOf(')') + 2];
    if (state === 'Z' || state === 'X' || !cmdline.includes(stateDir)) return;
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 10);
  }
}

/** The pid of a shim still running on stateDir, or 0. A zombie (its parent, init, not having
 * reaped it yet) has no command line and counts as gone. */
function liveShim(stateDir: string): number {
  const pid = Number.parseInt(readFileOr(path.join(stateDir, 'shim.pid')), 10);
  if (!(pid > 0)) return 0;
  const cmdline = readFileOr(`/proc/${pid}/cmdline`);
  return cmdline.includes('berth-shim') && cmdline.includes(stateDir) ? pid : 0;
}

function readFileOr(file: string, fallback = ''): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** Creates the state dir for a new shim; refuses when a live shim still owns it. */
function claimStateDir(stateDir: string, what: string): void {
  const other = liveShim(stateDir);
  if (other) throw conflict(`${what} is already running (its shim, pid ${other}, owns ${stateDir})`);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
}

/** Dials a socket in a state dir. `<exec-root>/containers/<64-hex id>/attach.sock` easily
 * outgrows a unix socket address (107 bytes), so the connection goes through the opened
 * directory, /proc/self/fd/N/attach.sock, which the kernel resolves to the same socket. The
 * descriptor is only needed while connecting. */
async function dialStateDir<T>(stateDir: string, name: string, dial: (address: string) => Promise<T>): Promise<T> {
  const dir = await open(stateDir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    return await dial(`/proc/self/fd/${dir.fd}/${name}`);
  } finally {
    await dir.close();
  }
}

/** Removes what a failed start left, unless another shim runs there. */
async function releaseStateDir(stateDir: string): Promise<void> {
  if (!liveShim(stateDir)) await rm(stateDir, { recursive: true, force: true });
}

async function runShim(shim: string, args: string[]): Promise<{ shimPid: number; pid: number }> {
  const r = await runCommand(shim, args, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(r.stderr.toString().trim() || (r.signal ? `berth-shim killed by ${r.signal}` : `berth-shim exited with ${r.code}`));
  return JSON.parse(r.stdout.toString()) as { shimPid: number; pid: number };
}

class ShimTask implements ContainerTask {
  pid: number;
  private control?: Promise<ShimConnection>;
  private exitStatus?: ExitStatus;
  private waiting?: Promise<ExitStatus>;

  constructor(
    private readonly driver: ShimDriver,
    readonly record: TaskRecord,
    readonly stateDir: string,
    readonly shimPid: number,
    pid: number,
    private readonly cli: RuntimeCli,
  ) {
    this.pid = pid;
  }

  get id(): string { return this.record.id; }
  get tty(): boolean { return this.record.tty; }
  get bundle(): string { return this.record.bundle; }
  get runtime(): string { return this.record.runtime; }

  /** One long-lived connection for commands and the exit, subscribed to no output. */
  private controlConnection(): Promise<ShimConnection> {
    if (!this.control) {
      this.control = dialStateDir(this.stateDir, 'attach.sock', (address) => ShimConnection.connect(address)).then(async (conn) => {
        conn.onClose = () => (this.control = undefined);
        conn.setOutputHandler(() => undefined); // until the subscription to nothing applies
        await conn.command(Frame.subscribe, Buffer.from([0]));
        return conn;
      });
      this.control.catch(() => (this.control = undefined));
    }
    return this.control;
  }

  private async command(type: number, payload: Buffer | undefined, what: string): Promise<void> {
    const notRunning = (): EngineError => conflict(`Container ${this.record.containerId} is not running`);
    if (this.exitStatus) throw notRunning();
    let conn: ShimConnection;
    try {
      conn = await this.controlConnection();
    } catch {
      throw notRunning();
    }
    try {
      await conn.command(type, payload);
    } catch (err) {
      const msg = (err as Error).message;
      // The shim replies "not running", or has just finished and closed the socket.
      if (/not running|has exited/.test(msg) || (await readExit(this.stateDir))) throw notRunning();
      throw systemError(`${what} failed: ${msg}`, err);
    }
  }

  async start(): Promise<void> {
    try {
      const conn = await this.controlConnection();
      await conn.command(Frame.start);
    } catch (err) {
      const msg = (err as Error).message;
      // runc begins its own message with "exec failed: ", which dockerd's wording already has.
      if (this.record.kind === 'exec') throw classify('OCI runtime exec failed: exec failed', msg.replace(/^exec failed: /, ''));
      throw classify('failed to create task for container: failed to start shim task: OCI runtime start failed', msg);
    }
    if (this.record.kind === 'exec') {
      const text = await readFile(path.join(this.stateDir, 'pid'), 'utf8').catch(() => '0');
      this.pid = Number.parseInt(text, 10) || 0;
    }
  }

  kill(signal: number): Promise<void> {
    const sig = Buffer.alloc(4);
    sig.writeUInt32BE(signal);
    return this.command(Frame.kill, sig, 'kill');
  }

  resize(rows: number, cols: number): Promise<void> {
    return this.command(Frame.resize, resizePayload(rows, cols), 'resize');
  }

  async attach(options: AttachOptions): Promise<AttachSession> {
    try {
      return await dialStateDir(this.stateDir, 'attach.sock', (address) => openAttachSession(address, {
        stdin: options.stdin ?? false,
        stdout: options.stdout ?? true,
        stderr: options.stderr ?? true,
        stdinOnce: options.stdinOnce ?? false,
      }));
    } catch (err) {
      throw conflict(`You cannot attach to a stopped container, start it first (${(err as Error).message})`);
    }
  }

  wait(): Promise<ExitStatus> {
    if (this.exitStatus) return Promise.resolve(this.exitStatus);
    this.waiting ??= this.awaitExit().then(
      (s) => (this.exitStatus = s),
      (err: unknown) => {
        this.waiting = undefined;
        throw err;
      },
    );
    return this.waiting;
  }

  private async awaitExit(): Promise<ExitStatus> {
    const recorded = await readExit(this.stateDir);
    if (recorded) return recorded;
    let conn: ShimConnection | undefined;
    try {
      conn = await this.controlConnection();
    } catch {
      // No shim listens: it finished between the two looks, or it died.
    }
    const fromFrame = conn ? await conn.exit : null;
    if (fromFrame) return fromFrame;
    const late = await readExit(this.stateDir);
    if (late) return late;
    throw systemError(`the shim of ${this.record.kind} ${this.id} (pid ${this.shimPid}) is gone without recording an exit`);
  }

  exited(): ExitStatus | undefined {
    return this.exitStatus;
  }

  async delete(): Promise<void> {
    if (!(await readExit(this.stateDir))) {
      await this.kill(9).catch(() => undefined);
      await this.wait().catch(() => undefined);
    }
    // The shim deletes the runtime's container after reporting the exit: the id is free once
    // the shim is gone. Its closing our connection is the first sign of that.
    const conn = await this.control?.catch(() => undefined);
    if (conn && !conn.isClosed) await within(conn.gone, 10_000);
    conn?.close();
    await shimGone(this.shimPid, this.stateDir);
    // A shim that died early leaves the runtime's container behind.
    const id = this.record.containerId;
    if (this.record.kind === 'container' && existsSync(path.join(this.record.runtimeRoot, id))) await this.cli.delete(id).catch(() => undefined);
    await rm(this.stateDir, { recursive: true, force: true });
  }

  pause(): Promise<void> { return this.cli.pause(this.record.containerId); }
  resume(): Promise<void> { return this.cli.resume(this.record.containerId); }
  state(): Promise<RuntimeState> { return this.cli.state(this.record.containerId); }
  cgroups(): Promise<CgroupPaths> { return cgroupPathsOf(this.pid); }

  exec(execId: string, options: ExecOptions): Promise<Task> {
    return this.driver.createExec(this, execId, options);
  }
}

export class ShimDriver implements ExecDriver {
  readonly name = 'berth-shim';
  private readonly shimPath: string;

  constructor(private readonly opts: ShimDriverOptions) {
    this.shimPath = opts.shimPath ?? defaultShimPath();
  }

  private runtimeRoot(name: string): string {
    return this.opts.runtimeRoot?.(name) ?? path.join(this.opts.stateRoot, 'runtime', name);
  }

  private cliFor(record: TaskRecord): RuntimeCli {
    const rt = this.opts.runtimes.find((r) => r.name === record.runtime);
    if (!rt) throw systemError(`runtime ${record.runtime} of ${record.containerId} is not installed any more`);
    return new RuntimeCli(rt, record.runtimeRoot);
  }

  containerDir(id: string): string {
    return path.join(this.opts.stateRoot, 'containers', id);
  }

  async create(id: string, options: CreateOptions): Promise<ContainerTask> {
    if (!path.isAbsolute(options.bundle)) throw invalidParameter(`bundle path ${options.bundle} must be absolute`);
    const configured = typeof this.opts.defaultRuntime === 'function' ? this.opts.defaultRuntime() : this.opts.defaultRuntime;
    const { runtime } = chooseRuntime(this.opts.runtimes, options.runtime ?? configured, options.runtime === undefined);
    const stateDir = this.containerDir(id);
    const record: TaskRecord = {
      kind: 'container', id, containerId: id, runtime: runtime.name, runtimeRoot: this.runtimeRoot(runtime.name),
      bundle: options.bundle, tty: options.tty, stdin: options.openStdin,
    };
    claimStateDir(stateDir, `container ${id}`);
    mkdirSync(record.runtimeRoot, { recursive: true, mode: 0o700 });
    writeJsonAtomic(path.join(stateDir, 'task.json'), record);
    const args = ['--id', id, '--bundle', options.bundle, '--state-dir', stateDir, '--runtime', runtime.path, '--runtime-root', record.runtimeRoot];
    if (options.log) {
      args.push('--log', path.resolve(options.log.path));
      if (options.log.maxSize) args.push('--log-max-size', String(options.log.maxSize));
      if (options.log.maxFile) args.push('--log-max-file', String(options.log.maxFile));
    }
    if (options.tty) args.push('--tty');
    if (options.openStdin) args.push('--stdin');
    if (options.noPivot) args.push('--no-pivot');
    let started: { shimPid: number; pid: number };
    try {
      started = await runShim(this.shimPath, args);
    } catch (err) {
      await releaseStateDir(stateDir);
      throw classify('failed to create task for container: failed to create shim task: OCI runtime create failed', (err as Error).message);
    }
    return new ShimTask(this, record, stateDir, started.shimPid, started.pid, new RuntimeCli(runtime, record.runtimeRoot));
  }

  /** Used by ContainerTask.exec: the exec shim's state lives in STATE_ROOT/exec/<exec id>. */
  async createExec(container: ShimTask, execId: string, options: ExecOptions): Promise<Task> {
    const stateDir = path.join(this.opts.stateRoot, 'exec', execId);
    const record: TaskRecord = { ...container.record, kind: 'exec', id: execId, tty: options.tty, stdin: options.openStdin };
    const rt = this.opts.runtimes.find((r) => r.name === record.runtime);
    if (!rt) throw systemError(`runtime ${record.runtime} is not installed any more`);
    claimStateDir(stateDir, `exec ${execId}`);
    writeJsonAtomic(path.join(stateDir, 'task.json'), record);
    const processFile = path.join(stateDir, 'process.json');
    writeJsonAtomic(processFile, { ...options.process, terminal: options.tty });
    const args = ['--id', record.containerId, '--exec', processFile, '--state-dir', stateDir, '--runtime', rt.path, '--runtime-root', record.runtimeRoot];
    if (this.opts.nativeExec !== false) {
      // The shim starts the process itself when it can; process.json stays its fallback.
      const cgroups = await cgroupPathsOf(container.pid).catch(() => undefined);
      const dirs = cgroups ? [...Object.values(cgroups.v1), ...(cgroups.unified ? [cgroups.unified] : [])] : [];
      const native = cgroups && nativeExecDescription(options.process, container.pid, dirs);
      if (native) {
        const nativeFile = path.join(stateDir, 'native.exec');
        writeFileAtomicSync(nativeFile, native, { durable: false });
        args.push('--native', nativeFile);
      }
    }
    if (options.tty) args.push('--tty');
    if (options.openStdin) args.push('--stdin');
    let started: { shimPid: number; pid: number };
    try {
      started = await runShim(this.shimPath, args);
    } catch (err) {
      await releaseStateDir(stateDir);
      throw systemError(`cannot start the exec shim: ${(err as Error).message}`, err);
    }
    return new ShimTask(this, record, stateDir, started.shimPid, 0, new RuntimeCli(rt, record.runtimeRoot));
  }

  async restore(): Promise<RestoredTask[]> {
    const dir = path.join(this.opts.stateRoot, 'containers');
    const names = await readdir(dir).catch(() => [] as string[]);
    const out: RestoredTask[] = [];
    for (const id of names) {
      const stateDir = path.join(dir, id);
      let record: TaskRecord;
      try {
        record = JSON.parse(await readFile(path.join(stateDir, 'task.json'), 'utf8')) as TaskRecord;
      } catch {
        continue; // not ours, or a create that never finished
      }
      const shimPid = Number.parseInt(await readFile(path.join(stateDir, 'shim.pid'), 'utf8').catch(() => '0'), 10) || 0;
      const pid = Number.parseInt(await readFile(path.join(stateDir, 'pid'), 'utf8').catch(() => '0'), 10) || 0;
      const task = new ShimTask(this, record, stateDir, shimPid, pid, this.cliFor(record));
      const exit = await readExit(stateDir);
      if (exit) {
        out.push({ id, status: 'exited', task, exit });
        continue;
      }
      try {
        const conn = await dialStateDir(stateDir, 'attach.sock', (address) => ShimConnection.connect(address));
        const status = conn.hello.status;
        conn.close();
        const late = status === 'exited' ? await task.wait() : undefined;
        out.push({ id, status, task, ...(late ? { exit: late } : {}) });
      } catch {
        const late = await readExit(stateDir);
        out.push(late ? { id, status: 'exited', task, exit: late } : { id, status: 'lost' });
      }
    }
    // Exec shims do not survive a restart as far as clients go (dockerd forgets exec sessions
    // too); their finished state dirs are cleared here.
    const execDir = path.join(this.opts.stateRoot, 'exec');
    for (const execId of await readdir(execDir).catch(() => [] as string[])) {
      if (await readExit(path.join(execDir, execId))) await rm(path.join(execDir, execId), { recursive: true, force: true });
    }
    return out;
  }

  async cleanupLost(id: string): Promise<void> {
    const stateDir = this.containerDir(id);
    const record = JSON.parse(await readFile(path.join(stateDir, 'task.json'), 'utf8').catch(() => 'null')) as TaskRecord | null;
    if (record) {
      const cli = this.cliFor(record);
      await cli.delete(id).catch(() => undefined);
    }
    await rm(stateDir, { recursive: true, force: true });
  }
}
