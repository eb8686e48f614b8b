// Restart policies (`no`, `always`, `on-failure[:N]`, `unless-stopped`) and dockerd's back-off:
// the delay before a restart starts at 100 ms and doubles with each restart up to one minute; a
// run that lasted 10 s or more resets it.
import { invalidParameter } from '../errors';
import type { RestartPolicy } from './types';

export const INITIAL_BACKOFF_MS = 100;
export const MAX_BACKOFF_MS = 60_000;
/** A run at least this long counts as healthy: the back-off starts over. */
export const RESET_AFTER_MS = 10_000;

/** Validates a HostConfig.RestartPolicy with dockerd's words; returns it normalised. */
export function validateRestartPolicy(policy: RestartPolicy | undefined, autoRemove: boolean): RestartPolicy {
  const name = policy?.Name ?? '';
  const count = policy?.MaximumRetryCount ?? 0;
  switch (name) {
    case '':
    case 'no':
    case 'always':
    case 'unless-stopped':
      if (count !== 0) throw invalidParameter("invalid restart policy: maximum retry count can only be used with 'on-failure'");
      break;
    case 'on-failure':
      if (!Number.isInteger(count) || count < 0) throw invalidParameter('invalid restart policy: maximum retry count must be a positive integer');
      break;
    default:
      throw invalidParameter(`invalid restart policy: unknown policy '${String(name)}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (autoRemove && name !== '' && name !== 'no') {
    throw invalidParameter("can't create 'AutoRemove' container with restart policy");
  }
  return { Name: name, MaximumRetryCount: count };
}

export interface ExitFacts {
  exitCode: number;
  /** The user stopped it (docker stop/kill), which `unless-stopped` and `always` honour until the next start. */
  manuallyStopped: boolean;
  /** How long the process ran. */
  ranForMs: number;
}

/**
 * One per container while it lives in berthd: decides whether an exit leads to a restart and
 * after how long. `restartCount` is the container's RestartCount, carried across restarts.
 */
export class RestartManager {
  private backoffMs = 0;
  private cancelled = false;

  constructor(private policy: RestartPolicy, public restartCount = 0) {}

  setPolicy(policy: RestartPolicy): void {
    this.policy = policy;
  }

  /** A manual stop or a removal: no restart is pending any more. */
  cancel(): void {
    this.cancelled = true;
  }

  /** A fresh manual start re-arms the manager. */
  reset(): void {
    this.cancelled = false;
    this.backoffMs = 0;
  }

  /** The delay before restarting, or undefined when the container stays stopped. */
  shouldRestart(exit: ExitFacts): number | undefined {
    const name = this.policy.Name;
    if (name === '' || name === 'no' || this.cancelled) return undefined;
    if (exit.ranForMs >= RESET_AFTER_MS) this.backoffMs = 0;
    let restart = false;
    // `always` ignores a manual stop here: the stop cancelled the manager already, and a stopped
    // `always` container comes back when berthd starts again, as dockerd documents.
    if (name === 'always') restart = true;
    else if (name === 'unless-stopped') restart = !exit.manuallyStopped;
    else if (name === 'on-failure') {
      const max = this.policy.MaximumRetryCount ?? 0;
      restart = exit.exitCode !== 0 && (max === 0 || this.restartCount < max);
    }
    if (!restart) return undefined;
    this.backoffMs = this.backoffMs === 0 ? INITIAL_BACKOFF_MS : Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.restartCount++;
    return this.backoffMs;
  }
}

/** Whether berthd starts this stopped container when berthd itself starts. */
export function restartsWithDaemon(policy: RestartPolicy | undefined, manuallyStopped: boolean, exitCode: number, restartCount: number): boolean {
  const name = policy?.Name ?? '';
  if (name === 'always') return true;
  if (name === 'unless-stopped') return !manuallyStopped;
  if (name === 'on-failure') {
    const max = policy?.MaximumRetryCount ?? 0;
    return !manuallyStopped && exitCode !== 0 && (max === 0 || restartCount < max);
  }
  return false;
}
