// The qemu backend: microvm + the uncompressed kernel, user networking with a loopback hostfwd
// for berthd's API, a virtio-serial control port for graceful power-off, 9p shares, and QMP.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { candidateAccelerator, hostTscKhz, kvmDeviceUsable, probeAccelerator, type Accelerator } from './accelerator.js';
import { processExit, type PortForward, type VmBackend, type VmHandle } from './backend.js';
import type { VmConfig, VmPaths } from './config.js';
import { ControlChannel } from './control-channel.js';
import { ensureDataDisk } from './data-disk.js';
import { freeLoopbackPort } from './free-port.js';
import { qemuArgs, qemuHostfwd, qemuHostfwdKey } from './qemu-args.js';
import { QmpClient } from './qmp.js';

export interface QemuOptions {
  /** qemu-system-x86_64 / qemu-system-aarch64 by default, from PATH. */
  binary?: string;
  /** Skip detection (e.g. BERTH_VM_ACCEL=tcg). */
  accelerator?: Accelerator;
  /** Diagnostics: run this instead of berthd. */
  exec?: string[];
  /** Bench: a Node script (guest path) served in berthd's place, the rest of the boot unchanged. */
  engine?: string;
}

export class QemuBackend implements VmBackend {
  readonly kind = 'qemu' as const;
  private readonly arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  private readonly binary: string;
  private chosen: Accelerator | undefined;

  constructor(private readonly options: QemuOptions = {}) {
    this.binary = options.binary ?? `qemu-system-${this.arch}`;
    this.chosen = options.accelerator;
  }

  async unavailableReason(): Promise<string | undefined> {
    const ok = await new Promise<boolean>((resolve) => {
      const c = spawn(this.binary, ['--version'], { stdio: 'ignore' });
      c.on('error', () => resolve(false));
      c.on('exit', (code) => resolve(code === 0));
    });
    return ok ? undefined : `${this.binary} was not found: install qemu (Debian: apt-get install qemu-system-x86; macOS: brew install qemu)`;
  }

  /** KVM/HVF/WHPX when the host offers it and a probe boot works, else TCG. Decided once per backend. */
  async accelerator(config: VmConfig): Promise<Accelerator> {
    if (this.chosen) return this.chosen;
    const cpuinfo = process.platform === 'linux' ? readFileSync('/proc/cpuinfo', 'utf8') : undefined;
    const candidate = candidateAccelerator({ platform: process.platform, arch: process.arch, cpuinfo, kvmDevice: process.platform === 'linux' && kvmDeviceUsable() });
    this.chosen = candidate !== 'tcg' && !(await probeAccelerator(this.binary, candidate, config.image.kernel, config.image.initrd)) ? 'tcg' : candidate;
    return this.chosen;
  }

  async start(config: VmConfig, paths: VmPaths): Promise<VmHandle> {
    for (const f of [config.image.kernel, config.image.initrd, config.image.rootfs]) {
      if (!existsSync(f)) throw new Error(`the VM image is incomplete (${f} is missing): run "npm run build:vm"`);
    }
    mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    ensureDataDisk(paths.dataDisk, config.resources.diskGiB);
    const accelerator = await this.accelerator(config);
    const apiHostPort = await freeLoopbackPort();
    const cpuinfo = process.platform === 'linux' ? readFileSync('/proc/cpuinfo', 'utf8') : '';
    const args = qemuArgs({ config, paths, accelerator, arch: this.arch, apiHostPort, tscKhz: hostTscKhz(cpuinfo), exec: this.options.exec, engine: this.options.engine });
    const child = spawn(this.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => { stderr = (stderr + d).slice(-4096); });
    const { exited, isRunning } = processExit(child);
    const whyDead = () => `qemu exited during boot${stderr.trim() ? `: ${stderr.trim()}` : ''}`;

    let control: ControlChannel;
    try {
      control = await ControlChannel.connect(paths.controlSocket, Date.now() + 10_000, isRunning);
    } catch (err) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(isRunning() ? (err as Error).message : whyDead());
    }
    void exited.then(() => control.close());

    const kill = async () => {
      if (!isRunning()) return;
      // "quit" lets qemu flush its block layer; a signal is the fallback when the monitor is stuck.
      try {
        const qmp = await QmpClient.connect(paths.qmpSocket);
        await Promise.race([qmp.execute('quit').catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
        qmp.close();
      } catch {
        child.kill('SIGTERM');
      }
      const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
      if (!done) child.kill('SIGKILL');
      await exited;
    };

    // One monitor connection for the VM's life, opened on first use: port forwards change often.
    let qmp: Promise<QmpClient> | undefined;
    const monitor = async () => {
      if (qmp && (await qmp.catch(() => undefined))?.closed === false) return qmp;
      // (re)connect: the first try failed or the connection dropped; later forwards must not inherit that
      qmp = QmpClient.connect(paths.qmpSocket);
      return qmp;
    };
    void exited.then(async () => (await qmp?.catch(() => undefined))?.close());
    const hostfwd = async (verb: 'hostfwd_add' | 'hostfwd_remove', f: PortForward) => {
      const rule = verb === 'hostfwd_add' ? qemuHostfwd(f) : qemuHostfwdKey(f);
      const out = (await (await monitor()).hmp(`${verb} net0 ${rule}`)).trim();
      // The monitor answers in text: nothing when a rule is added, "... removed" when one is
      // removed, a sentence otherwise ("Could not set up host forwarding rule ...", "... not found").
      const ok = verb === 'hostfwd_add' ? out === '' : /removed$/.test(out);
      if (!ok) throw new Error(`port ${f.hostIp}:${f.hostPort}: ${out}`);
    };

    return {
      pid: child.pid,
      accelerator,
      addPortForward: (f) => hostfwd('hostfwd_add', f),
      removePortForward: (f) => hostfwd('hostfwd_remove', f),
      apiTarget: { kind: 'tcp', host: '127.0.0.1', port: apiHostPort },
      exited,
      isRunning,
      requestPowerOff: async () => isRunning() && control.requestPowerOff(),
      kill,
      processOutput: () => stderr,
    };
  }
}
