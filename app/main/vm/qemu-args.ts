// The qemu command line, built as a pure function so it is unit-tested and readable in one place.
import type { Accelerator } from './accelerator.js';
import type { PortForward } from './backend.js';
import type { VmConfig, VmPaths } from './config.js';
import { guestShares, kernelCmdline } from './kernel-cmdline.js';

export interface QemuPlan {
  config: VmConfig;
  paths: VmPaths;
  accelerator: Accelerator;
  arch: 'x86_64' | 'aarch64';
  /** Loopback port on the host that reaches berthd's API listener in the guest. */
  apiHostPort: number;
  /** Port of the guest's API listener (berth-init's socat). */
  apiGuestPort?: number;
  tscKhz?: number;
  exec?: string[];
  engine?: string;
}

/** qemu's option syntax doubles commas inside values. */
export function qemuValue(s: string): string {
  return s.replaceAll(',', ',,');
}

export function qemuArgs(p: QemuPlan): string[] {
  const { config, paths } = p;
  const guestPort = p.apiGuestPort ?? 2375;
  const x86 = p.arch === 'x86_64';
  const shares = guestShares(config.shares);
  const cmdline = kernelCmdline({
    console: x86 ? 'ttyS0' : 'ttyAMA0',
    net: 'static',
    shares,
    // qemu user networking presents host connections as coming from 10.0.2.2
    api: `tcp:${guestPort}:10.0.2.2`,
    control: 'serial:berth.control',
    tscKhz: x86 && p.accelerator === 'tcg' ? p.tscKhz : undefined,
    exec: p.exec,
    engine: p.engine,
  });
  // Under TCG x86 keeps qemu's default CPU model (fewer features to emulate); arm64's default is 32-bit.
  const accel = p.accelerator !== 'tcg' ? ['-accel', p.accelerator, '-cpu', 'host'] : x86 ? ['-accel', 'tcg'] : ['-accel', 'tcg', '-cpu', 'max'];
  const args = [
    // microvm: no PCI, no firmware, no legacy devices: the shortest path to the kernel on x86.
    '-M', x86 ? 'microvm' : 'virt',
    ...accel,
    '-smp', String(config.resources.cpus),
    '-m', `${config.resources.memoryMiB}M`,
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-name', qemuValue(`berth-${config.name}`),
    '-chardev', `file,id=console,path=${qemuValue(paths.consoleLog)}`,
    '-serial', 'chardev:console',
    '-qmp', `unix:${qemuValue(paths.qmpSocket)},server=on,wait=off`,
    '-kernel', config.image.kernel,
    '-initrd', config.image.initrd,
    '-append', cmdline,
    '-drive', `id=root,file=${qemuValue(config.image.rootfs)},if=none,format=raw,readonly=on`,
    '-device', 'virtio-blk-device,drive=root,serial=berth-root',
    '-drive', `id=data,file=${qemuValue(paths.dataDisk)},if=none,format=raw,discard=unmap`,
    '-device', 'virtio-blk-device,drive=data,serial=berth-data',
    '-netdev', `user,id=net0,hostfwd=${qemuHostfwd({ proto: 'tcp', hostIp: '127.0.0.1', hostPort: p.apiHostPort, guestPort })}`,
    '-device', 'virtio-net-device,netdev=net0',
    '-device', 'virtio-rng-device',
    '-device', 'virtio-serial-device',
    '-chardev', `socket,id=control,path=${qemuValue(paths.controlSocket)},server=on,wait=off`,
    '-device', 'virtserialport,chardev=control,name=berth.control',
  ];
  shares.forEach((s, i) => {
    args.push('-fsdev', `local,id=fs${i},path=${qemuValue(s.path)},security_model=none`,
      '-device', `virtio-9p-device,fsdev=fs${i},mount_tag=${s.tag}`);
  });
  return args;
}

/** A user-network forwarding rule, as -netdev hostfwd= and the monitor's hostfwd_add take it. */
export function qemuHostfwd(f: PortForward): string {
  return `${f.proto}:${f.hostIp}:${f.hostPort}-:${f.guestPort}`;
}

/** hostfwd_remove names a rule by its host side only. */
export function qemuHostfwdKey(f: PortForward): string {
  return `${f.proto}:${f.hostIp}:${f.hostPort}`;
}
