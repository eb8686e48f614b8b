// What a VM is made of: the image the build produced, the resources the user gave it, the folders
// it shares, and the directory where its disk, sockets and console log live.
import os from 'node:os';
import path from 'node:path';

export interface VmResources {
  cpus: number;
  memoryMiB: number;
  /** Size of the data disk; growing it takes effect at the next boot, shrinking is refused. */
  diskGiB: number;
}

/** Files of vm-image/out (see vm-image/build.sh). */
export interface VmImage {
  /** Uncompressed kernel (PVH ELF on x86_64, `Image` on arm64). */
  kernel: string;
  /** Compressed kernel (bzImage) for loaders that prefer it. */
  kernelCompressed: string;
  initrd: string;
  rootfs: string;
  /** Root tree as a tarball, for `wsl --import` (built with BERTH_VM_WSL=1). */
  rootfsTar: string;
}

export interface VmConfig {
  /** Short name: the WSL distribution name and part of log lines. */
  name: string;
  stateDir: string;
  image: VmImage;
  resources: VmResources;
  /** Absolute host folders shared into the VM at the same path. */
  shares: string[];
  /** Seconds a graceful stop may take before the VM is killed. */
  stopTimeoutSec: number;
  /** Seconds a boot may take before it is declared failed. */
  bootTimeoutSec: number;
}

/** Where a VM keeps its files; one directory per VM so several can coexist (tests use temporary ones). */
export interface VmPaths {
  dataDisk: string;
  consoleLog: string;
  controlSocket: string;
  qmpSocket: string;
  /** berthd's API on the host: the socket DOCKER_HOST points at. */
  apiSocket: string;
  stateFile: string;
}

export function vmPaths(stateDir: string): VmPaths {
  return {
    dataDisk: path.join(stateDir, 'data.img'),
    consoleLog: path.join(stateDir, 'console.log'),
    controlSocket: path.join(stateDir, 'control.sock'),
    qmpSocket: path.join(stateDir, 'qmp.sock'),
    apiSocket: path.join(stateDir, 'docker.sock'),
    stateFile: path.join(stateDir, 'state.json'),
  };
}

export function imageFromDir(dir: string): VmImage {
  return {
    kernel: path.join(dir, 'vmlinux'),
    kernelCompressed: path.join(dir, 'vmlinuz'),
    initrd: path.join(dir, 'initrd.img'),
    rootfs: path.join(dir, 'rootfs.img'),
    rootfsTar: path.join(dir, 'rootfs.tar.gz'),
  };
}

export const DEFAULT_RESOURCES: VmResources = { cpus: 2, memoryMiB: 2048, diskGiB: 64 };

/**
 * Where the VM lives unless configured: the app and `berth vm` use the same place, so each sees the
 * VM the other started (state.json says who owns it).
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.BERTH_VM_DIR) return env.BERTH_VM_DIR;
  if (platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'Berth', 'vm');
  if (platform === 'win32') return path.join(env.LOCALAPPDATA ?? os.homedir(), 'Berth', 'vm');
  return path.join(env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state'), 'berth', 'vm');
}
