import { describe, expect, it } from 'vitest';
import { PullOperation } from './pull-operation';
import type { ProgressMessage } from './progress';

function deferred() {
  let resolve!: (v: string) => void;
  const promise = new Promise<string>((r) => (resolve = r));
  return { promise, resolve };
}

describe('a pull shared by its requesters', () => {
  it('replays what was said to a late joiner, then streams to both, and gives both the result', async () => {
    const gate = deferred();
    let emit!: (m: ProgressMessage) => void;
    const op = new PullOperation<string>(async (sink) => {
      emit = sink;
      sink({ status: 'Pulling from x', id: 'latest' });
      return gate.promise;
    });
    const a: ProgressMessage[] = [];
    const b: ProgressMessage[] = [];
    const first = op.attach((m) => a.push(m), new AbortController().signal);
    emit({ status: 'Downloading', progressDetail: { current: 1, total: 10 }, id: 'l' });
    emit({ status: 'Downloading', progressDetail: { current: 5, total: 10 }, id: 'l' });
    const second = op.attach((m) => b.push(m), new AbortController().signal);
    emit({ status: 'Pull complete', progressDetail: {}, id: 'l' });
    gate.resolve('sha256:id');
    expect(await first).toBe('sha256:id');
    expect(await second).toBe('sha256:id');
    expect(a.map((m) => m.status)).toEqual(['Pulling from x', 'Downloading', 'Downloading', 'Pull complete']);
    // The joiner sees the latest byte progress, not every step of it.
    expect(b).toEqual([{ status: 'Pulling from x', id: 'latest' }, { status: 'Downloading', progressDetail: { current: 5, total: 10 }, id: 'l' }, { status: 'Pull complete', progressDetail: {}, id: 'l' }]);
  });

  it('goes on while one requester remains, and is cancelled when the last one leaves', async () => {
    let pullSignal!: AbortSignal;
    const op = new PullOperation<string>((_sink, signal) => {
      pullSignal = signal;
      return new Promise((_r, reject) => signal.addEventListener('abort', () => reject(new Error('cancelled'))));
    });
    const leaveA = new AbortController();
    const leaveB = new AbortController();
    const a = op.attach(() => undefined, leaveA.signal);
    const b = op.attach(() => undefined, leaveB.signal);
    leaveA.abort();
    await expect(a).rejects.toThrow();
    expect(pullSignal.aborted).toBe(false);
    leaveB.abort();
    await expect(b).rejects.toThrow();
    expect(pullSignal.aborted).toBe(true);
  });
});
