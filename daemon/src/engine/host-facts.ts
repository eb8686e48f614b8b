// Facts about the host that /info and /version report, read once from the kernel and /etc.
import os from 'node:os';
import { existsSync, readFileSync } from 'node:fs';

export interface HostFacts {
  kernelVersion: string;
  operatingSystem: string;
  osVersion: string;
  architecture: string;
  ncpu: number;
  memTotal: number;
  hostname: string;
  cgroupVersion: '1' | '2';
  cgroupDriver: 'cgroupfs' | 'systemd';
  ipv4Forwarding: boolean;
}

function osRelease(): Record<string, string> {
  try {
    const out: Record<string, string> = {};
    for (const line of readFileSync('/etc/os-release', 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=("?)(.*)\2$/.exec(line);
      if (m) out[m[1]!] = m[3]!;
    }
    return out;
  } catch {
    return {};
  }
}

/** Go's GOARCH names, which the API uses for Architecture in /version; /info uses uname's. */
export const goArch = (): string => ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', ppc64: 'ppc64le' })[process.arch as string] ?? process.arch;

export function readHostFacts(): HostFacts {
  const release = osRelease();
  let forwarding = false;
  try {
    forwarding = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() === '1';
  } catch {
    // Not readable (no procfs): report false, as dockerd does.
  }
  return {
    kernelVersion: os.release(),
    operatingSystem: release.PRETTY_NAME ?? 'Linux',
    osVersion: release.VERSION_ID ?? '',
    architecture: os.machine(),
    ncpu: os.cpus().length,
    memTotal: os.totalmem(),
    hostname: os.hostname(),
    // A pure v2 host has cgroup.controllers at the root; hybrid hosts (v1 controllers) count as v1.
    cgroupVersion: existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1',
    cgroupDriver: 'cgroupfs',
    ipv4Forwarding: forwarding,
  };
}
