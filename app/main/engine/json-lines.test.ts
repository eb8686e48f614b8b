import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { JsonLinesDecoder, readJsonLines } from './json-lines.js';

const values = [
  { status: 'Pulling from library/busybox', id: 'latest' },
  { status: 'Downloading', progressDetail: { current: 1024, total: 4096 }, id: 'a1b2' },
  { Type: 'container', Action: 'start', Actor: { Attributes: { name: 'wëb ✓' } } },
  { message: 'line with a \\n escaped newline\nand more' },
];
// dockerd ends progress messages with \r\n and events with \n; both must parse.
const wire = Buffer.from(values.map((v, i) => JSON.stringify(v) + (i % 2 ? '\r\n' : '\n')).join(''));

function decodeChunks(chunks: Buffer[]): unknown[] {
  const decoder = new JsonLinesDecoder();
  return [...chunks.flatMap((c) => decoder.push(c)), ...decoder.end()];
}

describe('JsonLinesDecoder', () => {
  it('parses every value when the stream arrives whole', () => {
    expect(decodeChunks([wire])).toEqual(values);
  });

  it('parses the same values for every two-chunk split, including inside multi-byte characters', () => {
    for (let cut = 0; cut <= wire.length; cut++) {
      expect(decodeChunks([wire.subarray(0, cut), wire.subarray(cut)])).toEqual(values);
    }
  });

  it('parses the same values when fed one byte at a time', () => {
    const bytes = [...wire].map((b) => Buffer.from([b]));
    expect(decodeChunks(bytes)).toEqual(values);
  });

  it('keeps a final value that has no trailing newline and skips blank lines', () => {
    expect(decodeChunks([Buffer.from('\n{"a":1}\n\n{"b":2}')])).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('names the bad line when the stream is not JSON', () => {
    const decoder = new JsonLinesDecoder();
    expect(() => decoder.push('{"ok":true}\nnot json\n')).toThrow(/cannot parse line "not json"/);
  });

  it('reads a Node stream as an async sequence', async () => {
    const chunks = [wire.subarray(0, 10), wire.subarray(10, 77), wire.subarray(77)];
    const seen: unknown[] = [];
    for await (const v of readJsonLines(Readable.from(chunks))) seen.push(v);
    expect(seen).toEqual(values);
  });
});
