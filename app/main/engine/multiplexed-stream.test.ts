import { describe, expect, it } from 'vitest';
import { MultiplexedStreamDecoder, encodeFrame, type StreamKind } from './multiplexed-stream.js';

const frames: Array<[StreamKind, string]> = [
  ['stdout', 'hello\n'],
  ['stderr', 'warning: ünïcödé ✓\n'],
  ['stdout', ''],
  ['stdout', 'x'.repeat(70_000)],
  ['stderr', 'last'],
];
const wire = Buffer.concat(frames.map(([s, t]) => encodeFrame(s, Buffer.from(t))));

function decodeInPieces(chunks: Buffer[]): { stdout: string; stderr: string; boundary: boolean } {
  const decoder = new MultiplexedStreamDecoder();
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  for (const chunk of chunks) {
    for (const piece of decoder.push(chunk)) out[piece.stream as 'stdout' | 'stderr'].push(piece.data);
  }
  return { stdout: Buffer.concat(out.stdout).toString(), stderr: Buffer.concat(out.stderr).toString(), boundary: decoder.atFrameBoundary };
}

const expected = {
  stdout: frames.filter(([s]) => s === 'stdout').map(([, t]) => t).join(''),
  stderr: frames.filter(([s]) => s === 'stderr').map(([, t]) => t).join(''),
};

/** A small seeded generator so a failing split can be reproduced. */
function splitter(seed: number): (max: number) => number {
  let x = seed;
  return (max) => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return 1 + (x % max);
  };
}

describe('MultiplexedStreamDecoder', () => {
  it('separates stdout and stderr when the wire arrives in one chunk', () => {
    expect(decodeInPieces([wire])).toEqual({ ...expected, boundary: true });
  });

  it('gives the same result for every two-chunk split, including inside headers', () => {
    const small = Buffer.concat([encodeFrame('stdout', Buffer.from('ab')), encodeFrame('stderr', Buffer.from('cde')), encodeFrame('stdout', Buffer.from('f'))]);
    for (let cut = 0; cut <= small.length; cut++) {
      expect(decodeInPieces([small.subarray(0, cut), small.subarray(cut)])).toEqual({ stdout: 'abf', stderr: 'cde', boundary: true });
    }
  });

  it('gives the same result for random splits down to single bytes', () => {
    for (const seed of [1, 7, 42, 1234]) {
      const next = splitter(seed);
      const chunks: Buffer[] = [];
      for (let at = 0; at < wire.length;) {
        const n = next(seed === 1 ? 3 : 9000);
        chunks.push(wire.subarray(at, at + n));
        at += n;
      }
      expect(decodeInPieces(chunks)).toEqual({ ...expected, boundary: true });
    }
  });

  it('reports a stream cut inside a frame as not at a boundary', () => {
    expect(decodeInPieces([wire.subarray(0, wire.length - 2)]).boundary).toBe(false);
    expect(decodeInPieces([wire.subarray(0, 3)]).boundary).toBe(false);
  });

  it('rejects a header that is not a frame header (a tty stream read as multiplexed)', () => {
    const decoder = new MultiplexedStreamDecoder();
    expect(() => decoder.push(Buffer.from('plain text from a tty'))).toThrow(/malformed multiplexed stream/);
  });
});
