import { describe, it, expect } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { WorkerHasher, stopHashWorker } from './hash-worker';

describe('WorkerHasher', () => {
  it('digests interleaved streams on the worker exactly as crypto does, with back-pressure', async () => {
    const a = new WorkerHasher();
    const b = new WorkerHasher();
    const refA = createHash('sha256');
    const refB = createHash('sha256');
    const big = randomBytes(4 << 20);
    let waits = 0;
    for (let i = 0; i < 24; i++) {
      // Views into a larger buffer, as tar parsing hands them out.
      const chunk = big.subarray(i * 1000, i * 1000 + (1 << 20) * 3);
      refA.update(chunk);
      const w = a.update(chunk);
      if (w) {
        waits++;
        await w;
      }
      refB.update(chunk.subarray(0, 10));
      await b.update(chunk.subarray(0, 10));
    }
    expect(waits).toBeGreaterThan(0);
    expect(await a.digest()).toBe(`sha256:${refA.digest('hex')}`);
    expect(await b.digest()).toBe(`sha256:${refB.digest('hex')}`);
    const empty = new WorkerHasher();
    expect(await empty.digest()).toBe(`sha256:${createHash('sha256').digest('hex')}`);
  });

  it('fails the streams it was hashing when the worker dies, and starts a new one after', async () => {
    const h = new WorkerHasher();
    await h.update(Buffer.from('some bytes'));
    await stopHashWorker();
    await expect(h.digest()).rejects.toThrow(/hashing worker exited/);
    await expect(h.update(Buffer.from('more')) ?? Promise.resolve()).rejects.toThrow(/hashing worker exited/);
    const next = new WorkerHasher();
    await next.update(Buffer.from('abc'));
    expect(await next.digest()).toBe(`sha256:${createHash('sha256').update('abc').digest('hex')}`);
  });
});
