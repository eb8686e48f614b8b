import { describe, expect, it } from 'vitest';
import { candidateAccelerator, cpuFlags, hostTscKhz } from './accelerator.js';

const cpuinfo = (flags: string) => `processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu MHz\t\t: 2596.144\nflags\t\t: fpu vme ${flags} sse2\n`;

describe('accelerator choice', () => {
  it('offers KVM only when the CPU shows vmx or svm and /dev/kvm is usable', () => {
    expect(candidateAccelerator({ platform: 'linux', arch: 'x64', cpuinfo: cpuinfo('svm'), kvmDevice: true })).toBe('kvm');
    expect(candidateAccelerator({ platform: 'linux', arch: 'x64', cpuinfo: cpuinfo('vmx'), kvmDevice: true })).toBe('kvm');
    // a paravirtual /dev/kvm on a nested host: no vmx/svm flag
    expect(candidateAccelerator({ platform: 'linux', arch: 'x64', cpuinfo: cpuinfo('hypervisor'), kvmDevice: true })).toBe('tcg');
    expect(candidateAccelerator({ platform: 'linux', arch: 'x64', cpuinfo: cpuinfo('vmx'), kvmDevice: false })).toBe('tcg');
  });

  it('uses the platform hypervisor on macOS and Windows', () => {
    expect(candidateAccelerator({ platform: 'darwin', arch: 'arm64' })).toBe('hvf');
    expect(candidateAccelerator({ platform: 'win32', arch: 'x64' })).toBe('whpx');
  });

  it('reads the flags and the TSC rate from /proc/cpuinfo', () => {
    expect(cpuFlags(cpuinfo('svm')).has('svm')).toBe(true);
    expect(cpuFlags('')).toEqual(new Set());
    expect(hostTscKhz(cpuinfo(''))).toBe(2596144);
    expect(hostTscKhz('processor: 0\n')).toBeUndefined();
  });
});
