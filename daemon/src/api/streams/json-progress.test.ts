import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { humanSize, JsonProgressWriter, progressBar } from './json-progress';

function lines(run: (w: JsonProgressWriter) => void): unknown[] {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  run(new JsonProgressWriter(out));
  return text.split('\r\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('JSON progress stream', () => {
  it('sizes like go-units: decimal with three significant digits', () => {
    expect(humanSize(0)).toBe('0B');
    expect(humanSize(999)).toBe('999B');
    expect(humanSize(1234)).toBe('1.23kB');
    expect(humanSize(41_943_040)).toBe('41.9MB');
  });

  it('draws a bar that fills with progress', () => {
    expect(progressBar(0, 100)).toBe(`[${' '.repeat(50)}] 0B/100B`);
    expect(progressBar(50, 100)).toBe(`[${'='.repeat(24)}>${' '.repeat(25)}] 50B/100B`);
    expect(progressBar(100, 100)).toBe(`[${'='.repeat(50)}] 100B/100B`);
  });

  it('writes one JSON message per CRLF-terminated line in the shape the docker CLI reads', () => {
    expect(lines((w) => {
      w.status('Pulling from library/busybox', 'latest');
      w.progress('a1b2c3', 'Downloading', 10, 40);
      w.status('Digest: sha256:abc');
      w.error('manifest unknown');
    })).toEqual([
      { status: 'Pulling from library/busybox', progressDetail: {}, id: 'latest' },
      { status: 'Downloading', progressDetail: { current: 10, total: 40 }, progress: progressBar(10, 40), id: 'a1b2c3' },
      { status: 'Digest: sha256:abc' },
      { errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' },
    ]);
  });
});
