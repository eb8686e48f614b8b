// The benchmark harness: every figure is measured on berthd and on a baseline in the same run
// (the reference dockerd, or the bare tool berthd drives), and reported as a ratio to it. Figures
// are plain objects so each component adds its own in bench/figures/.
import { performance } from 'node:perf_hooks';
import type { Berthd } from '../e2e/berthd';

export interface Engines {
  berthd: Berthd;
  /** The reference dockerd, when ../shared/tools/reference-dockerd could start it. */
  reference?: { socket: string; env: NodeJS.ProcessEnv };
}

export interface Measurement {
  berth: number;
  /** The same figure on the baseline; absent when the baseline could not run here. */
  baseline?: number;
  /** What the baseline is: "dockerd", "dockerd + containerd", "runc alone". */
  baselineName?: string;
  note?: string;
  /** Whether the absolute goal is met, when the figure judges it by more than the number shown. */
  absoluteMet?: boolean;
}

export interface Figure {
  name: string;
  unit: 'ms' | 'MiB' | 'MB/s' | 's';
  /** Lower is better for times and memory, higher for throughput. */
  better: 'lower' | 'higher';
  /** The goal as a ratio to the baseline: ≤ goal when lower is better, ≥ when higher. */
  goal?: number;
  /** The goal in the figure's own unit, where it sets an absolute one (≤ 16 ms, ≤ 3 s). */
  absoluteGoal?: number;
  measure(engines: Engines): Promise<Measurement>;
}

/** Median of `n` timed runs of `fn`, after `warmup` untimed ones; in milliseconds. */
export async function medianMs(fn: () => Promise<unknown>, n: number, warmup = 3): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

export interface Row {
  figure: Figure;
  result?: Measurement;
  error?: string;
}

const fmt = (v: number | undefined, unit: string) => (v === undefined ? '—' : `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ${unit}`);

/** The table `npm run bench` prints: one row per figure, the ratio to its baseline and the goal. */
export function renderTable(rows: Row[]): string {
  const header = ['figure', 'berthd', 'baseline', 'ratio', 'goal', 'met'];
  const lines = rows.map(({ figure, result, error }) => {
    if (!result) return [figure.name, `error: ${error}`, '', '', '', ''];
    const ratio = result.baseline ? result.berth / result.baseline : undefined;
    const sign = figure.better === 'lower' ? '≤' : '≥';
    const within = (value: number, goal: number) => (figure.better === 'lower' ? value <= goal : value >= goal);
    const goals: string[] = [];
    const verdicts: boolean[] = [];
    if (figure.goal !== undefined) {
      goals.push(`${sign} ${figure.goal}×`);
      if (ratio !== undefined) verdicts.push(within(ratio, figure.goal));
    }
    if (figure.absoluteGoal !== undefined) {
      goals.push(`${sign} ${figure.absoluteGoal} ${figure.unit}`);
      verdicts.push(result.absoluteMet ?? within(result.berth, figure.absoluteGoal));
    }
    const goal = goals.join(', ');
    const met = verdicts.length === 0 ? '' : verdicts.every(Boolean) ? 'yes' : 'no';
    const baseline = result.baseline === undefined ? '—' : `${fmt(result.baseline, figure.unit)} (${result.baselineName ?? 'dockerd'})`;
    return [figure.name, fmt(result.berth, figure.unit), baseline, ratio === undefined ? '—' : `${ratio.toFixed(2)}×`, goal, met + (result.note ? ` ${result.note}` : '')];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [row(header), row(widths.map((w) => '-'.repeat(w))), ...lines.map(row)].join('\n');
}
