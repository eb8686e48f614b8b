// Which accelerator qemu gets. KVM only when the CPU exposes vmx/svm *and* a probe boot works:
// a /dev/kvm backed by a paravirtual implementation (nested CI hosts) crashes or crawls with stock
// kernels, and TCG is then the reliable choice.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export type Accelerator = 'kvm' | 'hvf' | 'whpx' | 'tcg';

export interface HostFacts {
  platform: NodeJS.Platform;
  arch: string;
  /** Contents of /proc/cpuinfo (Linux). */
  cpuinfo?: string;
  /** /dev/kvm exists and is writable. */
  kvmDevice?: boolean;
}

export function cpuFlags(cpuinfo: string): Set<string> {
  const line = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(cpuinfo);
  return new Set(line ? line[1]!.trim().split(/\s+/) : []);
}

/** The accelerator worth probing on this host, before any probe boot. */
export function candidateAccelerator(h: HostFacts): Accelerator {
  if (h.platform === 'darwin') return 'hvf';
  if (h.platform === 'win32') return 'whpx';
  if (h.platform === 'linux' && h.kvmDevice) {
    // arm64 hosts have no vmx/svm flag; a usable /dev/kvm is the signal there.
    if (h.arch === 'arm64') return 'kvm';
    const flags = cpuFlags(h.cpuinfo ?? '');
    if (flags.has('vmx') || flags.has('svm')) return 'kvm';
  }
  return 'tcg';
}

/** Host TSC rate in kHz from /proc/cpuinfo's "cpu MHz", for tsc_early_khz= under TCG. */
export function hostTscKhz(cpuinfo: string): number | undefined {
  const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo);
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

export function kvmDeviceUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Boots the kernel with the stage-1 initrd under `accel` with no root disk: stage 1 prints its
 * "no disk with serial" line and powers off. Seeing that line within the time limit proves the
 * accelerator runs our kernel to userspace.
 */
export async function probeAccelerator(qemu: string, accel: Accelerator, kernel: string, initrd: string, timeoutMs = 15_000, tscKhz?: number): Promise<boolean> {
  const args = ['-M', 'microvm', '-accel', accel, ...(accel === 'tcg' ? [] : ['-cpu', 'host']), '-m', '256', '-smp', '1', '-nodefaults', '-no-user-config',
    '-display', 'none', '-no-reboot', '-serial', 'stdio', '-kernel', kernel, '-initrd', initrd,
    '-append', `console=ttyS0 quiet panic=-1 berth.root=berth-probe berth.rootwait=0${accel === 'tcg' && tscKhz ? ` tsc_early_khz=${tscKhz} tsc=reliable` : ''}`];
  return new Promise((resolve) => {
    const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('error', () => { clearTimeout(timer); resolve(false); });
    child.on('exit', () => { clearTimeout(timer); resolve(out.includes("no disk with serial 'berth-probe'")); });
  });
}
