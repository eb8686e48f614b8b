// `docker update` on a running container: the new resources written to its cgroups, v1 files
// (this host) or v2's, in the order the kernel accepts them.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { systemError } from '../errors';
import type { CgroupPaths } from '../drivers/exec/cgroups';
import type { HostLimits } from './create-config';
import type { HostConfig } from './types';

async function put(dir: string | undefined, file: string, value: string | number): Promise<void> {
  if (!dir) return;
  try {
    await writeFile(path.join(dir, file), String(value));
  } catch (err) {
    throw systemError(`Cannot update container: writing ${value} to ${file} failed: ${(err as Error).message}`, err);
  }
}

async function readNumber(dir: string, file: string): Promise<number> {
  const text = (await readFile(path.join(dir, file), 'utf8').catch(() => '')).trim();
  return text === 'max' || text === '' ? Number.POSITIVE_INFINITY : Number(text);
}

export async function applyCgroupResources(cg: CgroupPaths, hc: HostConfig, limits: HostLimits): Promise<void> {
  const quota = hc.NanoCpus ? Math.floor((hc.NanoCpus * 100_000) / 1e9) : hc.CpuQuota;
  const period = hc.NanoCpus ? 100_000 : hc.CpuPeriod;
  if (cg.layout === 'v2' || !cg.v1.memory) {
    const dir = cg.unified;
    if (!dir) return;
    if (hc.Memory) await put(dir, 'memory.max', hc.Memory);
    if (hc.Memory && hc.MemorySwap && hc.MemorySwap > 0) await put(dir, 'memory.swap.max', hc.MemorySwap - hc.Memory);
    if (hc.MemoryReservation) await put(dir, 'memory.low', hc.MemoryReservation);
    if (hc.CpuShares) await put(dir, 'cpu.weight', Math.round(1 + ((hc.CpuShares - 2) * 9999) / 262142));
    if (quota) await put(dir, 'cpu.max', `${quota} ${period ?? 100_000}`);
    if (hc.CpusetCpus) await put(dir, 'cpuset.cpus', hc.CpusetCpus);
    if (hc.PidsLimit) await put(dir, 'pids.max', hc.PidsLimit);
    return;
  }
  const mem = cg.v1.memory;
  if (hc.Memory) {
    const swap = limits.swapAccounting && hc.MemorySwap ? (hc.MemorySwap === -1 ? -1 : hc.MemorySwap) : undefined;
    const currentSwap = limits.swapAccounting ? await readNumber(mem, 'memory.memsw.limit_in_bytes') : Number.POSITIVE_INFINITY;
    // memory.limit must stay ≤ memsw.limit at every step: raise memsw first when growing.
    if (swap !== undefined && (swap === -1 || swap > currentSwap || hc.Memory > currentSwap)) {
      await put(mem, 'memory.memsw.limit_in_bytes', swap);
      await put(mem, 'memory.limit_in_bytes', hc.Memory);
    } else {
      await put(mem, 'memory.limit_in_bytes', hc.Memory);
      if (swap !== undefined) await put(mem, 'memory.memsw.limit_in_bytes', swap);
    }
  }
  if (hc.MemoryReservation) await put(mem, 'memory.soft_limit_in_bytes', hc.MemoryReservation);
  if (hc.CpuShares) await put(cg.v1.cpu, 'cpu.shares', hc.CpuShares);
  if (period) await put(cg.v1.cpu, 'cpu.cfs_period_us', period);
  if (quota) await put(cg.v1.cpu, 'cpu.cfs_quota_us', quota);
  if (hc.CpusetCpus) await put(cg.v1.cpuset, 'cpuset.cpus', hc.CpusetCpus);
  if (hc.CpusetMems) await put(cg.v1.cpuset, 'cpuset.mems', hc.CpusetMems);
  if (hc.PidsLimit) await put(cg.v1.pids, 'pids.max', hc.PidsLimit);
  if (hc.BlkioWeight) await put(cg.v1.blkio, 'blkio.weight', hc.BlkioWeight);
}
