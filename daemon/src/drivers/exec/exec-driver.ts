// The execdriver: what the container layer asks of the process machinery. A container is a
// Task created from an OCI bundle; `docker exec` processes are Tasks too. The implementation
// (shim-driver.ts) runs each under a berth-shim, which outlives berthd.
import type { Readable, Writable } from 'node:stream';
import type { CgroupPaths } from './cgroups';
import type { RuntimeState } from './runtime';

export interface LogOptions {
  /** The log file; rotated files are path.1 … path.(maxFile-1). */
  path: string;
  /** Bytes before rotation; 0 or absent: never rotate. */
  maxSize?: number;
  /** Files kept, the current one included (default 1). */
  maxFile?: number;
}

export interface CreateOptions {
  /** Absolute path of the OCI bundle (config.json and, usually, rootfs/). Its
   * process.terminal must equal `tty`. */
  bundle: string;
  /** Runtime name (runc, crun); the driver's default when absent. */
  runtime?: string;
  tty: boolean;
  /** Keep stdin open for attach (docker's OpenStdin). */
  openStdin: boolean;
  log?: LogOptions;
  /** runtime create --no-pivot (a root on an initramfs). */
  noPivot?: boolean;
}

export interface ExecOptions {
  /** The OCI process (args, env, cwd, user, terminal, capabilities…); terminal must equal tty. */
  process: Record<string, unknown> & { terminal?: boolean; args: string[] };
  tty: boolean;
  openStdin: boolean;
}

/** How a process ended, as the shim recorded it. */
export interface ExitStatus {
  /** The exit status, or 128 + the signal that killed it. */
  exitCode: number;
  /** The signal that killed it, 0 if it exited. */
  signal: number;
  /** RFC 3339 with nanoseconds. */
  exitedAt: string;
  oomKilled: boolean;
  /** Set when the process could not be started at all (exec). */
  error?: string;
}

export interface AttachOptions {
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  /** Close the container's stdin when this session's stdin ends (docker's StdinOnce). */
  stdinOnce?: boolean;
}

/** One attach connection. Output flows with back-pressure: not reading a stream holds the
 * container's output (as dockerd's attach does). */
export interface AttachSession {
  /** Null unless asked for and the task was created with openStdin. */
  stdin: Writable | null;
  /** With a tty every byte is stdout and stderr just ends. */
  stdout: Readable;
  stderr: Readable;
  resize(rows: number, cols: number): Promise<void>;
  /** The exit, or null when this session was detached (or lost) first. */
  exit: Promise<ExitStatus | null>;
  /** Closes this connection; the process keeps running. */
  detach(): void;
}

export type TaskStatus = 'created' | 'running' | 'exited';

export interface Task {
  /** The container id (exec: the exec id). */
  readonly id: string;
  readonly tty: boolean;
  /** The process's pid on the host; 0 for an exec task before start. */
  readonly pid: number;
  readonly shimPid: number;
  /** Runs the process (attach first to see all its output). Resolves once it runs. */
  start(): Promise<void>;
  /** Sends a signal to the process (the container's init). 409 when it is not running. */
  kill(signal: number): Promise<void>;
  attach(options: AttachOptions): Promise<AttachSession>;
  resize(rows: number, cols: number): Promise<void>;
  /** Resolves when the process has exited and the shim has recorded it. */
  wait(): Promise<ExitStatus>;
  /** Kills the process if it runs, waits for its shim, removes its state. */
  delete(): Promise<void>;
}

export interface ContainerTask extends Task {
  readonly bundle: string;
  readonly runtime: string;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** The runtime's view (created, running, paused, stopped). */
  state(): Promise<RuntimeState>;
  /** Creates an exec process in the container under its own shim; attach, then start it. */
  exec(execId: string, options: ExecOptions): Promise<Task>;
  /** Where the container's cgroups are, for stats. */
  cgroups(): Promise<CgroupPaths>;
}

/** A task found at start-up: running, created, exited while berthd was away, or lost (its shim
 * died: the container may still run and must be killed through the runtime). */
export interface RestoredTask {
  id: string;
  status: TaskStatus | 'lost';
  /** Present unless lost. */
  task?: ContainerTask;
  exit?: ExitStatus;
}

export interface ExecDriver {
  readonly name: string;
  /** Creates the container (runtime create under a new shim); it runs on start(). */
  create(id: string, options: CreateOptions): Promise<ContainerTask>;
  /** Re-adopts the tasks whose shims outlived the previous berthd. */
  restore(): Promise<RestoredTask[]>;
  /** Removes what a lost task left: the runtime's container (killed) and the shim's state. */
  cleanupLost(id: string): Promise<void>;
}
