// The container: its record on disk (config.v2.json, the truth) and what berthd keeps beside it
// in memory while it runs (restart manager, waiters for `docker wait`, the exec ids).
import { EventEmitter } from 'node:events';
import { newState, type ContainerState } from './state';
import { RestartManager } from './restart-policy';
import type { ContainerConfig, HostConfig } from './types';

/** What config.v2.json holds: the fields of inspect that are not derived at read time. */
export interface ContainerRecord {
  ID: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  /** The image id ("sha256:…") the container was created from. */
  Image: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  HasBeenStartedBefore: boolean;
  HasBeenManuallyStopped: boolean;
  /** The graph driver's description of the rootfs (inspect's GraphDriver). */
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  /** The rootfs path the graph driver mounted, while it is mounted. */
  BaseFS?: string;
}

export interface WaitResult {
  StatusCode: number;
  Error?: { Message: string } | null;
}

export class Container {
  readonly restartManager: RestartManager;
  /** Exec instances of this container (ids into the exec registry). */
  readonly execIds = new Set<string>();
  /** Emits 'exit' (WaitResult) after every exit and 'removed' when it is gone. */
  readonly lifecycle = new EventEmitter();
  /** Record.Created in milliseconds, parsed once: `docker ps` sorts and filters on it. */
  readonly created: number;
  /** A pending restart's timer, cleared by stop/kill/remove. */
  restartTimer?: NodeJS.Timeout;
  /** The last task's teardown (the runtime's delete, the shim's exit): the next start and the
   * removal wait for it; the exit's bookkeeping does not. */
  taskGone: Promise<void> = Promise.resolve();
  /** The last exit's release of the network and the root filesystem: told to clients after the
   * exit, as dockerd does; the next start, the removal and any use of the root filesystem wait
   * for it. */
  released: Promise<void> = Promise.resolve();
  /** Exec shims still finishing after their process's exit: the removal waits for them. */
  readonly execTeardowns = new Set<Promise<void>>();
  /** Serialises lifecycle operations (start/stop/remove) on this container. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(public record: ContainerRecord) {
    this.created = Date.parse(record.Created);
    this.restartManager = new RestartManager(record.HostConfig.RestartPolicy ?? { Name: 'no' }, record.RestartCount);
    this.lifecycle.setMaxListeners(0);
  }

  get id(): string {
    return this.record.ID;
  }

  /** The name without its leading slash, as the CLI prints it. */
  get name(): string {
    return this.record.Name.replace(/^\//, '');
  }

  get state(): ContainerState {
    return this.record.State;
  }

  get running(): boolean {
    return this.record.State.Running && !this.record.State.Restarting;
  }

  /** Runs `fn` after every operation queued before it on this container. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Resolves per `docker wait`'s condition: not-running (default), next-exit, removed. */
  wait(condition: 'not-running' | 'next-exit' | 'removed', signal?: AbortSignal): Promise<WaitResult> {
    if (condition === 'not-running' && !this.record.State.Running) {
      return Promise.resolve({ StatusCode: this.record.State.ExitCode, Error: null });
    }
    const event = condition === 'removed' ? 'removed' : 'exit';
    return new Promise((resolve, reject) => {
      const onDone = (r: WaitResult) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const onAbort = () => {
        this.lifecycle.off(event, onDone);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('cancelled'));
      };
      this.lifecycle.once(event, onDone);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

export function newRecord(fields: Omit<ContainerRecord, 'State' | 'RestartCount' | 'HasBeenStartedBefore' | 'HasBeenManuallyStopped' | 'Platform'>): ContainerRecord {
  return {
    ...fields,
    State: newState(),
    RestartCount: 0,
    Platform: 'linux',
    HasBeenStartedBefore: false,
    HasBeenManuallyStopped: false,
  };
}
