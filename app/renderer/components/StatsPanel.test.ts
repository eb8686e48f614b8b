import { describe, expect, it } from 'vitest';
import type { ContainerStatsSample } from '../../shared/views.js';
import { statsPoint } from './StatsPanel.js';

const sample = (at: string, rx: number, write: number): ContainerStatsSample => ({
  id: 'c', cpuPercent: 12.5, memoryBytes: 1000, memoryLimit: 0, networkRx: rx, networkTx: 0, blockRead: 0, blockWrite: write, at,
});

describe('statsPoint', () => {
  it('turns counters into per-second rates between samples', () => {
    const a = sample('2026-01-01T00:00:00Z', 1000, 0);
    const b = sample('2026-01-01T00:00:02Z', 5000, 4096);
    expect(statsPoint(a, b)).toEqual({ cpu: 12.5, memory: 1000, rx: 2000, tx: 0, read: 0, write: 2048 });
  });

  it('shows no rate for the first sample and never a negative one (a counter reset)', () => {
    expect(statsPoint(undefined, sample('2026-01-01T00:00:00Z', 9000, 10)).rx).toBe(0);
    expect(statsPoint(sample('2026-01-01T00:00:00Z', 9000, 0), sample('2026-01-01T00:00:01Z', 10, 0)).rx).toBe(0);
  });
});
