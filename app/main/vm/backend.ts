// One interface over the ways Berth runs its Linux VM: qemu (Linux, and macOS/Windows with
// hvf/whpx), Apple Virtualization through vfkit (macOS) and WSL 2 (Windows).
import type { VmConfig, VmPaths } from './config.js';
import type { ApiTarget } from './host-socket.js';

export type BackendKind = 'qemu' | 'vfkit' | 'wsl';

/** A guest port made reachable on the host (a container's published port). */
export interface PortForward {
  proto: 'tcp' | 'udp';
  /** Host address to listen on: 127.0.0.1 unless the user published on another address. */
  hostIp: string;
  hostPort: number;
  guestPort: number;
}

/** A booting or running VM, as its backend started it. */
export interface VmHandle {
  readonly pid: number | undefined;
  /** kvm, tcg, hvf, whpx, "Virtualization.framework", "WSL 2". */
  readonly accelerator: string;
  /**
   * Where the host socket forwarder connects to reach berthd in the guest; undefined when the
   * backend itself serves paths.apiSocket (vfkit maps a vsock port straight to a unix socket).
   */
  readonly apiTarget: ApiTarget | undefined;
  /** Settles with the exit status once the VM process is gone. */
  readonly exited: Promise<number | null>;
  isRunning(): boolean;
  /** Asks the guest to shut down cleanly; false when the request could not be delivered. */
  requestPowerOff(): Promise<boolean>;
  /** Ends the VM now. */
  kill(): Promise<void>;
  /**
   * Makes a guest port reachable on the host, and undoes it. Absent where the platform forwards
   * by itself (WSL's localhost relay).
   */
  addPortForward?(f: PortForward): Promise<void>;
  removePortForward?(f: PortForward): Promise<void>;
  /** The last lines the VM process wrote about itself (qemu's stderr), for diagnosis. */
  processOutput(): string;
}

export interface VmBackend {
  readonly kind: BackendKind;
  /** undefined when the host can run this backend, else a sentence saying what to install. */
  unavailableReason(): Promise<string | undefined>;
  start(config: VmConfig, paths: VmPaths): Promise<VmHandle>;
}

/** Spawned-process bookkeeping shared by the qemu and vfkit handles. */
export function processExit(child: import('node:child_process').ChildProcess): { exited: Promise<number | null>; isRunning: () => boolean } {
  let running = child.exitCode === null && child.signalCode === null;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => { running = false; resolve(code); });
    child.once('error', () => { running = false; resolve(null); });
  });
  return { exited, isRunning: () => running };
}
