// Keeps the container list current from /events: a full list on (re)connect, then each
// container event refreshes only the container it names. Changes are pushed, coalesced per tick.
import type { ContainerView } from '../../shared/views.js';
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

  constructor(private readonly engine: EngineService, emit: Emit) {
    this.publish = coalesce(() => emit('containers:changed', this.list()));
    engine.subscribe({
      connected: (client) => void this.resync(client),
      event: (event, client) => {
        if (event.Type === 'container') void this.onEvent(event, client);
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

  private async onEvent(event: EventMessage, client: EngineClient): Promise<void> {
    const id = event.Actor?.ID;
    if (!id) return;
    if (event.Action === 'destroy') {
      this.byId.delete(id);
      this.publish();
      return;
    }
    // exec_* and health events do not change the row; everything else may.
    if (event.Action?.startsWith('exec_') || event.Action === 'top' || event.Action === 'resize') return;
    // The list endpoint (filtered to this id) gives the status line that inspect lacks. dockerd
    // emits some events before its list view is updated (pause, unpause), so when the listed
    // state is not yet the one the event implies, ask again a little later.
    const expected = stateAfter[event.Action ?? ''];
    for (let attempt = 0; attempt < 6; attempt++) {
      const found = await client.listContainers(true, { id: [id] }).then(
        (all) => all.find((c) => c.Id === id),
        () => undefined,
      );
      if (found) this.byId.set(id, containerView(found));
      else this.byId.delete(id);
      this.publish();
      if (!found || !expected || found.State === expected) return;
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
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
}
