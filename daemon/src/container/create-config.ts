// Turning a create request into a container's config: dockerd's validation of the HostConfig
// (with its statuses and words) and its merge of the image's config under the request's.
import { invalidParameter } from '../errors';
import { mergeEnv, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, DEFAULT_SHM_SIZE } from '../drivers/exec/oci-spec';
import { validateRestartPolicy } from './restart-policy';
import { capabilitySet } from '../drivers/exec/capabilities';
import type { ContainerConfig, HostConfig, ImageRuntimeConfig } from './types';

/** dockerd's floor for --memory (linuxMinMemory). */
export const MIN_MEMORY = 6 * 1024 * 1024;

export interface HostLimits {
  ncpu: number;
  swapAccounting: boolean;
  cgroupVersion: '1' | '2';
}

/** Parses a cpuset ("0-2,4") into CPU numbers, or throws dockerd's 400. */
export function parseCpuset(set: string): number[] {
  const out: number[] = [];
  for (const part of set.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw invalidParameter(`Invalid value ${set} for cpuset cpus`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw invalidParameter(`Invalid value ${set} for cpuset cpus`);
    for (let i = from; i <= to; i++) out.push(i);
  }
  return out;
}

/**
 * Validates the resources of a HostConfig as dockerd's verifyPlatformContainerResources does,
 * normalising it in place (swap defaults to twice the memory where swap is accounted).
 * Returns warnings for the client.
 */
export function validateResources(hc: HostConfig, limits: HostLimits, update = false): string[] {
  const warnings: string[] = [];
  const memory = hc.Memory ?? 0;
  if (memory !== 0 && memory < MIN_MEMORY) throw invalidParameter('Minimum memory limit allowed is 6MB');
  const swap = hc.MemorySwap ?? 0;
  if (memory > 0 && swap > 0 && swap < memory) {
    throw invalidParameter('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (memory === 0 && swap > 0 && !update) {
    throw invalidParameter('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (!limits.swapAccounting && swap !== 0 && swap !== -1) {
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    hc.MemorySwap = -1;
  } else if (memory > 0 && swap === 0 && !update) {
    hc.MemorySwap = limits.swapAccounting ? memory * 2 : -1;
  }
  const reservation = hc.MemoryReservation ?? 0;
  if (reservation !== 0 && reservation < MIN_MEMORY) throw invalidParameter('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) {
    throw invalidParameter('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  const swappiness = hc.MemorySwappiness;
  if (swappiness !== undefined && swappiness !== null && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw invalidParameter(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  if (hc.OomKillDisable && limits.cgroupVersion === '2') {
    warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    hc.OomKillDisable = false;
  } else if (hc.OomKillDisable && memory === 0) {
    warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }
  const nano = hc.NanoCpus ?? 0;
  if (nano !== 0 && ((hc.CpuPeriod ?? 0) > 0 || (hc.CpuQuota ?? 0) > 0)) {
    throw invalidParameter('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  if (nano < 0 || nano > limits.ncpu * 1e9) {
    throw invalidParameter(`Range of CPUs is from 0.01 to ${limits.ncpu}.00, as there are only ${limits.ncpu} CPUs available`);
  }
  if ((hc.CpuPeriod ?? 0) !== 0 && ((hc.CpuPeriod ?? 0) < 1000 || (hc.CpuPeriod ?? 0) > 1_000_000)) {
    throw invalidParameter('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if ((hc.CpuQuota ?? 0) > 0 && (hc.CpuQuota ?? 0) < 1000) throw invalidParameter('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if ((hc.CpuShares ?? 0) < 0) throw invalidParameter(`invalid CPU shares (${hc.CpuShares}): value must be a positive integer`);
  if (hc.CpusetCpus) {
    const wanted = parseCpuset(hc.CpusetCpus);
    const available = `0-${limits.ncpu - 1}`;
    if (wanted.some((c) => c >= limits.ncpu)) {
      throw invalidParameter(`Requested CPUs are not available - requested ${hc.CpusetCpus}, available: ${available}`);
    }
  }
  const blkio = hc.BlkioWeight ?? 0;
  if (blkio !== 0 && (blkio < 10 || blkio > 1000)) throw invalidParameter('Range of blkio weight is from 10 to 1000');
  if (hc.PidsLimit !== undefined && hc.PidsLimit !== null && hc.PidsLimit <= 0) hc.PidsLimit = 0;
  return warnings;
}

/** `userNetworks`: a networkdriver checks network names (404 `network x not found`) at create. */
export function validateHostConfig(hc: HostConfig, limits: HostLimits, userNetworks = false): string[] {
  hc.RestartPolicy = validateRestartPolicy(hc.RestartPolicy, hc.AutoRemove === true);
  const mode = hc.NetworkMode || 'default';
  if (!userNetworks && !['default', 'bridge', 'none', 'host'].includes(mode) && !mode.startsWith('container:')) {
    throw invalidParameter(`network ${mode} not found`);
  }
  if (mode === 'host' && (hc.PortBindings && Object.keys(hc.PortBindings).length > 0)) {
    throw invalidParameter('conflicting options: port publishing and the container type network mode');
  }
  if ((hc.ShmSize ?? 0) < 0) throw invalidParameter('SHM size can not be less than 0');
  if (hc.OomScoreAdj !== undefined && (hc.OomScoreAdj < -1000 || hc.OomScoreAdj > 1000)) {
    throw invalidParameter(`Invalid value ${hc.OomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  }
  capabilitySet(hc.CapAdd ?? [], hc.CapDrop ?? [], false);
  for (const b of hc.Binds ?? []) {
    if (b.split(':').length < 2) throw invalidParameter(`invalid volume specification: '${b}'`);
  }
  validateCgroupParent(hc.CgroupParent);
  return validateResources(hc, limits);
}

/**
 * HostConfig.CgroupParent, as the cgroupfs driver takes it: a cgroup path, absolute or relative.
 * It may not climb out of the hierarchy (".."), and it is one path, so no control characters.
 */
export function validateCgroupParent(parent: unknown): void {
  if (parent === undefined || parent === null || parent === '') return;
  if (typeof parent !== 'string') throw invalidParameter('invalid cgroup-parent: it must be a cgroup path such as /berth or /my-group');
  if (/[\x00-\x1f]/.test(parent)) throw invalidParameter(`invalid cgroup-parent ${JSON.stringify(parent)}: a cgroup path cannot contain control characters`);
  if (parent.split('/').includes('..')) throw invalidParameter(`invalid cgroup-parent ${parent}: a cgroup path cannot contain ".."`);
}

/** The command a container runs: Entrypoint then Cmd, after dockerd's merge with the image's. */
export interface MergedConfig {
  config: ContainerConfig;
  path: string;
  args: string[];
}

/** Merges the image config under the request's, as dockerd's merge() does. */
export function mergeImageConfig(config: ContainerConfig, image: ImageRuntimeConfig | undefined, id: string): MergedConfig {
  const img = image ?? {};
  const out: ContainerConfig = { ...config };
  out.Hostname = config.Hostname || id.slice(0, 12);
  out.Domainname = config.Domainname ?? '';
  out.User = config.User || img.User || '';
  out.Env = mergeEnv(img.Env ?? [], config.Env ?? []);
  if (!out.WorkingDir) out.WorkingDir = img.WorkingDir ?? '';
  if (!config.Entrypoint || config.Entrypoint.length === 0) {
    if (!config.Cmd || config.Cmd.length === 0) out.Cmd = img.Cmd ?? null;
    if (config.Entrypoint === undefined || config.Entrypoint === null) out.Entrypoint = img.Entrypoint ?? null;
  }
  out.Labels = { ...(img.Labels ?? {}), ...(config.Labels ?? {}) };
  if (!out.StopSignal && img.StopSignal) out.StopSignal = img.StopSignal;
  if (img.Healthcheck && !config.Healthcheck) out.Healthcheck = img.Healthcheck;
  else if (img.Healthcheck && config.Healthcheck && !config.Healthcheck.Test) out.Healthcheck = { ...img.Healthcheck, ...config.Healthcheck, Test: img.Healthcheck.Test };
  if (img.Volumes) out.Volumes = { ...img.Volumes, ...(config.Volumes ?? {}) };
  if (out.Volumes && Object.keys(out.Volumes).length === 0) out.Volumes = null;
  if (img.ExposedPorts) out.ExposedPorts = { ...img.ExposedPorts, ...(config.ExposedPorts ?? {}) };
  if (!out.Shell && img.Shell) out.Shell = img.Shell;
  out.Tty = config.Tty === true;
  out.OpenStdin = config.OpenStdin === true;
  out.StdinOnce = config.StdinOnce === true;
  out.AttachStdin = config.AttachStdin === true;
  out.AttachStdout = config.AttachStdout === true;
  out.AttachStderr = config.AttachStderr === true;
  const command = [...(out.Entrypoint ?? []), ...(out.Cmd ?? [])];
  if (command.length === 0) throw invalidParameter('No command specified');
  return { config: out, path: command[0]!, args: command.slice(1) };
}

/**
 * The defaults dockerd writes into a new container's HostConfig, so inspect shows the same
 * values (and the spec builder reads them from one place).
 */
export function applyHostDefaults(hc: HostConfig, limits: HostLimits, runtime: string): void {
  if (!hc.LogConfig || !hc.LogConfig.Type) hc.LogConfig = { Type: 'local', Config: hc.LogConfig?.Config ?? {} };
  hc.NetworkMode ||= 'default';
  hc.CgroupnsMode ||= limits.cgroupVersion === '2' ? 'private' : 'host';
  hc.IpcMode ||= 'private';
  if (!hc.ShmSize) hc.ShmSize = DEFAULT_SHM_SIZE;
  if (!hc.Runtime) hc.Runtime = runtime;
  if (hc.MemorySwappiness === -1) hc.MemorySwappiness = null;
  if (!hc.PidsLimit || hc.PidsLimit <= 0) hc.PidsLimit = null;
  hc.KernelMemory ??= 0;
  hc.KernelMemoryTCP ??= 0;
  if (!hc.Privileged) {
    if (!hc.MaskedPaths) hc.MaskedPaths = [...DEFAULT_MASKED_PATHS];
    if (!hc.ReadonlyPaths) hc.ReadonlyPaths = [...DEFAULT_READONLY_PATHS];
  }
}
