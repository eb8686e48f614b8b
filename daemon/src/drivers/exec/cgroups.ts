// Where a process's cgroups are on this host: the cgroup mounts (v1 controllers, the unified v2
// hierarchy, or both in hybrid mode) and the directories one process belongs to. The runtime
// detection uses the layout; stats and OOM reporting use the paths.
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type CgroupLayout = 'v1' | 'v2' | 'hybrid';

export interface CgroupMounts {
  layout: CgroupLayout;
  /** v1 controller name (or `name=systemd`) → mount point. */
  v1: Record<string, string>;
  /** Mount point of the unified (v2) hierarchy, if any. */
  unified?: string;
}

/** Parses /proc/self/mountinfo for cgroup and cgroup2 mounts. */
export function parseCgroupMounts(mountinfo: string): CgroupMounts {
  const v1: Record<string, string> = {};
  let unified: string | undefined;
  for (const line of mountinfo.split('\n')) {
    // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS"
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const mountPoint = unescapeMount(line.slice(0, sep).split(' ')[4] ?? '');
    const [fsType, , superOpts = ''] = line.slice(sep + 3).split(' ');
    if (fsType === 'cgroup2') unified ??= mountPoint;
    if (fsType === 'cgroup') {
      for (const opt of superOpts.split(',')) {
        if (opt === 'rw' || opt === 'ro' || opt.startsWith('release_agent') || opt === 'clone_children' || opt === 'noprefix' || opt === 'xattr') continue;
        v1[opt] = mountPoint;
      }
    }
  }
  const hasV1 = Object.keys(v1).some((c) => !c.startsWith('name='));
  const layout: CgroupLayout = hasV1 ? (unified ? 'hybrid' : 'v1') : 'v2';
  return { layout, v1, unified };
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

let cached: CgroupMounts | undefined;
export function hostCgroupMounts(): CgroupMounts {
  cached ??= parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
  return cached;
}

/** The controllers enabled in a v2 hierarchy (its root cgroup.controllers), e.g. ["hugetlb"]. */
export function unifiedControllers(mounts: CgroupMounts = hostCgroupMounts()): string[] {
  if (!mounts.unified) return [];
  try {
    return readFileSync(path.join(mounts.unified, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

export interface CgroupPaths {
  layout: CgroupLayout;
  /** v1: controller → absolute directory (cpu, cpuacct, memory, pids, blkio, freezer, …). */
  v1: Record<string, string>;
  /** v2: the absolute directory in the unified hierarchy. */
  unified?: string;
}

/** The cgroup directories of a running process, from /proc/PID/cgroup. */
export async function cgroupPathsOf(pid: number, mounts: CgroupMounts = hostCgroupMounts()): Promise<CgroupPaths> {
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8');
  const out: CgroupPaths = { layout: mounts.layout, v1: {} };
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, , controllers, rel] = m;
    if (controllers === '') {
      if (mounts.unified) out.unified = path.join(mounts.unified, rel);
      continue;
    }
    for (const c of controllers.split(',')) {
      const mount = mounts.v1[c];
      if (mount) out.v1[c] = path.join(mount, rel);
    }
  }
  return out;
}
