// Keeps the container list current from /events: a full list on (re)connect, then each
// container event updates only the container it names: at once from what the event says, then
// from the engine's answer for that one container. Changes go out as deltas (upserted rows,
// removed ids), coalesced per turn of the event loop, so a 1000-container list costs one row per
// event and a single event goes out without waiting on a timer.
import type { ContainerView, RunOptions } from '../../shared/views.js';
import type { ContainerInspect, ContainerSummary, EngineClient, EventMessage } from '../engine/engine-client.js';
import { EngineError } from '../engine/engine-error.js';
import { coalesce, coalesceTurn, type Emit } from './broadcaster.js';
import type { EngineService } from './engine-service.js';
import { createBody } from './run-options.js';
import { containerView, sameView } from './views.js';

/** The state a container is in once the engine has applied an event's action. */
const stateAfter: Record<string, string> = {
  create: 'created', start: 'running', unpause: 'running', pause: 'paused', die: 'exited', stop: 'exited',
};

/** Inspects in flight at once while filling in start times after a full list. */
const INSPECT_CONCURRENCY = 4;
/** How long start times filled in after a full list gather before they are sent. */
const FILL_BATCH_MS = 100;

export class ContainersService {
  private readonly byId = new Map<string, ContainerView>();
  private readonly refreshing = new Map<string, { dirty: boolean; expected?: string }>();
  /** Sends what changed at the end of this turn: for changes someone is waiting to see. */
  private readonly publish: () => void;
  /** Sends what changed a little later, in batches: for filling in start times in the background. */
  private readonly publishSoon: () => void;
  private pending = { reset: false, upsert: new Set<string>(), remove: new Set<string>() };
  private generation = 0;

  constructor(private readonly engine: EngineService, emit: Emit) {
    const flush = (): void => {
      const { reset, upsert, remove } = this.pending;
      if (!reset && upsert.size === 0 && remove.size === 0) return;
      this.pending = { reset: false, upsert: new Set(), remove: new Set() };
      if (reset) {
        emit('containers:changed', { reset: this.list(), upsert: [], remove: [] });
        return;
      }
      const rows = [...upsert].map((id) => this.byId.get(id)).filter((c): c is ContainerView => c !== undefined);
      emit('containers:changed', { upsert: rows, remove: [...remove].filter((id) => !this.byId.has(id)) });
    };
    this.publish = coalesceTurn(flush);
    // A thousand inspects answered one by one would be a thousand messages and renders in the
    // window while it paints its first list.
    this.publishSoon = coalesce(flush, FILL_BATCH_MS);
    engine.subscribe({
      reset: () => {
        this.generation++;
        this.byId.clear();
        this.pending = { reset: true, upsert: new Set(), remove: new Set() };
        this.publish();
      },
      connected: (client) => void this.resync(client),
      event: (event, client) => {
        if (event.Type === 'container') this.onEvent(event, client);
      },
    });
  }

  list(): ContainerView[] {
    return [...this.byId.values()].sort((a, b) => b.created - a.created || a.name.localeCompare(b.name));
  }

  private set(view: ContainerView, background = false): void {
    if (sameView(view, this.byId.get(view.id))) return;
    this.byId.set(view.id, view);
    this.pending.upsert.add(view.id);
    this.pending.remove.delete(view.id);
    if (background) this.publishSoon();
    else this.publish();
  }

  private delete(id: string): void {
    this.byId.delete(id);
    this.pending.upsert.delete(id);
    this.pending.remove.add(id);
    this.publish();
  }

  private async resync(client: EngineClient): Promise<void> {
    const generation = ++this.generation;
    const all = await client.listContainers(true).catch(() => undefined);
    if (!all || generation !== this.generation) return;
    this.byId.clear();
    for (const c of all) {
      const view = containerView(c);
      this.byId.set(view.id, view);
    }
    this.pending = { reset: true, upsert: new Set(), remove: new Set() };
    this.publish();
    // Start times come from inspect; fill them in behind the first paint, a few at a time.
    const queue = all.map((c) => c.Id!).filter(Boolean);
    const worker = async (): Promise<void> => {
      for (let id = queue.shift(); id !== undefined && generation === this.generation; id = queue.shift()) {
        if (this.refreshing.has(id)) continue; // an event is refreshing it already
        const inspect = await client.inspectContainer(id).catch(() => undefined);
        const current = this.byId.get(id);
        if (inspect && current && !this.refreshing.has(id)) this.set(withTimes(current, inspect), true);
      }
    };
    await Promise.all(Array.from({ length: INSPECT_CONCURRENCY }, worker));
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
    if (action === 'destroy') this.delete(id);
    const expected = stateAfter[action];
    // Show what the event itself says at once (the new state, a new name); the refresh below
    // then brings the engine's status line and times.
    const current = this.byId.get(id);
    const renamed = action === 'rename' ? event.Actor?.Attributes?.name?.replace(/^\//, '') : undefined;
    // A death is shown with its exit code or not at all (the refresh brings both), so the window
    // can tell a crash from a stop.
    const exitCode = action === 'die' ? Number(event.Actor?.Attributes?.exitCode ?? NaN) : undefined;
    const dieWithoutCode = action === 'die' && !Number.isInteger(exitCode);
    if (current && !dieWithoutCode && ((expected && expected !== current.state) || (renamed && renamed !== current.name))) {
      this.set({
        ...current,
        state: (expected as ContainerView['state'] | undefined) ?? current.state,
        name: renamed ?? current.name,
        ...(action === 'die' ? { exitCode, finishedAt: event.time ? new Date(event.time * 1000).toISOString() : current.finishedAt } : {}),
      });
    }
    // A rename changes nothing but the name, which the event carries: no need to ask the engine,
    // unless an answer is on its way that may predate the rename (then it is asked again below).
    if (action === 'rename' && current && renamed && !this.refreshing.has(id)) return;
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
      const found = await this.fetch(client, id);
      // A newer event arrived while this answer was on its way: it may predate that event, so
      // ask again rather than show a state the window has already moved past.
      if (entry.dirty) continue;
      // dockerd emits some events (pause, die) before its list view has the new state: keep
      // showing what the event said and ask again a little later, up to six times.
      if (found && entry.expected && found.state !== entry.expected && retries < 6) {
        await new Promise((r) => setTimeout(r, 50 * 2 ** retries++));
        continue;
      }
      if (found) this.set(found.view);
      else this.delete(id);
      entry.expected = undefined;
    }
  }

  /** The list entry (filtered to this id: it has the status line) plus inspect's times. */
  private async fetch(client: EngineClient, id: string): Promise<{ view: ContainerView; state?: string } | undefined> {
    const [summary, inspect] = await Promise.all([
      client.listContainers(true, { id: [id] }).then((all) => all.find((c: ContainerSummary) => c.Id === id), () => undefined),
      client.inspectContainer(id).catch(() => undefined),
    ]);
    if (!summary) return undefined;
    const view = containerView(summary);
    return { view: inspect ? withTimes(view, inspect) : view, state: summary.State };
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

/** Engines write "0001-01-01T00:00:00Z" for a time that never happened. */
const realTime = (t?: string): string | undefined => (t && !t.startsWith('0001-') ? t : undefined);

function withTimes(view: ContainerView, inspect: ContainerInspect): ContainerView {
  return {
    ...view,
    startedAt: realTime(inspect.State?.StartedAt),
    finishedAt: realTime(inspect.State?.FinishedAt),
    exitCode: inspect.State?.ExitCode,
  };
}
