// The kernel command line is how the host configures the guest: vm-image/files/berth-init reads the
// berth.* keys. Every backend that boots our kernel (qemu, vfkit) builds it here.

export interface GuestShare {
  /** 9p mount_tag or virtiofs tag: at most 31 bytes, so tags are short generated names. */
  tag: string;
  /** Absolute host path, mounted at the same path in the guest. */
  path: string;
}

export interface CmdlineOptions {
  /** Serial console device: ttyS0 (qemu), hvc0 (vfkit's virtio console). */
  console: 'ttyS0' | 'hvc0' | 'ttyAMA0';
  net: 'static' | 'dhcp';
  shares: GuestShare[];
  /** tcp:PORT[:ALLOWED_SOURCE] or vsock:PORT. */
  api: string;
  /** serial:PORTNAME or vsock:PORT. */
  control: string;
  /** TSC rate for microvm under TCG: without it early boot can spin forever calibrating the clock. */
  tscKhz?: number;
  /** A command that replaces berthd (diagnostics and image self-tests). */
  exec?: string[];
  /**
   * A Node script the guest runs in berthd's place, with the same boot, socket and relay (the bench's
   * floor: a bare Node server answering /_ping). A guest path, e.g. in a shared folder.
   */
  engine?: string;
}

export const MAX_CMDLINE = 2048; // x86 COMMAND_LINE_SIZE; arm64 allows the same

/** Built-in initcalls the guest skips (see kernelCmdline); unknown names are ignored by the kernel. */
export const SKIPPED_INITCALLS = ['init_kprobe_trace', 'crypto_kdf108_init'];

/** CONFIG_HZ of Debian's kernels: loops per jiffy = TSC Hz / HZ. */
const GUEST_HZ = 250;

export function kernelCmdline(o: CmdlineOptions): string {
  // cryptomgr.notests: the crypto self-tests are the slowest initcall under TCG (~0.35 s) and
  // guard against miscompiled algorithms, which a distribution kernel is not.
  // initcall_blacklist: two built-in initcalls that do nothing the VM uses and are the slowest left
  // under TCG (measured with initcall_debug): the kprobe trace events' boot set-up (~0.24 s) and the
  // KDF108 self-test, which cryptomgr.notests does not cover (~0.17 s).
  const parts = [`console=${o.console}`, 'quiet', 'panic=-1', 'cryptomgr.notests', `initcall_blacklist=${SKIPPED_INITCALLS.join(',')}`, '8250.nr_uarts=1',
    'berth.root=berth-root', 'berth.data=berth-data', `berth.net=${o.net}`, `berth.api=${o.api}`, `berth.control=${o.control}`];
  // Under TCG every vCPU reads the TSC from qemu's one virtual clock, but the boot-time sync check
  // sees thread skew, marks it unstable, and the guest falls back to 4 ms jiffies. lpj= spares each
  // secondary vCPU its delay-loop calibration (~0.13 s under TCG); delays use the TSC anyway.
  if (o.tscKhz) parts.push(`tsc_early_khz=${o.tscKhz}`, 'tsc=reliable', `lpj=${Math.round((o.tscKhz * 1000) / GUEST_HZ)}`);
  for (const s of o.shares) parts.push(`berth.share=${s.tag}:${encodeSharePath(s.path)}`);
  if (o.engine) {
    if (!o.engine.startsWith('/')) throw new Error(`the engine script "${o.engine}" must be an absolute path in the guest`);
    parts.push(`berth.engine=${encodeSharePath(o.engine)}`);
  }
  if (o.exec?.length) parts.push('--', ...o.exec.map(encodeExecArg));
  const line = parts.join(' ');
  if (line.length > MAX_CMDLINE) {
    throw new Error(`the kernel command line is ${line.length} bytes, over the ${MAX_CMDLINE}-byte limit: share fewer folders or shorter paths`);
  }
  return line;
}

/** Share paths may hold spaces and any byte: everything outside a safe set becomes %XX (UTF-8). */
export function encodeSharePath(p: string): string {
  if (!p.startsWith('/')) throw new Error(`shared folder "${p}" must be an absolute path`);
  let out = '';
  for (const byte of Buffer.from(p, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9/._+~@-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeSharePath(encoded: string): string {
  return Buffer.from(encoded.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
}

function encodeExecArg(a: string): string {
  if (/[\s"]/.test(a) || a === '') throw new Error(`diagnostic command argument ${JSON.stringify(a)} cannot be passed on the kernel command line`);
  return a;
}

/** Tags for the shares, in order: share0, share1, … */
export function guestShares(paths: string[]): GuestShare[] {
  return paths.map((p, i) => ({ tag: `share${i}`, path: p }));
}
