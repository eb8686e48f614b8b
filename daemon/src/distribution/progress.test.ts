import { describe, expect, it } from 'vitest';
import { ByteProgress, humanSize, ProgressOutput, progressString, type ProgressMessage } from './progress';

describe('dockerd progress messages', () => {
  it('draws the bar byte for byte as dockerd sent it for the busybox and multilayer pulls', () => {
    // Captured from dockerd 20.10 pulling the fixtures from a loopback registry.
    expect(progressString(32768, 1088613)).toBe('[=>                                                 ]  32.77kB/1.089MB');
    expect(progressString(1088613, 1088613)).toBe('[==================================================>]  1.089MB/1.089MB');
    expect(progressString(458752, 43038346)).toBe('[>                                                  ]  458.8kB/43.04MB');
    expect(progressString(20643840, 43038346)).toBe('[=======================>                           ]  20.64MB/43.04MB');
  });

  it('sizes like go-units HumanSize: decimal, four significant digits', () => {
    expect(humanSize(0)).toBe('0B');
    expect(humanSize(999)).toBe('999B');
    expect(humanSize(1000)).toBe('1kB');
    expect(humanSize(43038346)).toBe('43.04MB');
    expect(progressString(5, 0)).toBe('      5B');
  });

  it('writes Message lines without progressDetail and Update lines with an empty one', () => {
    const got: ProgressMessage[] = [];
    const out = new ProgressOutput((m) => got.push(m));
    out.message('latest', 'Pulling from busybox');
    out.update('bb1e1a8892ba', 'Pulling fs layer');
    out.message(undefined, 'Digest: sha256:x');
    out.aux({ Tag: 'v1' });
    expect(got.map((m) => JSON.stringify(m))).toEqual([
      '{"status":"Pulling from busybox","id":"latest"}',
      '{"status":"Pulling fs layer","progressDetail":{},"id":"bb1e1a8892ba"}',
      '{"status":"Digest: sha256:x"}',
      '{"progressDetail":{},"aux":{"Tag":"v1"}}',
    ]);
  });

  it('reports bytes at dockerd\'s cadence: every 1% (at most 512 kB), the last one always', () => {
    const got: ProgressMessage[] = [];
    const p = new ByteProgress(new ProgressOutput((m) => got.push(m)), 'l', 'Downloading', 1000);
    for (let i = 0; i < 100; i++) p.add(10);
    // The first update past 1% goes out; the rest inside 100 ms are held back but the last.
    expect(got[0]!.progressDetail).toEqual({ current: 20, total: 1000 });
    expect(got.at(-1)!.progressDetail).toEqual({ current: 1000, total: 1000 });
    expect(got.length).toBe(2);
  });
});
