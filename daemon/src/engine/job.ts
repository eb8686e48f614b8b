// A Job is one named piece of work run by the Engine: the seeds' unit of everything the daemon does.
// It carries its arguments and environment, its standard streams, a state with an exit code,
// progress that observers can follow, and cancellation through an AbortSignal.
import { Writable, type Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobProgress {
  /** Units done so far (bytes, layers, steps: see `unit`). */
  current?: number;
  total?: number;
  unit?: string;
  /** A short human line: "Downloading 3/5 layers". */
  message?: string;
}

/** What observers (GET /berth/jobs, the app's activity view) see of a job. */
export interface JobSnapshot {
  id: string;
  name: string;
  /** A one-line description of the arguments, safe to show (no credentials). */
  description: string;
  state: JobState;
  exitCode: number | null;
  progress: JobProgress;
  error?: string;
  cancellable: boolean;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
}

export interface JobOptions {
  env?: Record<string, string>;
  stdin?: Readable | null;
  stdout?: Writable;
  stderr?: Writable;
  /** Aborting this cancels the job (the HTTP layer passes the client's disconnect). */
  signal?: AbortSignal;
  /** Shown to observers instead of the raw arguments. */
  description?: string;
  /** Jobs that are plumbing (ping, version, inspect) are not listed to observers. */
  hidden?: boolean;
  /** False for jobs whose cancellation would take berthd down (serveapi): only shutdown ends them. */
  cancellable?: boolean;
}

/** A sink for streams nobody asked for: discarding keeps an unread job from buffering forever. */
export const discard = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

export class Job<Args = unknown> {
  readonly id = randomBytes(8).toString('hex');
  readonly createdAt = new Date();
  readonly env: Record<string, string>;
  readonly stdin: Readable | null;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly hidden: boolean;
  readonly description: string;
  private readonly canCancel: boolean;
  state: JobState = 'queued';
  exitCode: number | null = null;
  error?: string;
  startedAt?: Date;
  endedAt?: Date;
  private progressState: JobProgress = {};
  private readonly controller = new AbortController();
  private lastProgressEmit = 0;

  constructor(
    readonly name: string,
    readonly args: Args,
    options: JobOptions,
    private readonly onChange: (job: Job, kind: 'progress' | 'state') => void,
  ) {
    this.env = options.env ?? {};
    this.stdin = options.stdin ?? null;
    this.stdout = options.stdout ?? discard();
    this.stderr = options.stderr ?? discard();
    this.hidden = options.hidden ?? false;
    this.canCancel = options.cancellable ?? true;
    this.description = options.description ?? describeArgs(args);
    const outer = options.signal;
    if (outer) {
      if (outer.aborted) this.controller.abort(outer.reason);
      else outer.addEventListener('abort', () => this.controller.abort(outer.reason), { once: true });
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get progress(): JobProgress {
    return this.progressState;
  }

  /** Records progress; observers are told at most ten times a second so a fast job stays cheap. */
  setProgress(update: JobProgress): void {
    this.progressState = { ...this.progressState, ...update };
    const now = Date.now();
    if (now - this.lastProgressEmit >= 100) {
      this.lastProgressEmit = now;
      this.onChange(this, 'progress');
    }
  }

  cancel(reason = 'cancelled'): void {
    if (this.state === 'queued' || this.state === 'running') {
      const err = new Error(reason);
      err.name = 'AbortError';
      this.controller.abort(err);
    }
  }

  /** Throws the abort reason when the job was cancelled: long loops call it between steps. */
  throwIfCancelled(): void {
    if (this.signal.aborted) throw abortError(this.signal);
  }

  snapshot(): JobSnapshot {
    return {
      id: this.id,
      name: this.name,
      description: this.description,
      state: this.state,
      exitCode: this.exitCode,
      progress: this.progressState,
      error: this.error,
      cancellable: this.canCancel && (this.state === 'queued' || this.state === 'running'),
      createdAt: this.createdAt.toISOString(),
      startedAt: this.startedAt?.toISOString(),
      endedAt: this.endedAt?.toISOString(),
    };
  }
}

export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const err = new Error(typeof reason === 'string' ? reason : 'cancelled');
  err.name = 'AbortError';
  return err;
}

function describeArgs(args: unknown): string {
  if (args === undefined || args === null) return '';
  if (typeof args !== 'object') return String(args);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(args as Record<string, unknown>)) {
    if (/auth|password|token|secret/i.test(k)) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') parts.push(`${k}=${v}`);
  }
  return parts.join(' ');
}
