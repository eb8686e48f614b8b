// A running container's stats: CPU, memory, network and block I/O as numbers and as the last
// minute's charts. Rates come from the difference between consecutive samples.
import { useEffect, useState } from 'react';
import type { ContainerStatsSample } from '../../shared/views.js';
import { berth } from '../berth.js';
import { formatBytes } from './format.js';

const KEEP = 60;

export interface StatsPoint { cpu: number; memory: number; rx: number; tx: number; read: number; write: number }

/** Turns cumulative counters into per-second rates between two samples. */
export function statsPoint(prev: ContainerStatsSample | undefined, s: ContainerStatsSample): StatsPoint {
  const seconds = prev ? Math.max(0.001, (Date.parse(s.at) - Date.parse(prev.at)) / 1000) : 1;
  const rate = (now: number, before: number | undefined) => (before === undefined ? 0 : Math.max(0, (now - before) / seconds));
  return {
    cpu: s.cpuPercent, memory: s.memoryBytes,
    rx: rate(s.networkRx, prev?.networkRx), tx: rate(s.networkTx, prev?.networkTx),
    read: rate(s.blockRead, prev?.blockRead), write: rate(s.blockWrite, prev?.blockWrite),
  };
}

export function StatsPanel({ id, running }: { id: string; running: boolean }) {
  const [latest, setLatest] = useState<ContainerStatsSample | null>(null);
  const [points, setPoints] = useState<StatsPoint[]>([]);
  useEffect(() => {
    if (!running) return;
    const api = berth();
    let streamId: string | undefined;
    let closed = false;
    let prev: ContainerStatsSample | undefined;
    setPoints([]);
    const off = api.on('stats:sample', (m) => {
      if (m.streamId !== streamId) return;
      const point = statsPoint(prev, m.sample);
      prev = m.sample;
      setLatest(m.sample);
      setPoints((p) => [...p.slice(-(KEEP - 1)), point]);
    });
    void api.stats.open(id).then((s) => { if (closed) void api.stats.close(s); else streamId = s; });
    return () => { closed = true; off(); if (streamId) void api.stats.close(streamId); };
  }, [id, running]);
  if (!running) return <p className="empty">Stats are shown while the container runs.</p>;
  if (!latest) return <p className="empty">Waiting for the first sample…</p>;
  const last = points[points.length - 1];
  return (
    <div className="stats">
      <Chart title="CPU" value={`${latest.cpuPercent.toFixed(1)} %`} series={[points.map((p) => p.cpu)]} />
      <Chart title="Memory" value={`${formatBytes(latest.memoryBytes)}${latest.memoryLimit ? ` / ${formatBytes(latest.memoryLimit)}` : ''}`} series={[points.map((p) => p.memory)]} />
      <Chart title="Network" value={`↓ ${formatBytes(last?.rx ?? 0)}/s · ↑ ${formatBytes(last?.tx ?? 0)}/s`} series={[points.map((p) => p.rx), points.map((p) => p.tx)]} />
      <Chart title="Block I/O" value={`read ${formatBytes(last?.read ?? 0)}/s · write ${formatBytes(last?.write ?? 0)}/s`} series={[points.map((p) => p.read), points.map((p) => p.write)]} />
    </div>
  );
}

/** A small line chart of up to two series, scaled to its own maximum. */
function Chart({ title, value, series }: { title: string; value: string; series: number[][] }) {
  const max = Math.max(1e-9, ...series.flat());
  // The newest sample sits at the right edge; the minute scrolls in from there.
  const line = (values: number[]) => values.map((v, i) => `${((KEEP - values.length + i) / (KEEP - 1)) * 100},${40 - (v / max) * 36}`).join(' ');
  return (
    <figure className="chart" aria-label={title}>
      <figcaption><span className="muted">{title}</span><strong>{value}</strong></figcaption>
      <svg viewBox="0 0 100 40" preserveAspectRatio="none" role="img" aria-label={`${title} over the last minute`}>
        {series.map((values, i) => <polyline key={i} className={`series-${i}`} points={line(values)} />)}
      </svg>
    </figure>
  );
}
