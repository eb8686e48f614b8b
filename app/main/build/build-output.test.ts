import { describe, expect, it } from 'vitest';
import { BuildOutput, humanSize } from './build-output.js';

describe('the classic builder progress stream', () => {
  it('passes the log through and takes the image id from aux', () => {
    const out = new BuildOutput();
    expect(out.apply({ stream: 'Step 1/2 : FROM busybox\n' })).toBe('Step 1/2 : FROM busybox\n');
    expect(out.apply({ aux: { ID: 'sha256:abc' } })).toBe('');
    expect(out.apply({ stream: 'Successfully built 0123456789ab\n' })).toContain('Successfully built');
    expect(out.imageId).toBe('sha256:abc');
    expect(out.error).toBeUndefined();
  });

  it('falls back to "Successfully built" from engines that send no aux', () => {
    const out = new BuildOutput();
    out.apply({ stream: 'Successfully built 0123456789ab\n' });
    expect(out.imageId).toBe('0123456789ab');
  });

  it('keeps dockerd\'s error message and shows it in red', () => {
    const out = new BuildOutput();
    const message = "The command '/bin/sh -c exit 3' returned a non-zero code: 3";
    const text = out.apply({ errorDetail: { code: 3, message }, error: message });
    expect(out.error).toBe(message);
    expect(text).toContain(message);
    expect(text).toContain('\x1b[31m');
  });

  it('shows a base image pull once per layer and status, without progress ticks', () => {
    const out = new BuildOutput();
    const lines = [
      { status: 'Pulling from library/busybox', id: 'latest' },
      { status: 'Downloading', id: 'aaa', progress: '[=>  ] 1kB/2kB' },
      { status: 'Downloading', id: 'aaa', progress: '[==> ] 2kB/2kB' },
      { status: 'Pull complete', id: 'aaa' },
      { status: 'Digest: sha256:1' },
    ].map((m) => out.apply(m)).join('');
    expect(lines).toBe('latest: Pulling from library/busybox\naaa: Downloading\naaa: Pull complete\nDigest: sha256:1\n');
  });
});

describe('humanSize', () => {
  it('words sizes as the docker CLI does', () => {
    expect(humanSize(0)).toBe('0B');
    expect(humanSize(2048)).toBe('2.048kB');
    expect(humanSize(12_290_000)).toBe('12.29MB');
    expect(humanSize(999)).toBe('999B');
  });
});
