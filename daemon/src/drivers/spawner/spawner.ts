// Short commands (mount, umount, ip, nft, runc, the shim) started through `berth-shim --spawner`
// (native/shim/src/spawner.c). Node forks its whole process for each child: a few milliseconds
// with berthd's heap (many more under a VM's TCG), during which its event loop stands still. The
// spawner is a tiny process started once; berthd writes a request and reads the reply. Where it
// cannot run (no shim built), commands are started by Node as before, with the same results.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface CommandOutput {
  /** The exit code; -1 when a signal ended the command. */
  code: number;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
}

export interface RunOptions {
  input?: string | Buffer;
  cwd?: string;
  /** Killed with SIGKILL after this long; the result then carries the signal. */
  timeoutMs?: number;
}

/** The berth-shim binary: BERTH_SHIM, else native/shim/build/berth-shim above this file. */
export function defaultShimPath(): string {
  if (process.env.BERTH_SHIM) return process.env.BERTH_SHIM;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'native/shim/build/berth-shim');
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return 'berth-shim';
}

const REQ_SPAWN = 1;
const REQ_KILL = 2;
const HELLO = 'BSP1';
const errnoNames = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const signalNames = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/** The error Node's spawn gives when a command cannot start ("spawn ip ENOENT"). */
function startError(file: string, errno: number): NodeJS.ErrnoException {
  const code = errnoNames.get(errno) ?? `errno ${errno}`;
  const err: NodeJS.ErrnoException = new Error(`spawn ${file} ${code}`);
  err.code = code;
  err.errno = -errno;
  err.syscall = `spawn ${file}`;
  err.path = file;
  return err;
}

interface Job {
  file: string;
  resolve: (out: CommandOutput) => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

// Its pipes are sockets: unref'd while no command runs, so an idle helper keeps no process (a
// test's, say) from exiting.
type HelperProcess = ChildProcessByStdio<Socket, Socket, null>;

export class Spawner {
  private helper?: HelperProcess;
  /** Settles once the helper has said hello (true), or could not start (false). */
  private ready?: Promise<boolean>;
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  private received: Buffer = Buffer.alloc(0);

  constructor(private readonly binary = defaultShimPath()) {}

  async run(file: string, args: string[], opts: RunOptions = {}): Promise<CommandOutput> {
    if (!(await this.start())) return runWithNode(file, args, opts);
    const id = this.nextId++;
    const input = opts.input === undefined ? Buffer.alloc(0) : Buffer.from(opts.input);
    const cwd = Buffer.from(opts.cwd ?? '');
    const argv = Buffer.from([file, ...args].map((a) => `${a}\0`).join(''));
    const head = Buffer.alloc(24);
    head.writeUInt32LE(20 + cwd.length + argv.length + input.length, 0);
    head.writeUInt32LE(REQ_SPAWN, 4);
    head.writeUInt32LE(id, 8);
    head.writeUInt32LE(args.length + 1, 12);
    head.writeUInt32LE(input.length, 16);
    head.writeUInt32LE(cwd.length, 20);
    const helper = this.helper!;
    return new Promise<CommandOutput>((resolve, reject) => {
      const job: Job = { file, resolve, reject };
      if (opts.timeoutMs) job.timer = setTimeout(() => this.kill(id, constants.signals.SIGKILL), opts.timeoutMs);
      this.jobs.set(id, job);
      this.holdLoop(true);
      helper.stdin.write(Buffer.concat([head, cwd, argv, input]));
    });
  }

  private kill(id: number, signal: number): void {
    const frame = Buffer.alloc(16);
    frame.writeUInt32LE(12, 0);
    frame.writeUInt32LE(REQ_KILL, 4);
    frame.writeUInt32LE(id, 8);
    frame.writeUInt32LE(signal, 12);
    this.helper?.stdin.write(frame);
  }

  private start(): Promise<boolean> {
    this.ready ??= new Promise<boolean>((resolve) => {
      let helper: HelperProcess;
      try {
        // In its own session: a signal to berthd's process group is berthd's alone.
        helper = spawn(this.binary, ['--spawner'], { stdio: ['pipe', 'pipe', 'inherit'], detached: true }) as HelperProcess;
      } catch {
        resolve(false);
        return;
      }
      this.helper = helper;
      let greeted = false;
      // The process handle never holds the event loop; its pipes do while someone waits on it.
      helper.unref();
      helper.stdin.on('error', () => undefined); // the exit handler below answers the jobs
      helper.stdout.on('data', (chunk: Buffer) => {
        this.received = this.received.length ? Buffer.concat([this.received, chunk]) : chunk;
        if (!greeted) {
          if (this.received.length < HELLO.length) return;
          greeted = this.received.subarray(0, HELLO.length).toString() === HELLO;
          this.received = this.received.subarray(HELLO.length);
          if (!greeted) helper.kill();
          else {
            this.holdLoop(this.jobs.size > 0);
            resolve(true);
          }
        }
        this.readReplies();
      });
      helper.on('error', () => resolve(false));
      helper.on('exit', () => {
        // Before its hello nothing ran: commands go through Node. After it, the jobs in flight
        // may have run; they fail, and the next command starts a new helper.
        if (!greeted) {
          resolve(false);
          return;
        }
        this.helper = undefined;
        this.ready = undefined;
        this.received = Buffer.alloc(0);
        for (const [id, job] of this.jobs) {
          clearTimeout(job.timer);
          job.reject(new Error(`spawn ${job.file}: berth-shim --spawner exited while the command ran`));
          this.jobs.delete(id);
        }
      });
    });
    return this.ready;
  }

  /** Refs the helper's pipes while a command runs (or the helper starts), unrefs them when idle. */
  private holdLoop(hold: boolean): void {
    const pipes = [this.helper?.stdout, this.helper?.stdin];
    for (const pipe of pipes) {
      if (hold) pipe?.ref();
      else pipe?.unref();
    }
  }

  private readReplies(): void {
    while (this.received.length >= 4) {
      const len = this.received.readUInt32LE(0);
      if (this.received.length < 4 + len) return;
      const r = this.received.subarray(4, 4 + len);
      this.received = this.received.subarray(4 + len);
      const id = r.readUInt32LE(0);
      const startErrno = r.readInt32LE(4);
      const code = r.readInt32LE(8);
      const signal = r.readInt32LE(12);
      const outLen = r.readUInt32LE(16);
      const errLen = r.readUInt32LE(20);
      const job = this.jobs.get(id);
      if (!job) continue;
      this.jobs.delete(id);
      clearTimeout(job.timer);
      if (this.jobs.size === 0) this.holdLoop(false);
      if (startErrno !== 0) {
        job.reject(startError(job.file, startErrno));
        continue;
      }
      job.resolve({
        code,
        signal: signal ? (signalNames.get(signal) ?? null) : null,
        stdout: Buffer.from(r.subarray(24, 24 + outLen)),
        stderr: Buffer.from(r.subarray(24 + outLen, 24 + outLen + errLen)),
      });
    }
  }

  /**
   * Runs one of the spawner's builtins (`berth:mount`, `berth:umount`, `berth:netns`: the system
   * call, without starting mount(8) or iproute2), or `command` where there is no spawner.
   */
  async runBuiltin(builtin: string[], command: string[], opts: RunOptions = {}): Promise<CommandOutput> {
    if (!(await this.start())) return runWithNode(command[0]!, command.slice(1), opts);
    return this.run(`berth:${builtin[0]!}`, builtin.slice(1), { ...opts, input: undefined });
  }

  /** Ends the helper (it exits once its running commands are answered). */
  close(): void {
    this.helper?.stdin.end();
  }
}

/** The same, started by Node: where the spawner cannot run. */
export function runWithNode(file: string, args: string[], opts: RunOptions = {}): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: opts.cwd, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs, killSignal: 'SIGKILL' });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => stdout.push(d));
    child.stderr!.on('data', (d: Buffer) => stderr.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) }));
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(opts.input);
    }
  });
}

let shared: Spawner | undefined;

/** Runs a command through berthd's spawner. */
export function runCommand(file: string, args: string[], opts: RunOptions = {}): Promise<CommandOutput> {
  shared ??= new Spawner();
  return shared.run(file, args, opts);
}

/** Runs a spawner builtin, or `command` where there is no spawner (see Spawner.runBuiltin). */
export function runBuiltin(builtin: string[], command: string[], opts: RunOptions = {}): Promise<CommandOutput> {
  shared ??= new Spawner();
  return shared.runBuiltin(builtin, command, opts);
}
