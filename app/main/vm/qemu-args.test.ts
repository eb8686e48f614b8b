import { describe, expect, it } from 'vitest';
import { imageFromDir, vmPaths, type VmConfig } from './config.js';
import { qemuArgs, qemuHostfwd, qemuHostfwdKey, qemuValue } from './qemu-args.js';

const config: VmConfig = {
  name: 'default', stateDir: '/state', image: imageFromDir('/img'), resources: { cpus: 3, memoryMiB: 1536, diskGiB: 10 },
  shares: ['/home/ann', '/data/a,b'], stopTimeoutSec: 10, bootTimeoutSec: 60,
};
const argAfter = (args: string[], flag: string) => args.filter((_, i) => args[i - 1] === flag);

describe('qemu command line', () => {
  const tcg = qemuArgs({ config, paths: vmPaths('/state'), accelerator: 'tcg', arch: 'x86_64', apiHostPort: 40123, tscKhz: 2596144 });

  it('boots the uncompressed kernel on microvm, with the TSC rate under TCG', () => {
    expect(argAfter(tcg, '-M')).toEqual(['microvm']);
    expect(argAfter(tcg, '-accel')).toEqual(['tcg']);
    expect(argAfter(tcg, '-kernel')).toEqual(['/img/vmlinux']);
    expect(argAfter(tcg, '-initrd')).toEqual(['/img/initrd.img']);
    expect(argAfter(tcg, '-append')[0]).toContain('tsc_early_khz=2596144');
    expect(argAfter(tcg, '-smp')).toEqual(['3']);
    expect(argAfter(tcg, '-m')).toEqual(['1536M']);
  });

  it('attaches the root read-only and the data disk by serial, and forwards the API to loopback only', () => {
    const drives = argAfter(tcg, '-drive');
    expect(drives[0]).toBe('id=root,file=/img/rootfs.img,if=none,format=raw,readonly=on');
    expect(drives[1]).toContain('file=/state/data.img');
    expect(argAfter(tcg, '-device')).toEqual(expect.arrayContaining(['virtio-blk-device,drive=root,serial=berth-root', 'virtio-blk-device,drive=data,serial=berth-data',
      'virtserialport,chardev=control,name=berth.control']));
    expect(argAfter(tcg, '-netdev')).toEqual(['user,id=net0,hostfwd=tcp:127.0.0.1:40123-:2375']);
    expect(argAfter(tcg, '-append')[0]).toContain('berth.api=tcp:2375:10.0.2.2');
  });

  it('shares folders over 9p with escaped paths and tags the guest mounts at the same path', () => {
    expect(argAfter(tcg, '-fsdev')).toEqual(['local,id=fs0,path=/home/ann,security_model=none', 'local,id=fs1,path=/data/a,,b,security_model=none']);
    expect(argAfter(tcg, '-append')[0]).toContain('berth.share=share1:/data/a%2Cb');
    expect(qemuValue('a,b,,c')).toBe('a,,b,,,,c');
  });

  it('uses the host CPU and no TSC hint with a hardware accelerator', () => {
    const kvm = qemuArgs({ config, paths: vmPaths('/state'), accelerator: 'kvm', arch: 'x86_64', apiHostPort: 1, tscKhz: 2596144 });
    expect(argAfter(kvm, '-accel')).toEqual(['kvm']);
    expect(argAfter(kvm, '-cpu')).toEqual(['host']);
    expect(argAfter(kvm, '-append')[0]).not.toContain('tsc_early_khz');
    const arm = qemuArgs({ config, paths: vmPaths('/state'), accelerator: 'tcg', arch: 'aarch64', apiHostPort: 1 });
    expect(argAfter(arm, '-M')).toEqual(['virt']);
    expect(argAfter(arm, '-cpu')).toEqual(['max']);
    expect(argAfter(arm, '-append')[0]).toContain('console=ttyAMA0');
  });

  it('writes published ports as hostfwd rules, removed by their host side', () => {
    const f = { proto: 'tcp' as const, hostIp: '127.0.0.1', hostPort: 8080, guestPort: 80 };
    expect(qemuHostfwd(f)).toBe('tcp:127.0.0.1:8080-:80');
    expect(qemuHostfwdKey({ ...f, proto: 'udp' })).toBe('udp:127.0.0.1:8080');
  });
});
