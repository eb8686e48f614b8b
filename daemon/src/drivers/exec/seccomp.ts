// Seccomp: Docker's profile format (the default profile ships as seccomp-default.json, copied from
// Docker's reference) translated to the OCI runtime spec's `linux.seccomp` for this host: rules
// are kept or dropped by architecture, the container's capabilities and the kernel version.
import { invalidParameter } from '../../errors';
import defaultProfile from './seccomp-default.json';

interface DockerSeccompArg { index: number; value: number; valueTwo?: number; op: string }
interface DockerSeccompFilter { arches?: string[]; caps?: string[]; minKernel?: string }
interface DockerSeccompRule {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: DockerSeccompArg[] | null;
  includes?: DockerSeccompFilter;
  excludes?: DockerSeccompFilter;
  comment?: string;
}
export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] | null }[] | null;
  syscalls?: DockerSeccompRule[] | null;
  listenerPath?: string;
  flags?: string[];
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  syscalls: { names: string[]; action: string; errnoRet?: number; args?: DockerSeccompArg[] }[];
}

/** Go's GOARCH for Node's process.arch, which the profile's `arches` use. */
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64' };
/** The profile's archMap keys, by GOARCH. */
const SECCOMP_ARCH: Record<string, string> = { amd64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64', arm: 'SCMP_ARCH_ARM', '386': 'SCMP_ARCH_X86', s390x: 'SCMP_ARCH_S390X', ppc64le: 'SCMP_ARCH_PPC64LE', riscv64: 'SCMP_ARCH_RISCV64' };

export interface SeccompHost {
  goarch: string;
  /** "6.1.0-13-amd64" style; compared numerically on major.minor. */
  kernel: string;
}

export const hostForSeccomp = (kernel: string): SeccompHost => ({ goarch: GOARCH[process.arch] ?? process.arch, kernel });

function kernelAtLeast(kernel: string, min: string): boolean {
  const [a = 0, b = 0] = kernel.split(/[.-]/).map(Number);
  const [x = 0, y = 0] = min.split('.').map(Number);
  return a > x || (a === x && b >= y);
}

/** A rule applies only when the host and the container have everything its `includes` lists. */
function included(f: DockerSeccompFilter | undefined, host: SeccompHost, caps: string[]): boolean {
  if (!f) return true;
  if (f.arches?.length && !f.arches.includes(host.goarch)) return false;
  if (f.caps?.length && !f.caps.every((c) => caps.includes(c))) return false;
  if (f.minKernel && !kernelAtLeast(host.kernel, f.minKernel)) return false;
  return true;
}

/** A rule is dropped when any one thing its `excludes` lists is present. */
function excluded(f: DockerSeccompFilter | undefined, host: SeccompHost, caps: string[]): boolean {
  if (!f) return false;
  if (f.arches?.length && f.arches.includes(host.goarch)) return true;
  if (f.caps?.length && f.caps.some((c) => caps.includes(c))) return true;
  if (f.minKernel && kernelAtLeast(host.kernel, f.minKernel)) return true;
  return false;
}

/** Translates a Docker profile for this host and capability set. */
export function translateSeccomp(profile: DockerSeccompProfile, host: SeccompHost, caps: string[]): OciSeccomp {
  if (profile.architectures?.length && profile.archMap?.length) {
    throw invalidParameter("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  let architectures = profile.architectures ?? [];
  const native = SECCOMP_ARCH[host.goarch];
  for (const entry of profile.archMap ?? []) {
    if (entry.architecture === native) architectures = [entry.architecture, ...(entry.subArchitectures ?? [])];
  }
  const syscalls: OciSeccomp['syscalls'] = [];
  for (const rule of profile.syscalls ?? []) {
    if (rule.name && rule.names?.length) throw invalidParameter("'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
    if (excluded(rule.excludes, host, caps) || !included(rule.includes, host, caps)) continue;
    const names = rule.names ?? (rule.name ? [rule.name] : []);
    const out: OciSeccomp['syscalls'][number] = { names, action: rule.action };
    if (rule.errnoRet !== undefined) out.errnoRet = rule.errnoRet;
    if (rule.args && rule.args.length > 0) out.args = rule.args;
    syscalls.push(out);
  }
  const result: OciSeccomp = { defaultAction: profile.defaultAction, architectures, syscalls };
  if (profile.defaultErrnoRet !== undefined) result.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.flags?.length) result.flags = profile.flags;
  return result;
}

/**
 * The seccomp of a container from its SecurityOpt: undefined when unconfined or privileged,
 * a custom profile when `seccomp=<json>` (the CLI sends the file's content), else Docker's default.
 */
export function seccompFor(securityOpt: string[], privileged: boolean, host: SeccompHost, caps: string[]): OciSeccomp | undefined {
  let profile: DockerSeccompProfile = defaultProfile as DockerSeccompProfile;
  let custom = false;
  for (const opt of securityOpt) {
    const m = /^seccomp[=:](.*)$/s.exec(opt);
    if (!m) continue;
    const value = m[1]!;
    if (value === 'unconfined') return undefined;
    try {
      profile = JSON.parse(value) as DockerSeccompProfile;
      custom = true;
    } catch (err) {
      throw invalidParameter(`Decoding seccomp profile failed: ${(err as Error).message}`);
    }
  }
  if (privileged && !custom) return undefined;
  return translateSeccomp(profile, host, caps);
}
