// stateDir/state.json: the VM's status as its owner (the app, or a `berth vm` supervisor) last
// published it. It lets `berth vm status|stop` find a VM another process runs, and stops a second
// process from booting a second VM on the same disk and sockets.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { VmConfig } from './config.js';
import type { VmStatus } from './manager.js';

export type VmOwner = 'app' | 'cli';

export interface PublishedState extends VmStatus {
  owner: VmOwner;
  ownerPid: number;
  resources: VmConfig['resources'];
  shares: string[];
}

export function readState(file: string): PublishedState | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PublishedState;
  } catch {
    return undefined;
  }
}

/** Atomic: readers see the old state or the new one, never half of it. */
export function writeState(file: string, s: PublishedState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(s, null, 2));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function processAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The published state when a live process other than this one owns a VM that is up or coming up. */
export function otherLiveOwner(file: string): PublishedState | undefined {
  const s = readState(file);
  if (!s || s.ownerPid === process.pid || !processAlive(s.ownerPid)) return undefined;
  return s.state === 'starting' || s.state === 'running' || s.state === 'stopping' ? s : undefined;
}
