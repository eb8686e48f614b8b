// Follows the engine's /events stream and reconnects when it drops (engine restart, socket gone),
// resuming from the last event seen so nothing in between is lost. Each (re)connection is
// reported, because a consumer that was disconnected must resynchronise its whole state.
import type { EngineClient, EventMessage } from './engine-client.js';

export interface EventsWatcherHandlers {
  onEvent(event: EventMessage): void;
  /** Called on every successful (re)connection, before the events that follow it. */
  onConnected(): void;
  onDisconnected(error: Error): void;
}

export class EventsWatcher {
  private readonly controller = new AbortController();
  private lastSince?: string;
  private delay = 250;

  constructor(private readonly client: EngineClient, private readonly handlers: EventsWatcherHandlers, private readonly maxDelay = 5000) {}

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.controller.abort();
  }

  private async loop(): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      try {
        const stream = await this.client.events(this.lastSince, signal);
        this.delay = 250;
        this.handlers.onConnected();
        for await (const event of stream) this.deliver(event);
        if (!signal.aborted) this.handlers.onDisconnected(new Error('the engine closed the events stream'));
      } catch (err) {
        if (signal.aborted) return;
        this.handlers.onDisconnected(err as Error);
      }
      await sleep(this.delay, signal);
      this.delay = Math.min(this.delay * 2, this.maxDelay);
    }
  }

  private deliver(event: EventMessage): void {
    if (event.timeNano) this.lastSince = (event.timeNano / 1e9).toFixed(9);
    else if (event.time) this.lastSince = String(event.time);
    this.handlers.onEvent(event);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}
