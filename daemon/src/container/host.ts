// What the container component needs to know about this host: the spec builder's SpecHost
// (cgroup version, hard rlimits, swap accounting, the init binary) and the limits create checks.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SpecHost } from '../drivers/exec/oci-spec';
import { hostCgroupMounts } from '../drivers/exec/cgroups';
import type { HostLimits } from './create-config';
import type { HostConfig } from './types';

/** The cgroup parent of containers that name none (dockerd's is /docker). */
export const DEFAULT_CGROUP_PARENT = '/berth';

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64' };

/** The daemon's own hard limits, by OCI rlimit type, from /proc/self/limits. */
export function ownHardLimits(): Record<string, number> {
  const names: Record<string, string> = {
    'Max open files': 'RLIMIT_NOFILE', 'Max processes': 'RLIMIT_NPROC', 'Max core file size': 'RLIMIT_CORE',
    'Max locked memory': 'RLIMIT_MEMLOCK', 'Max stack size': 'RLIMIT_STACK', 'Max pending signals': 'RLIMIT_SIGPENDING',
    'Max msgqueue size': 'RLIMIT_MSGQUEUE', 'Max nice priority': 'RLIMIT_NICE', 'Max realtime priority': 'RLIMIT_RTPRIO',
    'Max file size': 'RLIMIT_FSIZE', 'Max data size': 'RLIMIT_DATA', 'Max cpu time': 'RLIMIT_CPU', 'Max address space': 'RLIMIT_AS',
  };
  const out: Record<string, number> = {};
  let text = '';
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    for (const [label, type] of Object.entries(names)) {
      if (!line.startsWith(label)) continue;
      const hard = line.slice(label.length).trim().split(/\s+/)[1];
      if (hard && hard !== 'unlimited') out[type] = Number(hard);
    }
  }
  return out;
}

export function cgroupVersion(): '1' | '2' {
  return hostCgroupMounts().layout === 'v2' ? '2' : '1';
}

function swapAccounting(version: '1' | '2'): boolean {
  if (version === '2') return true;
  const memory = hostCgroupMounts().v1.memory;
  return memory !== undefined && existsSync(`${memory}/memory.memsw.limit_in_bytes`);
}

export function initBinary(): string | undefined {
  return ['/usr/bin/tini-static', '/usr/bin/docker-init', '/usr/bin/tini'].find((p) => existsSync(p));
}

export function specHost(): SpecHost {
  const version = cgroupVersion();
  return {
    cgroupVersion: version,
    cgroupParent: DEFAULT_CGROUP_PARENT,
    kernel: os.release(),
    goarch: GOARCH[process.arch] ?? process.arch,
    hardLimits: ownHardLimits(),
    swapAccounting: swapAccounting(version),
    initBinary: initBinary(),
  };
}

export function hostLimits(spec: SpecHost): HostLimits {
  return { ncpu: os.cpus().length, swapAccounting: spec.swapAccounting, cgroupVersion: spec.cgroupVersion };
}

/**
 * The SpecHost a container's spec is built with: its HostConfig.CgroupParent (validated at create)
 * replaces the default parent. As dockerd's cgroupfs driver, the container's cgroup is
 * <parent>/<id>; a relative parent is relative to the runtime's own cgroup.
 */
export function specHostFor(host: SpecHost, hc: HostConfig): SpecHost {
  if (!hc.CgroupParent) return host;
  // The spec builder appends /<id>: a trailing slash would make an empty path component.
  return { ...host, cgroupParent: path.posix.normalize(hc.CgroupParent).replace(/\/+$/, '') };
}
