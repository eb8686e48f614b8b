import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { JsonProgressWriter } from './json-progress';
import { progressString } from '../../distribution/progress';

function lines(run: (w: JsonProgressWriter) => void): unknown[] {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  run(new JsonProgressWriter(out));
  return text.split('\r\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('JSON progress stream', () => {
  it('writes one JSON message per CRLF-terminated line in the shape the docker CLI reads', () => {
    expect(lines((w) => {
      w.status('Pulling from library/busybox', 'latest');
      w.progress('a1b2c3', 'Loading layer', 10, 40);
      w.stream('Step 1/2 : FROM busybox\n');
      w.status('Digest: sha256:abc');
      w.error('manifest unknown');
    })).toEqual([
      { status: 'Pulling from library/busybox', progressDetail: {}, id: 'latest' },
      { status: 'Loading layer', progressDetail: { current: 10, total: 40 }, progress: progressString(10, 40), id: 'a1b2c3' },
      { stream: 'Step 1/2 : FROM busybox\n' },
      { status: 'Digest: sha256:abc' },
      { errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' },
    ]);
  });
});
