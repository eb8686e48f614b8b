// Apple Virtualization.framework through vfkit (macOS). vsock replaces both qemu's hostfwd and the
// virtio-serial control port: vfkit serves berthd's API socket itself ("connect" mode: a host client
// on the unix socket reaches the guest's vsock port), and virtio-fs shares folders.
import { spawn } from 'node:child_process';
import { constants, copyFileSync, mkdirSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { processExit, type VmBackend, type VmHandle } from './backend.js';
import type { VmConfig, VmPaths } from './config.js';
import { ensureDataDisk } from './data-disk.js';
import { guestShares, kernelCmdline } from './kernel-cmdline.js';

export const VFKIT_API_PORT = 2375;
export const VFKIT_CONTROL_PORT = 1025;

export function vfkitRootClone(paths: VmPaths): string {
  return path.join(path.dirname(paths.stateFile), 'rootfs.img');
}

export function vfkitRestSocket(paths: VmPaths): string {
  return path.join(path.dirname(paths.stateFile), 'vfkit.sock');
}

/** vfkit's option values are comma-separated key=value lists; these characters cannot be escaped. */
function vfkitPath(p: string): string {
  if (/[,"]/.test(p)) throw new Error(`"${p}" cannot be given to vfkit: its path holds a comma or a quote; move it or rename it`);
  return p;
}

export function vfkitArgs(config: VmConfig, paths: VmPaths): string[] {
  const shares = guestShares(config.shares);
  const cmdline = kernelCmdline({
    console: 'hvc0',
    net: 'dhcp', // vfkit's NAT (vmnet) hands out leases
    shares,
    api: `vsock:${VFKIT_API_PORT}`,
    control: `vsock:${VFKIT_CONTROL_PORT}`,
  });
  const args = [
    '--cpus', String(config.resources.cpus),
    '--memory', String(config.resources.memoryMiB),
    '--bootloader', `linux,kernel=${vfkitPath(config.image.kernel)},initrd=${vfkitPath(config.image.initrd)},cmdline="${cmdline}"`,
    // deviceId becomes the virtio-blk serial that stage 1 and berth-init look for
    '--device', `virtio-blk,path=${vfkitPath(config.image.rootfs)},deviceId=berth-root`,
    '--device', `virtio-blk,path=${vfkitPath(paths.dataDisk)},deviceId=berth-data`,
    '--device', 'virtio-net,nat',
    '--device', 'virtio-rng',
    '--device', `virtio-serial,logFilePath=${vfkitPath(paths.consoleLog)}`,
    '--device', `virtio-vsock,port=${VFKIT_API_PORT},socketURL=${vfkitPath(paths.apiSocket)},connect`,
    '--device', `virtio-vsock,port=${VFKIT_CONTROL_PORT},socketURL=${vfkitPath(paths.controlSocket)},connect`,
  ];
  for (const s of shares) args.push('--device', `virtio-fs,sharedDir=${vfkitPath(s.path)},mountTag=${s.tag}`);
  args.push('--restful-uri', `unix://${vfkitPath(vfkitRestSocket(paths))}`);
  return args;
}

/** The body vfkit's REST API takes to change the VM's state. */
export function vfkitStateRequest(state: 'Stop' | 'HardStop'): { method: 'POST'; path: '/vm/state'; body: string } {
  return { method: 'POST', path: '/vm/state', body: JSON.stringify({ state }) };
}

function rest(socketPath: string, state: 'Stop' | 'HardStop'): Promise<boolean> {
  const r = vfkitStateRequest(state);
  return new Promise((resolve) => {
    const req = http.request({ socketPath, method: r.method, path: r.path, headers: { 'content-type': 'application/json' }, timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end(r.body);
  });
}

export class VfkitBackend implements VmBackend {
  readonly kind = 'vfkit' as const;
  constructor(private readonly binary = 'vfkit') {}

  async unavailableReason(): Promise<string | undefined> {
    if (process.platform !== 'darwin') return 'vfkit runs on macOS only';
    const ok = await new Promise<boolean>((resolve) => {
      const c = spawn(this.binary, ['--version'], { stdio: 'ignore' });
      c.on('error', () => resolve(false));
      c.on('exit', (code) => resolve(code === 0));
    });
    return ok ? undefined : 'vfkit was not found: install it (brew install vfkit) or use the qemu backend';
  }

  async start(config: VmConfig, paths: VmPaths): Promise<VmHandle> {
    mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    ensureDataDisk(paths.dataDisk, config.resources.diskGiB);
    // Virtualization.framework opens disks read-write and the app bundle is read-only (and signed):
    // the VM gets an APFS clone of the root image, which costs no space until written.
    const rootfs = vfkitRootClone(paths);
    const src = statSync(config.image.rootfs);
    const clone = (() => { try { return statSync(rootfs); } catch { return undefined; } })();
    if (!clone || clone.size !== src.size || clone.mtimeMs < src.mtimeMs) copyFileSync(config.image.rootfs, rootfs, constants.COPYFILE_FICLONE);
    const child = spawn(this.binary, vfkitArgs({ ...config, image: { ...config.image, rootfs } }, paths), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => { stderr = (stderr + d).slice(-4096); });
    const { exited, isRunning } = processExit(child);
    const restSocket = vfkitRestSocket(paths);
    return {
      pid: child.pid,
      accelerator: 'Virtualization.framework',
      apiTarget: undefined,
      exited,
      isRunning,
      processOutput: () => stderr,
      requestPowerOff: async () => {
        if (!isRunning()) return false;
        // berth-init's control listener first (it drains berthd); the framework's stop request otherwise
        const viaControl = await new Promise<boolean>((resolve) => {
          const s = net.connect(paths.controlSocket, () => s.end('poweroff\n', () => resolve(true)));
          s.on('error', () => resolve(false));
        });
        return viaControl || rest(restSocket, 'Stop');
      },
      kill: async () => {
        if (!isRunning()) return;
        if (!(await rest(restSocket, 'HardStop'))) child.kill('SIGTERM');
        const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
        if (!done) child.kill('SIGKILL');
        await exited;
      },
    };
  }
}
