import { describe, expect, it } from 'vitest';
import { DetachScanner, parseDetachKeys } from './attach';

async function scan(keys: number[], chunks: string[]): Promise<{ out: string; detached: boolean }> {
  let detached = false;
  const s = new DetachScanner(keys, () => (detached = true));
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString('latin1')));
  for (const c of chunks) s.write(Buffer.from(c, 'latin1'));
  await new Promise((r) => setImmediate(r));
  return { out, detached };
}

describe('detach keys', () => {
  it('parses dockerd key specs', () => {
    expect(parseDetachKeys(undefined)).toEqual([16, 17]);
    expect(parseDetachKeys('ctrl-a,x,ctrl-@,ctrl-_')).toEqual([1, 120, 0, 31]);
    expect(() => parseDetachKeys('ctrl-aa')).toThrow('Invalid detach keys (ctrl-aa) provided');
  });
  it('detaches on the sequence, even split across reads, without passing it on', async () => {
    expect(await scan([16, 17], ['ab\x10', '\x11cd'])).toEqual({ out: 'ab', detached: true });
  });
  it('passes a broken sequence through, and restarts matching on its last byte', async () => {
    expect(await scan([16, 17], ['a\x10b'])).toEqual({ out: 'a\x10b', detached: false });
    expect(await scan([16, 17], ['\x10\x10\x11'])).toEqual({ out: '\x10', detached: true });
  });
});
