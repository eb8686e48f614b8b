// The VM's lifecycle: start (boot, forward the API socket, wait for berthd's /_ping), stop
// (graceful power-off through the control channel, then forced), restart, reset, status.
// The Electron main process holds one VmManager; `berth vm` runs one in a supervisor process.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import type { PortForward, VmBackend, VmHandle } from './backend.js';
import { vmPaths, type VmConfig, type VmPaths } from './config.js';
import { consoleTail } from './console-log.js';
import { diagnose, type Diagnosis } from './diagnosis.js';
import { wipeDataDisk } from './data-disk.js';
import { ping, waitForPing } from './health.js';
import { EngineClient } from '../engine/engine-client.js';
import { HostSocketForwarder } from './host-socket.js';
import { PortPublisher } from './port-publisher.js';
import { otherLiveOwner, writeState, type VmOwner } from './state-file.js';

export type VmState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed';

export interface VmStatus {
  state: VmState;
  backend: string;
  /** DOCKER_HOST value while running. */
  dockerHost?: string;
  accelerator?: string;
  pid?: number;
  /** Milliseconds from launching the VM to berthd's first /_ping answer through the host socket. */
  bootMs?: number;
  /** berthd answered /_ping just now. */
  healthy?: boolean;
  error?: string;
  /** The console's last lines when something failed: where the boot stopped. */
  consoleTail?: string[];
  /** A known failure recognised in those lines, with what to try. */
  diagnosis?: Diagnosis;
  consoleLog: string;
}

export interface StopResult {
  /** The guest did not power off within the timeout and was killed. */
  forced: boolean;
}

export class VmManager {
  readonly paths: VmPaths;
  private state: VmState = 'stopped';
  private handle: VmHandle | undefined;
  private forwarder: HostSocketForwarder | undefined;
  private publisher: PortPublisher | undefined;
  private bootMs: number | undefined;
  private error: string | undefined;
  private processOutput = '';
  private listeners = new Set<(s: VmStatus) => void>();

  constructor(readonly config: VmConfig, private readonly backend: VmBackend, private readonly owner: VmOwner = 'app') {
    this.paths = vmPaths(config.stateDir);
  }

  /** Called on every state change (the app's boot progress and tray). */
  onChange(fn: (s: VmStatus) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private set(state: VmState, error?: string): void {
    this.state = state;
    this.error = error;
    const s = this.snapshot();
    writeState(this.paths.stateFile, { ...s, owner: this.owner, ownerPid: process.pid, resources: this.config.resources, shares: this.config.shares });
    for (const fn of this.listeners) fn(s);
  }

  private snapshot(): VmStatus {
    const s: VmStatus = { state: this.state, backend: this.backend.kind, consoleLog: this.paths.consoleLog };
    if (this.handle) {
      s.accelerator = this.handle.accelerator;
      s.pid = this.handle.pid;
    }
    if (this.state === 'running') {
      s.dockerHost = `unix://${this.paths.apiSocket}`;
      s.bootMs = this.bootMs;
    }
    if (this.error) {
      s.error = this.error;
      s.consoleTail = consoleTail(this.paths.consoleLog);
      s.diagnosis = diagnose(s.consoleTail, this.processOutput);
    }
    return s;
  }

  async status(): Promise<VmStatus> {
    const s = this.snapshot();
    if (this.state === 'running') s.healthy = await ping(this.paths.apiSocket);
    return s;
  }

  async start(): Promise<VmStatus> {
    if (this.state === 'running' || this.state === 'starting') return this.snapshot();
    if (this.state === 'stopping') throw new Error('the VM is stopping: wait for it to stop, then start it again');
    mkdirSync(this.config.stateDir, { recursive: true, mode: 0o700 });
    const other = otherLiveOwner(this.paths.stateFile);
    if (other) {
      throw new Error(`the VM in ${this.config.stateDir} is already ${other.state} in another process (${other.owner === 'app' ? 'the Berth app' : '"berth vm"'}, pid ${other.ownerPid}): stop it there first`);
    }
    rmSync(this.paths.consoleLog, { force: true }); // a stale log would mislead the diagnosis
    this.set('starting');
    const t0 = Date.now();
    try {
      this.handle = await this.backend.start(this.config, this.paths);
      const handle = this.handle;
      if (handle.apiTarget) this.forwarder = await HostSocketForwarder.listen(this.paths.apiSocket, handle.apiTarget);
      await waitForPing(this.paths.apiSocket, t0 + this.config.bootTimeoutSec * 1000, () =>
        handle.isRunning() ? undefined : `the VM stopped during boot${handle.processOutput().trim() ? `: ${handle.processOutput().trim()}` : ''}`);
      this.bootMs = Date.now() - t0;
      void handle.exited.then((code) => this.onExit(handle, code));
      this.set('running');
      // Containers' published ports follow berthd's events onto the host, where the backend needs it
      // (WSL relays localhost by itself).
      if (handle.addPortForward) {
        this.publisher = new PortPublisher(new EngineClient({ kind: 'unix', socketPath: this.paths.apiSocket }), this, (err) => this.onPublishError(err));
        this.publisher.start();
      }
      return this.snapshot();
    } catch (err) {
      this.processOutput = this.handle?.processOutput() ?? '';
      await this.teardown(true);
      const log = existsSync(this.paths.consoleLog) ? `. The console log is ${this.paths.consoleLog}` : '';
      this.set('failed', `the VM did not start: ${(err as Error).message}${log}`);
      throw Object.assign(new Error(this.error!), { status: this.snapshot() });
    }
  }

  private async onExit(handle: VmHandle, code: number | null): Promise<void> {
    if (this.handle !== handle || this.state === 'stopping') return;
    this.processOutput = handle.processOutput();
    await this.teardown(false);
    this.set('failed', `the VM stopped unexpectedly (exit status ${code ?? 'unknown'})`);
  }

  /** Graceful power-off (berthd drains, disks sync), then forced after config.stopTimeoutSec. */
  async stop(): Promise<StopResult> {
    const handle = this.handle;
    if (!handle || !handle.isRunning()) {
      await this.teardown(false);
      this.set('stopped');
      return { forced: false };
    }
    this.set('stopping');
    let forced = false;
    const delivered = await handle.requestPowerOff();
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), delivered ? this.config.stopTimeoutSec * 1000 : 0).unref());
    if ((await Promise.race([handle.exited.then(() => 'exited' as const), timeout])) === 'timeout') {
      forced = true;
      await handle.kill();
    }
    await this.teardown(false);
    this.set('stopped');
    return { forced };
  }

  /** Published ports that could not be forwarded (a host port in use), for the app to show. */
  readonly publishErrors: string[] = [];

  private onPublishError(err: Error): void {
    this.publishErrors.push(err.message);
    if (this.publishErrors.length > 20) this.publishErrors.shift();
  }

  /** Host forwards currently in place for containers' published ports. */
  publishedPorts(): PortForward[] {
    return this.publisher?.forwards() ?? [];
  }

  /** Publishes a guest port on the host (containers' -p); a no-op where the platform does it. */
  async addPortForward(f: PortForward): Promise<void> {
    if (this.state !== 'running' || !this.handle) throw new Error('the VM is not running');
    await this.handle.addPortForward?.(f);
  }

  async removePortForward(f: PortForward): Promise<void> {
    if (this.state !== 'running' || !this.handle) return;
    await this.handle.removePortForward?.(f);
  }

  async restart(): Promise<VmStatus> {
    await this.stop();
    return this.start();
  }

  /** Wipes the data disk (every image, container and volume in the VM). Only while stopped. */
  reset(): void {
    if (this.state === 'running' || this.state === 'starting' || this.state === 'stopping') {
      throw new Error('stop the VM before resetting it');
    }
    wipeDataDisk(this.paths.dataDisk);
  }

  private async teardown(killVm: boolean): Promise<void> {
    this.publisher?.stop();
    this.publisher = undefined;
    if (killVm && this.handle?.isRunning()) await this.handle.kill();
    await this.forwarder?.close();
    this.forwarder = undefined;
    if (killVm || !this.handle?.isRunning()) this.handle = undefined;
  }
}
