// Keeps the container list current from /events: a full list on (re)connect, then each
// container event refreshes only the container it names. Changes are pushed, coalesced per tick.
import type { ContainerView, RunOptions } from '../../shared/views.js';
import { EngineError } from '../engine/engine-error.js';
import { createBody } from './run-options.js';
import type { EngineClient, EventMessage } from '../engine/engine-client.js';
import { coalesce, type Emit } from './broadcaster.js';
import type { EngineService } from './engine-service.js';
import { containerView } from './views.js';

/** The state a container is in once the engine has applied an event's action. */
const stateAfter: Record<string, string> = {
  create: 'created', start: 'running', unpause: 'running', pause: 'paused', die: 'exited', stop: 'exited',
};

export class ContainersService {
  private readonly byId = new Map<string, ContainerView>();
  private readonly publish: () => void;
  private readonly refreshing = new Map<string, { dirty: boolean; expected?: string }>();

  constructor(private readonly engine: EngineService, emit: Emit) {
    this.publish = coalesce(() => emit('containers:changed', this.list()));
    engine.subscribe({
      connected: (client) => void this.resync(client),
      event: (event, client) => {
        if (event.Type === 'container') this.onEvent(event, client);
      },
    });
  }

  list(): ContainerView[] {
    return [...this.byId.values()].sort((a, b) => b.created - a.created || a.name.localeCompare(b.name));
  }

  private async resync(client: EngineClient): Promise<void> {
    const all = await client.listContainers(true).catch(() => undefined);
    if (!all) return;
    this.byId.clear();
    for (const c of all) {
      const view = containerView(c);
      this.byId.set(view.id, view);
    }
    this.publish();
  }

  /**
   * One refresh loop per container at a time: events for a container that arrive while its
   * loop runs only mark it dirty, so an older, slower answer never overwrites a newer one.
   */
  private onEvent(event: EventMessage, client: EngineClient): void {
    const id = event.Actor?.ID;
    const action = event.Action ?? '';
    if (!id) return;
    // exec_* and health events do not change the row; everything else may.
    if (action.startsWith('exec_') || action === 'top' || action === 'resize') return;
    if (action === 'destroy') {
      this.byId.delete(id);
      this.publish();
    }
    const expected = stateAfter[action];
    const running = this.refreshing.get(id);
    if (running) {
      running.dirty = true;
      if (expected) running.expected = expected;
      return;
    }
    const entry = { dirty: true, expected };
    this.refreshing.set(id, entry);
    void this.refreshLoop(id, entry, client).finally(() => this.refreshing.delete(id));
  }

  private async refreshLoop(id: string, entry: { dirty: boolean; expected?: string }, client: EngineClient): Promise<void> {
    let retries = 0;
    while (entry.dirty || entry.expected) {
      entry.dirty = false;
      // The list endpoint (filtered to this id) gives the status line that inspect lacks.
      const found = await client.listContainers(true, { id: [id] }).then(
        (all) => all.find((c) => c.Id === id),
        () => undefined,
      );
      if (found) this.byId.set(id, containerView(found));
      else this.byId.delete(id);
      this.publish();
      if (!found || found.State === entry.expected || retries >= 6) {
        entry.expected = undefined;
        continue;
      }
      // dockerd emits some events (pause, unpause) before its list view has the new state:
      // ask again a little later until the state is the one the event implies.
      if (entry.expected) await new Promise((r) => setTimeout(r, 50 * 2 ** retries++));
    }
  }

  // Actions: the engine's events bring the new state back, so nothing is patched by hand here.
  start(id: string): Promise<void> { return this.engine.client().startContainer(id); }
  stop(id: string): Promise<void> { return this.engine.client().stopContainer(id); }
  restart(id: string): Promise<void> { return this.engine.client().restartContainer(id); }
  pause(id: string): Promise<void> { return this.engine.client().pauseContainer(id); }
  unpause(id: string): Promise<void> { return this.engine.client().unpauseContainer(id); }
  kill(id: string): Promise<void> { return this.engine.client().killContainer(id); }
  remove(id: string, force: boolean): Promise<void> { return this.engine.client().removeContainer(id, { force }); }
  inspect(id: string): Promise<unknown> { return this.engine.client().inspectContainer(id); }

  /** `docker run -d`: create (pulling the image when the engine lacks it, as the CLI does), then start. */
  async run(options: RunOptions): Promise<string> {
    const client = this.engine.client();
    const body = createBody(options);
    let id: string;
    try {
      id = await client.createContainer(body, options.name || undefined);
    } catch (err) {
      if (!(err instanceof EngineError) || err.status !== 404 || !/image/i.test(err.message)) throw err;
      for await (const message of client.pullImage(options.image)) void message;
      id = await client.createContainer(body, options.name || undefined);
    }
    await client.startContainer(id);
    return id;
  }
}
