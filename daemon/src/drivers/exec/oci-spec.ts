// The OCI runtime spec (bundle/config.json) of a container, built from its merged config (image
// config + create request) and its HostConfig, with Docker's defaults: namespaces, mounts,
// capabilities, seccomp, masked and read-only /proc paths, device rules and cgroup resources.
// Pure but for stat(2) of --device paths: everything host-specific comes in through SpecHost.
import { statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { invalidParameter } from '../../errors';
import type { ContainerConfig, HostConfig } from '../../container/types';
import { capabilitySet } from './capabilities';
import { seccompFor, type OciSeccomp } from './seccomp';
import type { ResolvedUser } from './user';

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
/** Where the init binary appears in the container, as in Docker. */
export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';

export const DEFAULT_MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Docker's ulimit names → the OCI rlimit types. */
const RLIMITS: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK', as: 'RLIMIT_AS',
};

export interface OciMount { destination: string; type: string; source: string; options: string[] }
export interface OciDevice { path: string; type: 'c' | 'b'; major: number; minor: number; fileMode: number; uid: number; gid: number }
export interface OciDeviceRule { allow: boolean; type?: string; major?: number; minor?: number; access: string }
export interface OciRlimit { type: string; soft: number; hard: number }

export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    consoleSize?: { height: number; width: number };
    user: { uid: number; gid: number; additionalGids: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
    rlimits: OciRlimit[];
    noNewPrivileges: boolean;
    oomScoreAdj?: number;
  };
  root: { path: string; readonly: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  linux: {
    namespaces: { type: string; path?: string }[];
    cgroupsPath: string;
    resources: Record<string, unknown> & { devices: OciDeviceRule[] };
    devices: OciDevice[];
    sysctl?: Record<string, string>;
    seccomp?: OciSeccomp;
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}

/** What the builder needs to know about this host. */
export interface SpecHost {
  cgroupVersion: '1' | '2';
  /** Parent of every container's cgroup, e.g. "/berth". */
  cgroupParent: string;
  kernel: string;
  goarch: string;
  /** The daemon's own hard limits by OCI type; a container cannot be given more. */
  hardLimits: Record<string, number>;
  /** Whether the memory cgroup accounts swap (v1 memory.memsw.*). */
  swapAccounting: boolean;
  /** Host path of the init binary for --init (tini-static), if any. */
  initBinary?: string;
}

export interface SpecInput {
  id: string;
  rootfs: string;
  /** The command: Path and Args of the container. */
  path: string;
  args: string[];
  config: ContainerConfig;
  hostConfig: HostConfig;
  user: ResolvedUser;
  /** Host paths of the per-container files bind-mounted over the image's. */
  etcFiles: { hosts: string; hostname: string; resolvConf: string };
  /** A network namespace to join (the network driver's); a new one with loopback only when absent. */
  netnsPath?: string;
  host: SpecHost;
}

/** `key=value` lists where later keys replace earlier ones in place, as dockerd merges env. */
export function mergeEnv(base: string[], overrides: string[]): string[] {
  const out = [...base];
  for (const kv of overrides) {
    const key = kv.split('=', 1)[0];
    const i = out.findIndex((e) => e.split('=', 1)[0] === key);
    if (i >= 0) out[i] = kv;
    else out.push(kv);
  }
  return out;
}

export function containerEnv(config: ContainerConfig): string[] {
  const base = [DEFAULT_PATH_ENV, `HOSTNAME=${config.Hostname ?? ''}`];
  if (config.Tty) base.push('TERM=xterm');
  return mergeEnv(base, config.Env ?? []);
}

/** Parses "size=64m" style sizes (and plain byte counts). */
export function parseSize(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(raw.trim());
  if (!m) throw invalidParameter(`invalid size: '${raw}'`);
  const units: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.floor(Number(m[1]) * units[m[2]!.toLowerCase()]!);
}

function defaultMounts(hc: HostConfig): OciMount[] {
  const privileged = hc.Privileged === true;
  const shmSize = hc.ShmSize && hc.ShmSize > 0 ? hc.ShmSize : DEFAULT_SHM_SIZE;
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`] },
  ];
}

function tmpfsMounts(tmpfs: Record<string, string>): OciMount[] {
  return Object.entries(tmpfs).map(([dest, opts]) => {
    if (!path.isAbsolute(dest)) throw invalidParameter(`invalid mount config for type "tmpfs": invalid mount path: '${dest}' mount path must be absolute`);
    const options = ['noexec', 'nosuid', 'nodev'];
    for (const o of opts.split(',').map((s) => s.trim()).filter(Boolean)) {
      // A later exec/suid/dev flag cancels the safe default, as Docker's tmpfs option merge does.
      const opposite: Record<string, string> = { exec: 'noexec', suid: 'nosuid', dev: 'nodev' };
      const cancelled = opposite[o];
      if (cancelled) options.splice(options.indexOf(cancelled), 1);
      if (!options.includes(o)) options.push(o);
    }
    return { destination: path.posix.normalize(dest), type: 'tmpfs', source: 'tmpfs', options };
  });
}

/** -v /host:/ctr[:ro] binds with absolute host paths; named volumes belong to the volume driver. */
function bindMounts(binds: string[]): OciMount[] {
  return binds.map((spec) => {
    const parts = spec.split(':');
    if (parts.length < 2 || parts.length > 3) throw invalidParameter(`invalid volume specification: '${spec}'`);
    const [source, destination, mode = 'rw'] = parts as [string, string, string?];
    if (!path.isAbsolute(destination!)) throw invalidParameter(`invalid volume specification: '${spec}': invalid mount config for type "bind": invalid mount path: '${destination}' mount path must be absolute`);
    if (!path.isAbsolute(source)) throw invalidParameter(`invalid volume specification: '${spec}': named volumes are not supported yet, use an absolute host path`);
    const flags = mode.split(',');
    const options = ['rbind', flags.includes('ro') ? 'ro' : 'rw', flags.find((f) => /^r?(shared|slave|private)$/.test(f)) ?? 'rprivate'];
    return { destination: path.posix.normalize(destination!), type: 'bind', source, options };
  });
}

/** Major and minor from st_rdev, as glibc's gnu_dev_major/minor compute them. */
function devNumbers(rdev: number): { major: number; minor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  return {
    major: ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0),
    minor: (lo & 0xff) | ((lo >>> 12) & 0xfff00),
  };
}

function deviceAt(hostPath: string, containerPath: string): OciDevice | undefined {
  const st = statSync(hostPath);
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  return { path: containerPath, type, ...devNumbers(st.rdev), fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

function userDevices(hc: HostConfig): { devices: OciDevice[]; rules: OciDeviceRule[] } {
  const devices: OciDevice[] = [];
  const rules: OciDeviceRule[] = [];
  for (const d of hc.Devices ?? []) {
    const perms = d.CgroupPermissions || 'rwm';
    if (!/^[rwm]{1,3}$/.test(perms)) throw invalidParameter(`invalid device mode: ${perms}`);
    let found: OciDevice[] = [];
    try {
      const st = statSync(d.PathOnHost);
      if (st.isDirectory()) {
        // A directory adds every device below it, at the same relative place.
        for (const name of readdirSync(d.PathOnHost, { recursive: true }) as string[]) {
          const dev = deviceAt(path.join(d.PathOnHost, name), path.join(d.PathInContainer || d.PathOnHost, name));
          if (dev) found.push(dev);
        }
      } else {
        const dev = deviceAt(d.PathOnHost, d.PathInContainer || d.PathOnHost);
        if (!dev) throw invalidParameter(`error gathering device information while adding custom device "${d.PathOnHost}": not a device node`);
        found = [dev];
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw invalidParameter(`error gathering device information while adding custom device "${d.PathOnHost}": no such file or directory`);
      }
      throw err;
    }
    for (const dev of found) {
      devices.push(dev);
      rules.push({ allow: true, type: dev.type, major: dev.major, minor: dev.minor, access: perms });
    }
  }
  return { devices, rules };
}

/** Every device node of the host's /dev, for --privileged. */
function hostDevices(): OciDevice[] {
  const out: OciDevice[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = path.join(dir, name);
      // The container gets its own pts, shm, mqueue and console.
      if (['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/dev/ptmx', '/dev/fd'].includes(p)) continue;
      try {
        const st = statSync(p, { throwIfNoEntry: false });
        if (!st) continue;
        if (st.isDirectory()) walk(p);
        else {
          const dev = deviceAt(p, p);
          if (dev) out.push(dev);
        }
      } catch {
        // A device that vanished while we walked.
      }
    }
  };
  walk('/dev');
  return out;
}

/** Docker's default device cgroup: deny all, then mknod and the devices every container has. */
const DEFAULT_DEVICE_RULES: OciDeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'b', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 136, minor: -1, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

function rlimits(hc: HostConfig, host: SpecHost): OciRlimit[] {
  const out: OciRlimit[] = [];
  for (const u of hc.Ulimits ?? []) {
    const type = RLIMITS[u.Name];
    if (!type) throw invalidParameter(`invalid ulimit type: ${u.Name}`);
    if (u.Soft > u.Hard) throw invalidParameter(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    // The runtime cannot raise a hard limit above the daemon's own (setrlimit would fail with EPERM).
    const max = host.hardLimits[type] ?? Number.POSITIVE_INFINITY;
    const hard = Math.min(u.Hard < 0 ? max : u.Hard, max);
    const soft = Math.min(u.Soft < 0 ? hard : u.Soft, hard);
    out.push({ type, soft: Number.isFinite(soft) ? soft : 2 ** 64 - 1, hard: Number.isFinite(hard) ? hard : 2 ** 64 - 1 });
  }
  return out;
}

function resources(hc: HostConfig, host: SpecHost): Record<string, unknown> {
  const memory: Record<string, unknown> = {};
  if (hc.Memory && hc.Memory > 0) memory.limit = hc.Memory;
  if (hc.MemoryReservation && hc.MemoryReservation > 0) memory.reservation = hc.MemoryReservation;
  if (host.swapAccounting && hc.MemorySwap && (hc.MemorySwap > 0 || hc.MemorySwap === -1)) memory.swap = hc.MemorySwap;
  if (hc.MemorySwappiness !== undefined && hc.MemorySwappiness !== null && hc.MemorySwappiness >= 0 && host.cgroupVersion === '1') memory.swappiness = hc.MemorySwappiness;
  // cgroup v2 has no switch for the OOM killer.
  if (hc.OomKillDisable && host.cgroupVersion === '1') memory.disableOOMKiller = true;

  const cpu: Record<string, unknown> = {};
  if (hc.CpuShares && hc.CpuShares > 0) cpu.shares = hc.CpuShares;
  if (hc.NanoCpus && hc.NanoCpus > 0) {
    cpu.period = 100_000;
    cpu.quota = Math.floor((hc.NanoCpus * 100_000) / 1e9);
  } else {
    if (hc.CpuPeriod && hc.CpuPeriod > 0) cpu.period = hc.CpuPeriod;
    if (hc.CpuQuota && hc.CpuQuota > 0) cpu.quota = hc.CpuQuota;
  }
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;

  const out: Record<string, unknown> = {};
  if (Object.keys(memory).length > 0) out.memory = memory;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  if (hc.PidsLimit && hc.PidsLimit > 0) out.pids = { limit: hc.PidsLimit };
  if (hc.BlkioWeight && hc.BlkioWeight > 0) out.blockIO = { weight: hc.BlkioWeight };
  return out;
}

/** Sorts mounts so that a parent is mounted before what is mounted inside it, later ones winning a tie. */
function byDepth(mounts: OciMount[]): OciMount[] {
  const seen = new Map<string, OciMount>();
  for (const m of mounts) seen.set(m.destination, m);
  return [...seen.values()].sort((a, b) => a.destination.split('/').length - b.destination.split('/').length);
}

export function buildSpec(input: SpecInput): OciSpec {
  const { config, hostConfig: hc, host } = input;
  const privileged = hc.Privileged === true;
  const caps = capabilitySet(hc.CapAdd ?? [], hc.CapDrop ?? [], privileged);
  const securityOpt = hc.SecurityOpt ?? [];
  const noNewPrivileges = securityOpt.some((o) => /^no-new-privileges(?:[=:]true)?$/.test(o));
  for (const o of securityOpt) {
    if (!/^(no-new-privileges([=:](true|false))?|seccomp[=:]|apparmor[=:]|label[=:])/s.test(o)) {
      throw invalidParameter(`invalid --security-opt 2: "${o}"`);
    }
  }

  let args = [input.path, ...input.args];
  const initMounts: OciMount[] = [];
  if (hc.Init) {
    if (!host.initBinary) throw invalidParameter('--init: no init binary is installed on this host (tini-static)');
    initMounts.push({ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: host.initBinary, options: ['bind', 'ro'] });
    args = [INIT_PATH_IN_CONTAINER, '--', ...args];
  }

  const etcOptions = ['rbind', 'rprivate', ...(hc.ReadonlyRootfs ? ['ro'] : [])];
  const etc = input.etcFiles;
  const mounts = byDepth([
    ...defaultMounts(hc),
    ...tmpfsMounts(hc.Tmpfs ?? {}),
    ...bindMounts(hc.Binds ?? []),
    { destination: '/etc/resolv.conf', type: 'bind', source: etc.resolvConf, options: etcOptions },
    { destination: '/etc/hostname', type: 'bind', source: etc.hostname, options: etcOptions },
    { destination: '/etc/hosts', type: 'bind', source: etc.hosts, options: etcOptions },
    ...initMounts,
  ]);

  const namespaces: { type: string; path?: string }[] = [{ type: 'mount' }];
  if (hc.PidMode !== 'host') namespaces.push({ type: 'pid' });
  if (hc.IpcMode !== 'host') namespaces.push({ type: 'ipc' });
  if (hc.UTSMode !== 'host') namespaces.push({ type: 'uts' });
  if (hc.NetworkMode !== 'host') namespaces.push(input.netnsPath ? { type: 'network', path: input.netnsPath } : { type: 'network' });
  const cgroupns = hc.CgroupnsMode || (host.cgroupVersion === '2' ? 'private' : 'host');
  if (cgroupns === 'private') namespaces.push({ type: 'cgroup' });

  const { devices, rules } = userDevices(hc);
  const spec: OciSpec = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: config.Tty === true,
      user: { uid: input.user.uid, gid: input.user.gid, additionalGids: input.user.additionalGids },
      args,
      env: containerEnv(config),
      cwd: config.WorkingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: rlimits(hc, host),
      noNewPrivileges,
    },
    root: { path: input.rootfs, readonly: hc.ReadonlyRootfs === true },
    mounts,
    linux: {
      namespaces,
      cgroupsPath: `${host.cgroupParent}/${input.id}`,
      resources: {
        ...resources(hc, host),
        devices: privileged ? [{ allow: true, access: 'rwm' }] : [...DEFAULT_DEVICE_RULES, ...rules],
      },
      devices: privileged ? hostDevices() : devices,
      maskedPaths: privileged ? [] : hc.MaskedPaths ?? DEFAULT_MASKED_PATHS,
      readonlyPaths: privileged ? [] : hc.ReadonlyPaths ?? DEFAULT_READONLY_PATHS,
    },
  };
  if (hc.ConsoleSize && hc.ConsoleSize[0] > 0 && config.Tty) spec.process.consoleSize = { height: hc.ConsoleSize[0], width: hc.ConsoleSize[1] };
  if (hc.OomScoreAdj) spec.process.oomScoreAdj = hc.OomScoreAdj;
  if (hc.UTSMode !== 'host') {
    spec.hostname = config.Hostname ?? '';
    if (config.Domainname) spec.domainname = config.Domainname;
  }
  if (hc.Sysctls && Object.keys(hc.Sysctls).length > 0) spec.linux.sysctl = { ...hc.Sysctls };
  const seccomp = seccompFor(securityOpt, privileged, { goarch: host.goarch, kernel: host.kernel }, caps);
  if (seccomp) spec.linux.seccomp = seccomp;
  return spec;
}
