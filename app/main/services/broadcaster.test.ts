import { describe, expect, it } from 'vitest';
import { coalesceTurn } from './broadcaster.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('coalesceTurn', () => {
  it('makes the calls of one turn into one call at its end, and calls again for a later turn', async () => {
    let calls = 0;
    const publish = coalesceTurn(() => calls++);
    publish();
    await Promise.resolve(); // promise jobs of the same turn join the same call
    publish();
    expect(calls).toBe(0);
    await nextTurn();
    expect(calls).toBe(1);
    publish();
    await nextTurn();
    expect(calls).toBe(2);
    await nextTurn();
    expect(calls).toBe(2);
  });
});
