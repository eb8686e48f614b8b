// For tests only: a busybox OCI bundle (Debian's static /bin/busybox) and a minimal
// config.json that runc and crun accept. The real spec builder lives with the container layer.
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

const APPLETS = ['sh', 'echo', 'cat', 'tty', 'stty', 'sleep', 'true', 'ls', 'head', 'yes', 'seq', 'printf', 'kill', 'ps', 'tail'];

const CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];

/** Builds DIR/rootfs with busybox and its applets once; bundles share it read-only. */
export async function makeBusyboxRootfs(dir: string): Promise<string> {
  const rootfs = path.join(dir, 'rootfs');
  await mkdir(path.join(rootfs, 'bin'), { recursive: true });
  for (const d of ['proc', 'dev', 'sys', 'tmp', 'etc']) await mkdir(path.join(rootfs, d), { recursive: true });
  await copyFile('/bin/busybox', path.join(rootfs, 'bin/busybox'));
  for (const a of APPLETS) await symlink('busybox', path.join(rootfs, 'bin', a));
  return rootfs;
}

export interface BundleOptions {
  args: string[];
  tty?: boolean;
  /** Absolute cgroups path; keep it one level deep so runc delete removes it entirely. */
  cgroupsPath: string;
  memoryLimit?: number;
}

/** Writes BUNDLE/config.json over a shared rootfs (absolute root.path, read-only). */
export async function makeBundle(bundle: string, rootfs: string, o: BundleOptions): Promise<string> {
  await mkdir(bundle, { recursive: true });
  const spec = {
    ociVersion: '1.0.2',
    process: {
      terminal: o.tty ?? false,
      user: { uid: 0, gid: 0 },
      args: o.args,
      env: ['PATH=/bin', 'TERM=xterm', 'HOME=/'],
      cwd: '/',
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
      // The hard RLIMIT_NOFILE here is 20000; asking for more fails the create.
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: true },
    hostname: 'berth-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }],
      cgroupsPath: o.cgroupsPath,
      resources: {
        devices: [{ allow: false, access: 'rwm' }],
        ...(o.memoryLimit ? { memory: { limit: o.memoryLimit, swap: o.memoryLimit } } : {}),
      },
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  await writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec, null, 1));
  return bundle;
}
