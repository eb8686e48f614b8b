import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { frame, framedWriter, MultiplexedStreamReader, StreamType } from './multiplexed-stream';

function collect(): { reader: MultiplexedStreamReader; out: Record<number, Buffer[]> } {
  const out: Record<number, Buffer[]> = { 1: [], 2: [], 3: [] };
  const reader = new MultiplexedStreamReader((t, p) => out[t]!.push(Buffer.from(p)));
  return { reader, out };
}

describe('multiplexed stream', () => {
  it('frames with an 8-byte header: type, three zero bytes, big-endian length', () => {
    const f = frame(StreamType.Stderr, Buffer.from('hello'));
    expect([...f.subarray(0, 8)]).toEqual([2, 0, 0, 0, 0, 0, 0, 5]);
    expect(f.subarray(8).toString()).toBe('hello');
    const big = frame(StreamType.Stdout, Buffer.alloc(70_000));
    expect(big.readUInt32BE(4)).toBe(70_000);
  });

  it('parses frames split at every possible byte boundary', () => {
    const stream = Buffer.concat([
      frame(StreamType.Stdout, Buffer.from('out-1\n')),
      frame(StreamType.Stderr, Buffer.from('err\n')),
      frame(StreamType.Stdout, Buffer.from('out-2')),
    ]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const { reader, out } = collect();
      reader.push(stream.subarray(0, cut));
      reader.push(stream.subarray(cut));
      expect(Buffer.concat(out[1]!).toString()).toBe('out-1\nout-2');
      expect(Buffer.concat(out[2]!).toString()).toBe('err\n');
      expect(reader.atBoundary).toBe(true);
    }
  });

  it('parses a stream fed one byte at a time', () => {
    const stream = Buffer.concat([frame(StreamType.Stdout, Buffer.from('abc')), frame(StreamType.Stderr, Buffer.from('de'))]);
    const { reader, out } = collect();
    for (const b of stream) reader.push(Buffer.from([b]));
    expect(Buffer.concat(out[1]!).toString()).toBe('abc');
    expect(Buffer.concat(out[2]!).toString()).toBe('de');
  });

  it('reports a truncated stream as not at a boundary', () => {
    const { reader } = collect();
    reader.push(frame(StreamType.Stdout, Buffer.from('abcdef')).subarray(0, 10));
    expect(reader.atBoundary).toBe(false);
  });

  it('rejects an unknown stream type', () => {
    const { reader } = collect();
    expect(() => reader.push(Buffer.from([9, 0, 0, 0, 0, 0, 0, 1, 65]))).toThrow(/unknown stream type 9/);
  });

  it('writes stdout and stderr into one destination that the reader splits again', async () => {
    const dest = new PassThrough();
    const chunks: Buffer[] = [];
    dest.on('data', (c: Buffer) => chunks.push(c));
    const stdout = framedWriter(dest, StreamType.Stdout);
    const stderr = framedWriter(dest, StreamType.Stderr);
    await new Promise<void>((r) => stdout.write('one', () => r()));
    await new Promise<void>((r) => stderr.write('two', () => r()));
    await new Promise<void>((r) => stdout.write('three', () => r()));
    const { reader, out } = collect();
    reader.push(Buffer.concat(chunks));
    expect(Buffer.concat(out[1]!).toString()).toBe('onethree');
    expect(Buffer.concat(out[2]!).toString()).toBe('two');
  });
});
