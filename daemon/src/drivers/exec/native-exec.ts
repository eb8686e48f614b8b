// The description of an exec that the shim can start itself (`berth-shim --native FILE`, see
// native/shim/src/nsexec.c): the OCI process of the exec turned into numbers the shim applies
// without a JSON parser, plus the init whose namespaces, cgroups and seccomp filter it joins.
// A process the shim cannot reproduce exactly (an AppArmor or SELinux label, a capability or
// rlimit it does not know) gets no description, and the runtime's own exec runs it.
import { ALL_CAPABILITIES } from './capabilities';

/** Linux's RLIMIT_* numbers (the generic table: x86_64 and arm64). */
const RLIMIT_NUMBERS: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5, RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10, RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

interface OciProcess {
  args: string[];
  env?: string[];
  cwd?: string;
  user?: { uid?: number; gid?: number; additionalGids?: number[]; umask?: number };
  capabilities?: Partial<Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>>;
  rlimits?: { type: string; soft: number; hard: number }[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  apparmorProfile?: string;
  selinuxLabel?: string;
  consoleSize?: { height: number; width: number };
}

/** A capability list as the shim's bit mask (bit n: capability number n), or undefined for a name it does not know. */
function capabilityMask(names: string[] | undefined): string | undefined {
  let mask = 0n;
  for (const name of names ?? []) {
    // ALL_CAPABILITIES is in the kernel's order: a capability's index is its number.
    const bit = ALL_CAPABILITIES.indexOf(name);
    if (bit < 0) return undefined;
    mask |= 1n << BigInt(bit);
  }
  return mask.toString(16);
}

const rlimitValue = (n: number) => (n < 0 || n >= 2 ** 64 - 1 ? '-1' : String(n));

/**
 * The NUL-separated records for `--native`, or undefined when the runtime must run this exec.
 * `cgroupDirs`: the init's cgroup directories on the host, one per hierarchy.
 */
export function nativeExecDescription(proc: OciProcess, initPid: number, cgroupDirs: string[]): Buffer | undefined {
  if (initPid <= 0 || proc.apparmorProfile || proc.selinuxLabel || proc.args.length === 0) return undefined;
  const records = [`pid=${initPid}`, ...[...new Set(cgroupDirs)].map((d) => `cgroup=${d}`)];
  records.push(`cwd=${proc.cwd || '/'}`, `uid=${proc.user?.uid ?? 0}`, `gid=${proc.user?.gid ?? 0}`);
  if (proc.user?.additionalGids?.length) records.push(`groups=${proc.user.additionalGids.join(',')}`);
  if (proc.user?.umask !== undefined) records.push(`umask=${proc.user.umask}`);
  records.push(`nnp=${proc.noNewPrivileges ? 1 : 0}`, 'seccomp=1');
  if (proc.oomScoreAdj !== undefined) records.push(`oom=${proc.oomScoreAdj}`);
  for (const kind of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) {
    const mask = capabilityMask(proc.capabilities?.[kind]);
    if (mask === undefined) return undefined;
    records.push(`cap.${kind}=${mask}`);
  }
  for (const r of proc.rlimits ?? []) {
    const resource = RLIMIT_NUMBERS[r.type];
    if (resource === undefined) return undefined;
    records.push(`rlimit=${resource}:${rlimitValue(r.soft)}:${rlimitValue(r.hard)}`);
  }
  if (proc.consoleSize && proc.consoleSize.height > 0) records.push(`rows=${proc.consoleSize.height}`, `cols=${proc.consoleSize.width}`);
  for (const e of proc.env ?? []) records.push(`env=${e}`);
  for (const a of proc.args) records.push(`arg=${a}`);
  // A NUL inside a value would end its record early: such a process is the runtime's to refuse.
  if (records.some((r) => r.includes('\0'))) return undefined;
  return Buffer.from(records.join('\0') + '\0');
}
