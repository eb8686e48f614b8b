// `docker stats`: a container's resource use read from its cgroups (v1 files on this host, v2
// elsewhere) in dockerd's StatsJSON shape, with the host's CPU time so the CLI can compute
// CPU % the way it does against dockerd.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CgroupPaths } from '../drivers/exec/cgroups';

/** USER_HZ: /proc/stat and cpuacct.stat count in these ticks. */
const CLOCK_TICKS = 100;

async function text(dir: string | undefined, file: string): Promise<string | undefined> {
  if (!dir) return undefined;
  try {
    return await readFile(path.join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

async function num(dir: string | undefined, file: string): Promise<number> {
  const t = (await text(dir, file))?.trim();
  if (!t || t === 'max') return 0;
  const n = Number(t);
  return Number.isFinite(n) ? n : 0;
}

function keyValues(t: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (t ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** The host's CPU time in nanoseconds (all CPUs), dockerd's system_cpu_usage. */
async function systemCpuUsage(): Promise<number> {
  const stat = await readFile('/proc/stat', 'utf8');
  const fields = stat.split('\n')[0]!.trim().split(/\s+/).slice(1, 8).map(Number);
  return (fields.reduce((a, b) => a + b, 0) * 1e9) / CLOCK_TICKS;
}


interface BlkioEntry { major: number; minor: number; op: string; value: number }

/** v1 blkio files: "8:0 Read 4096" lines (the "Total" line is dropped, as dockerd drops it). */
function blkioV1(t: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (t ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
  }
  return out;
}

/** v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 …" → read/write bytes, as dockerd reports them. */
function ioStatV2(t: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (t ?? '').split('\n')) {
    const [dev, ...fields] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const kv = Object.fromEntries(fields.map((f) => f.split('=') as [string, string]));
    out.push({ major: Number(m[1]), minor: Number(m[2]), op: 'read', value: Number(kv.rbytes ?? 0) });
    out.push({ major: Number(m[1]), minor: Number(m[2]), op: 'write', value: Number(kv.wbytes ?? 0) });
  }
  return out;
}

const blkio = (bytes: BlkioEntry[] | null) => ({
  io_service_bytes_recursive: bytes, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null,
  io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
});

export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage: number;
  online_cpus: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

const emptyCpu = (): CpuStats => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  system_cpu_usage: 0,
  online_cpus: 0,
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

export interface StatsSample {
  read: string;
  cpu_stats: CpuStats;
  memory_stats: Record<string, unknown>;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: Record<string, unknown>;
}

export async function sampleStats(cg: CgroupPaths): Promise<StatsSample> {
  const read = new Date().toISOString();
  const system = await systemCpuUsage();
  const online = os.cpus().length;
  if (cg.layout !== 'v2' && cg.v1.cpuacct) {
    const acct = cg.v1.cpuacct;
    const percpu = ((await text(acct, 'cpuacct.usage_percpu')) ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
    const ticks = keyValues(await text(acct, 'cpuacct.stat'));
    const throttle = keyValues(await text(cg.v1.cpu, 'cpu.stat'));
    const mem = cg.v1.memory;
    const memStat = keyValues(await text(mem, 'memory.stat'));
    const limit = await num(mem, 'memory.limit_in_bytes');
    const pidsMax = await num(cg.v1.pids, 'pids.max');
    return {
      read,
      cpu_stats: {
        cpu_usage: {
          total_usage: await num(acct, 'cpuacct.usage'),
          percpu_usage: percpu,
          usage_in_kernelmode: ((ticks.system ?? 0) * 1e9) / CLOCK_TICKS,
          usage_in_usermode: ((ticks.user ?? 0) * 1e9) / CLOCK_TICKS,
        },
        system_cpu_usage: system,
        online_cpus: online,
        throttling_data: { periods: throttle.nr_periods ?? 0, throttled_periods: throttle.nr_throttled ?? 0, throttled_time: throttle.throttled_time ?? 0 },
      },
      memory_stats: {
        usage: await num(mem, 'memory.usage_in_bytes'),
        max_usage: await num(mem, 'memory.max_usage_in_bytes'),
        stats: memStat,
        failcnt: await num(mem, 'memory.failcnt'),
        // An unlimited v1 cgroup reports a huge number; dockerd shows the host's memory instead.
        limit: limit > 0 && limit < os.totalmem() ? limit : os.totalmem(),
      },
      pids_stats: { current: await num(cg.v1.pids, 'pids.current'), ...(pidsMax > 0 ? { limit: pidsMax } : {}) },
      blkio_stats: blkio(blkioV1((await text(cg.v1.blkio, 'blkio.throttle.io_service_bytes_recursive')) ?? (await text(cg.v1.blkio, 'blkio.throttle.io_service_bytes')))),
    };
  }
  const dir = cg.unified;
  const cpu = keyValues(await text(dir, 'cpu.stat'));
  const memStat = keyValues(await text(dir, 'memory.stat'));
  const max = await num(dir, 'memory.max');
  const pidsMax = await num(dir, 'pids.max');
  return {
    read,
    cpu_stats: {
      cpu_usage: { total_usage: (cpu.usage_usec ?? 0) * 1000, usage_in_kernelmode: (cpu.system_usec ?? 0) * 1000, usage_in_usermode: (cpu.user_usec ?? 0) * 1000 },
      system_cpu_usage: system,
      online_cpus: online,
      throttling_data: { periods: cpu.nr_periods ?? 0, throttled_periods: cpu.nr_throttled ?? 0, throttled_time: (cpu.throttled_usec ?? 0) * 1000 },
    },
    memory_stats: { usage: await num(dir, 'memory.current'), stats: memStat, limit: max > 0 ? max : os.totalmem() },
    pids_stats: { current: await num(dir, 'pids.current'), ...(pidsMax > 0 ? { limit: pidsMax } : {}) },
    blkio_stats: blkio(ioStatV2(await text(dir, 'io.stat'))),
  };
}

/** One StatsJSON: this sample with the previous as precpu (zeroes when there is none). */
export function statsJson(id: string, name: string, now: StatsSample | undefined, before: StatsSample | undefined): Record<string, unknown> {
  const zero = { read: '0001-01-01T00:00:00Z', cpu_stats: emptyCpu(), memory_stats: {}, pids_stats: {}, blkio_stats: {} };
  const cur = now ?? zero;
  return {
    name,
    id,
    read: cur.read,
    preread: before?.read ?? '0001-01-01T00:00:00Z',
    pids_stats: cur.pids_stats,
    blkio_stats: cur.blkio_stats,
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cur.cpu_stats,
    precpu_stats: before?.cpu_stats ?? emptyCpu(),
    memory_stats: cur.memory_stats,
  };
}
