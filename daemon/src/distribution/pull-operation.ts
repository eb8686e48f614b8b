// One pull in flight, shared by every request for the same image and platform: a second
// `docker pull` of an image being pulled joins the first (it sees the progress so far, then the
// rest) instead of downloading it twice. The pull is cancelled only when every requester has left.
import type { ProgressMessage, ProgressSink } from './progress';
import { abortError } from '../engine/job';

/** Messages kept for late joiners; byte progress is folded so a long pull stays small. */
const HISTORY_LIMIT = 10_000;

export class PullOperation<T> {
  private readonly history: ProgressMessage[] = [];
  private readonly sinks = new Set<ProgressSink>();
  private readonly controller = new AbortController();
  private attached = 0;
  readonly done: Promise<T>;

  constructor(run: (sink: ProgressSink, signal: AbortSignal) => Promise<T>) {
    this.done = run((m) => this.publish(m), this.controller.signal);
    this.done.catch(() => undefined);
  }

  private publish(m: ProgressMessage): void {
    const last = this.history[this.history.length - 1];
    if (m.progressDetail?.total !== undefined && last && last.id === m.id && last.status === m.status && last.progressDetail?.total !== undefined) {
      this.history[this.history.length - 1] = m;
    } else if (this.history.length < HISTORY_LIMIT) {
      this.history.push(m);
    }
    for (const sink of this.sinks) sink(m);
  }

  /**
   * Follows the pull: replays what was said so far, then streams. Resolves with the pull's result;
   * rejects when the pull fails or when `signal` aborts (leaving the pull to the others).
   */
  async attach(sink: ProgressSink, signal: AbortSignal): Promise<T> {
    for (const m of this.history) sink(m);
    this.sinks.add(sink);
    this.attached++;
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([
        this.done,
        new Promise<never>((_resolve, reject) => {
          onAbort = () => reject(abortError(signal));
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
      this.sinks.delete(sink);
      this.attached--;
      if (this.attached === 0 && signal.aborted) this.controller.abort(signal.reason);
    }
  }
}
