// Live stats for one window: the engine's stats stream turned into the numbers `docker stats` shows.
import { randomUUID } from 'node:crypto';
import type { ContainerStatsSample } from '../../shared/views.js';
import type { ContainerStats } from '../engine/engine-client.js';
import type { Emit } from './broadcaster.js';
import type { EngineService } from './engine-service.js';

export function statsSample(id: string, s: ContainerStats): ContainerStatsSample {
  const cpuDelta = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats?.online_cpus || s.cpu_stats?.cpu_usage?.percpu_usage?.length || 1;
  // The first sample has no previous one (precpu is empty): no rate yet, like `docker stats`.
  const hasPrevious = Boolean(s.precpu_stats?.system_cpu_usage);
  const cpuPercent = hasPrevious && systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
  // Like the docker CLI: page cache that can be reclaimed is not "used" memory.
  const cache = Number(s.memory_stats?.stats?.inactive_file ?? s.memory_stats?.stats?.total_inactive_file ?? 0);
  const networks = Object.values(s.networks ?? {});
  const io = s.blkio_stats?.io_service_bytes_recursive ?? [];
  const sumIo = (op: string): number => io.filter((e) => e?.op?.toLowerCase() === op).reduce((n, e) => n + (e?.value ?? 0), 0);
  return {
    id,
    cpuPercent,
    memoryBytes: Math.max(0, (s.memory_stats?.usage ?? 0) - cache),
    memoryLimit: s.memory_stats?.limit ?? 0,
    networkRx: networks.reduce((n, x) => n + (x?.rx_bytes ?? 0), 0),
    networkTx: networks.reduce((n, x) => n + (x?.tx_bytes ?? 0), 0),
    blockRead: sumIo('read'),
    blockWrite: sumIo('write'),
    at: s.read ?? new Date().toISOString(),
  };
}

export class StatsService {
  private readonly streams = new Map<string, AbortController>();

  constructor(private readonly engine: EngineService, private readonly emit: Emit) {}

  open(id: string): string {
    const client = this.engine.client();
    const streamId = randomUUID();
    const controller = new AbortController();
    this.streams.set(streamId, controller);
    void (async () => {
      try {
        for await (const s of client.containerStats(id, controller.signal)) this.emit('stats:sample', { streamId, sample: statsSample(id, s) });
      } catch {
        // the stream ends when the container stops or the window closes it
      }
      this.streams.delete(streamId);
    })();
    return streamId;
  }

  close(streamId: string): void {
    this.streams.get(streamId)?.abort();
    this.streams.delete(streamId);
  }

  closeAll(): void {
    for (const id of [...this.streams.keys()]) this.close(id);
  }
}
