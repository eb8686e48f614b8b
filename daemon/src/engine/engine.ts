// The Engine: a handler table from job name to function, and the jobs it runs. Every piece of work
// in berthd goes through `engine.run(name, args)`, the API server included (the `serveapi` job), so
// all work is named, observable and cancellable in one place.
import { EventEmitter } from 'node:events';
import { Job, type JobOptions, type JobSnapshot } from './job';
import { EventBus } from './events';
import { unavailable } from '../errors';
import { log as rootLog, type Logger } from '../log';

/**
 * The typed table of jobs. Each component declares its own entries by augmenting this interface:
 *   declare module '../engine/engine' { interface JobTable { 'image.pull': { args: PullArgs; result: void } } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface JobTable {}

export type JobName = keyof JobTable;
type ArgsOf<N extends JobName> = JobTable[N] extends { args: infer A } ? A : never;
type ResultOf<N extends JobName> = JobTable[N] extends { result: infer R } ? R : never;
export type JobHandler<N extends JobName> = (job: Job<ArgsOf<N>>) => Promise<ResultOf<N>>;

export type JobEventKind = 'created' | 'progress' | 'finished';
export interface JobEvent {
  kind: JobEventKind;
  job: JobSnapshot;
}

/** How many finished jobs observers can still see. */
const FINISHED_KEPT = 200;

export class Engine {
  readonly events = new EventBus();
  readonly log: Logger;
  private readonly handlers = new Map<string, (job: Job<never>) => Promise<unknown>>();
  private readonly running = new Map<string, Job>();
  private readonly finished: Job[] = [];
  private readonly jobEvents = new EventEmitter();
  private draining = false;

  constructor(logger: Logger = rootLog) {
    this.log = logger;
    this.jobEvents.setMaxListeners(0);
  }

  register<N extends JobName>(name: N, handler: JobHandler<N>): void {
    if (this.handlers.has(name)) throw new Error(`job ${name} is already registered`);
    this.handlers.set(name, handler as unknown as (job: Job<never>) => Promise<unknown>);
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }

  /** Runs a job to its end and returns its result; throws what the handler threw. */
  async run<N extends JobName>(name: N, args: ArgsOf<N>, options: JobOptions = {}): Promise<ResultOf<N>> {
    const job = this.job(name, args, options);
    return this.execute(job) as Promise<ResultOf<N>>;
  }

  /** Creates a job without running it, for callers that want to see it (its id) before it starts. */
  job<N extends JobName>(name: N, args: ArgsOf<N>, options: JobOptions = {}): Job<ArgsOf<N>> {
    if (!this.handlers.has(name)) throw new Error(`no handler for job ${name}`);
    if (this.draining) throw unavailable('berthd is shutting down');
    return new Job(name, args, options, (job, kind) => {
      if (kind === 'progress' && !job.hidden) this.emitJob('progress', job);
    });
  }

  async execute<A>(job: Job<A>): Promise<unknown> {
    const handler = this.handlers.get(job.name);
    if (!handler) throw new Error(`no handler for job ${job.name}`);
    job.state = 'running';
    job.startedAt = new Date();
    this.running.set(job.id, job as Job);
    if (!job.hidden) this.emitJob('created', job as Job);
    try {
      const result = await handler(job as unknown as Job<never>);
      job.state = 'succeeded';
      job.exitCode = 0;
      return result;
    } catch (err) {
      job.state = job.signal.aborted ? 'cancelled' : 'failed';
      job.exitCode = 1;
      job.error = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      job.endedAt = new Date();
      this.running.delete(job.id);
      if (!job.hidden) {
        this.finished.push(job as Job);
        if (this.finished.length > FINISHED_KEPT) this.finished.shift();
        this.emitJob('finished', job as Job);
      }
    }
  }

  /** Jobs observers may see: running ones first, then the most recent finished ones. */
  list(): JobSnapshot[] {
    const running = [...this.running.values()].filter((j) => !j.hidden).map((j) => j.snapshot());
    const done = this.finished.map((j) => j.snapshot()).reverse();
    return [...running, ...done];
  }

  get(id: string): Job | undefined {
    return this.running.get(id) ?? this.finished.find((j) => j.id === id);
  }

  /** Follows job events; returns the function that stops following. */
  onJob(listener: (e: JobEvent) => void): () => void {
    this.jobEvents.on('job', listener);
    return () => this.jobEvents.off('job', listener);
  }

  /**
   * Refuses new jobs and waits for the running ones, all but those named in `except` (the
   * long-lived `serveapi` job ends when draining does). After `timeoutMs` the rest are cancelled.
   */
  async drain(timeoutMs: number, except: string[] = []): Promise<void> {
    this.draining = true;
    const pending = () => [...this.running.values()].filter((j) => !except.includes(j.name));
    const deadline = Date.now() + timeoutMs;
    while (pending().length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const job of pending()) {
      this.log.warn('cancelling job at shutdown', { job: job.name, id: job.id });
      job.cancel('berthd is shutting down');
    }
  }

  get isDraining(): boolean {
    return this.draining;
  }

  private emitJob(kind: JobEventKind, job: Job): void {
    this.jobEvents.emit('job', { kind, job: job.snapshot() } satisfies JobEvent);
  }
}
