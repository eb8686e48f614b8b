// berthd's jobs (pulls, pushes, loads, builds) followed live from GET /berth/jobs/events. Other
// engines have no such feed; there the list stays empty and the status says jobs: false.
import type { JobView } from '../../shared/views.js';
import type { BerthJob, EngineClient } from '../engine/engine-client.js';
import type { Emit } from './broadcaster.js';
import type { EngineService } from './engine-service.js';

const KEEP_FINISHED = 200;

export class JobsService {
  private readonly jobs = new Map<string, JobView>();
  private follow?: AbortController;

  constructor(private readonly engine: EngineService, private readonly emit: Emit) {
    engine.subscribe({
      reset: () => {
        this.follow?.abort();
        this.jobs.clear();
        this.emit('jobs:reset', []);
      },
      connected: (client) => this.start(client),
    });
  }

  list(): JobView[] {
    return [...this.jobs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  cancel(id: string): Promise<void> {
    return this.engine.client().cancelJob(id);
  }

  stop(): void {
    this.follow?.abort();
  }

  private start(client: EngineClient): void {
    this.follow?.abort();
    if (!this.engine.status().jobs) return;
    const controller = new AbortController();
    this.follow = controller;
    void (async () => {
      while (!controller.signal.aborted) {
        try {
          // The feed starts with a `snapshot` line per current job, then changes.
          for await (const e of await client.jobEvents(controller.signal)) this.update(e.job);
        } catch {
          // reconnect below; the engine's /events watcher reports the engine's state
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
  }

  private update(job: BerthJob): void {
    this.jobs.set(job.id, job);
    if (this.jobs.size > KEEP_FINISHED) {
      const oldest = this.list().reverse().find((j) => !j.cancellable);
      if (oldest) this.jobs.delete(oldest.id);
    }
    this.emit('jobs:changed', job);
  }
}
