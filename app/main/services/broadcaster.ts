// Fans main-process events out to whoever listens: the Electron window, web mode's sockets.
import type { EventChannel, EventChannels } from '../../shared/contract.js';

export type Emit = <E extends EventChannel>(channel: E, payload: EventChannels[E]) => void;

export class Broadcaster {
  private readonly listeners = new Set<Emit>();

  readonly emit: Emit = (channel, payload) => {
    for (const listener of this.listeners) listener(channel, payload);
  };

  listen(listener: Emit): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Coalesces bursts (a compose up fires dozens of events) into one call per tick. */
export function coalesce(fn: () => void, ms = 16): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
  };
}

/**
 * Coalesces the calls made in one turn of the event loop into one call at its end (setImmediate
 * runs once the I/O callbacks and promise jobs of the turn are done): a burst parsed from one
 * chunk of the events stream goes out together, and a single change goes out without a timer.
 */
export function coalesceTurn(fn: () => void): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    setImmediate(() => {
      queued = false;
      fn();
    });
  };
}
