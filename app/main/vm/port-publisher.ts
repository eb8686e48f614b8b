// Containers' published ports, made reachable on the host: berthd binds them inside the VM, and
// this keeps one host forward per published port, resynchronised from the container list on
// every container start/stop/die event and on every (re)connection of the events stream (a VM
// restart drops all forwards; the reconnection re-creates them).
import type { ContainerSummary, EngineClient } from '../engine/engine-client.js';
import { EventsWatcher } from '../engine/events-watcher.js';
import type { PortForward } from './backend.js';

const key = (f: PortForward) => `${f.proto}:${f.hostIp}:${f.hostPort}`;

/**
 * The forwards the running containers need. A port published on all addresses (0.0.0.0, ::) is
 * forwarded from the host's loopback: the VM's ports should not appear on the user's network
 * unless they asked for a specific address.
 */
export function desiredForwards(containers: Pick<ContainerSummary, 'State' | 'Ports'>[]): PortForward[] {
  const out = new Map<string, PortForward>();
  for (const c of containers) {
    if (c.State !== 'running') continue;
    for (const p of c.Ports ?? []) {
      if (!p.PublicPort) continue;
      const hostIp = !p.IP || p.IP === '0.0.0.0' || p.IP === '::' ? '127.0.0.1' : p.IP;
      if (hostIp.includes(':')) continue; // IPv6 host addresses: qemu's hostfwd takes IPv4 only
      const f: PortForward = { proto: p.Type === 'udp' ? 'udp' : 'tcp', hostIp, hostPort: p.PublicPort, guestPort: p.PublicPort };
      out.set(key(f), f);
    }
  }
  return [...out.values()];
}

export function diffForwards(current: PortForward[], desired: PortForward[]): { add: PortForward[]; remove: PortForward[] } {
  const want = new Map(desired.map((f) => [key(f), f]));
  const have = new Map(current.map((f) => [key(f), f]));
  const changed = (f: PortForward, other: Map<string, PortForward>) => !other.has(key(f)) || other.get(key(f))!.guestPort !== f.guestPort;
  return { add: desired.filter((f) => changed(f, have)), remove: current.filter((f) => changed(f, want)) };
}

export interface ForwardTarget {
  addPortForward(f: PortForward): Promise<void>;
  removePortForward(f: PortForward): Promise<void>;
}

export class PortPublisher {
  private current: PortForward[] = [];
  private readonly watcher: EventsWatcher;
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly engine: EngineClient, private readonly target: ForwardTarget, private readonly onError: (err: Error) => void = () => {}) {
    this.watcher = new EventsWatcher(engine, {
      onConnected: () => this.resync(),
      onDisconnected: () => { this.current = []; }, // the VM (and its forwards) may be gone
      onEvent: (e) => {
        if (e.Type === 'container' && ['start', 'stop', 'die', 'kill', 'destroy', 'unpause'].includes(e.Action ?? '')) this.resync();
      },
    });
  }

  start(): void {
    this.watcher.start();
  }

  stop(): void {
    this.watcher.stop();
  }

  /** Forwards in place now (tests, status). */
  forwards(): PortForward[] {
    return [...this.current];
  }

  /** Serialised: events arrive in bursts and each sync reads the whole list. */
  resync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.sync()).catch((err: Error) => this.onError(err));
    return this.syncing;
  }

  private async sync(): Promise<void> {
    const { add, remove } = diffForwards(this.current, desiredForwards(await this.engine.listContainers(false)));
    for (const f of remove) {
      await this.target.removePortForward(f).catch((err: Error) => this.onError(err));
      this.current = this.current.filter((c) => key(c) !== key(f));
    }
    for (const f of add) {
      try {
        await this.target.addPortForward(f);
        this.current.push(f);
      } catch (err) {
        this.onError(err as Error); // e.g. the host port is taken by another program
      }
    }
  }
}
