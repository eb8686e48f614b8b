// The networkdriver's state on disk: <data-root>/networks/<id>.json per network and
// <data-root>/networks/sandboxes/<container>.json per container (its addresses, so each network's
// allocations are rebuilt from these at start-up). Every write is atomic (temporary file, fsync,
// rename); these files are the truth, memory their cache.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { NetworkRecord } from './network-driver';
import type { PortRequest, PublishedPort } from './ports';
import { writeFileAtomicSync } from '../../atomic-file';

/** One container's network: what it asked for, and what is wired while it runs. */
export interface SandboxRecord {
  id: string;
  /** Without the leading slash. */
  name: string;
  hostname: string;
  domainname: string;
  /** bridge, host, none, container:<id>, or a network id. */
  mode: string;
  /** Network id → endpoint, in the order they were attached (the first carries the default route). */
  endpoints: Record<string, EndpointState>;
  ports: PortRequest[];
  exposed: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: string[];
  /** Set while wired. */
  netns?: string;
  sandboxId?: string;
  published?: PublishedPort[];
  etcDir?: string;
}

export interface EndpointState {
  networkId: string;
  endpointId: string;
  aliases: string[];
  /** --ip and --mac-address as asked. */
  ipv4?: string;
  mac?: string;
  driverOpts?: Record<string, string>;
  links?: string[];
  /** Set while wired. */
  ip?: string;
  macAddress?: string;
  hostVeth?: string;
  ifname?: string;
}


function readAll<T>(dir: string): T[] {
  const out: T[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as T);
    } catch {
      // A torn temporary file cannot be here (writes rename); an unreadable record is skipped.
    }
  }
  return out;
}

export class NetworkStore {
  private readonly sandboxDir: string;
  /**
   * Every change of a sandbox or a network record goes through a save here, so a count of writes
   * tells views cached per container (the list of `docker ps`) when theirs went stale: the stamp
   * of a sandbox's last write, and of the last write of any network (their names and gateways).
   */
  private writes = 0;
  private readonly sandboxWrites = new Map<string, number>();
  private networkWrites = 0;

  constructor(readonly root: string) {
    this.sandboxDir = path.join(root, 'sandboxes');
    mkdirSync(this.sandboxDir, { recursive: true, mode: 0o700 });
  }

  networks(): NetworkRecord[] {
    return readAll<NetworkRecord>(this.root);
  }

  sandboxes(): SandboxRecord[] {
    return readAll<SandboxRecord>(this.sandboxDir);
  }

  saveNetwork(n: NetworkRecord): void {
    this.networkWrites = ++this.writes;
    writeFileAtomicSync(path.join(this.root, `${n.Id}.json`), JSON.stringify(n, null, 1));
  }

  deleteNetwork(id: string): void {
    this.networkWrites = ++this.writes;
    rmSync(path.join(this.root, `${id}.json`), { force: true });
  }

  saveSandbox(s: SandboxRecord, durable = true): void {
    this.sandboxWrites.set(s.id, ++this.writes);
    writeFileAtomicSync(path.join(this.sandboxDir, `${s.id}.json`), JSON.stringify(s, null, 1), { durable });
  }

  deleteSandbox(id: string): void {
    this.sandboxWrites.delete(id);
    rmSync(path.join(this.sandboxDir, `${id}.json`), { force: true });
  }

  /** Grows whenever the container's sandbox or any network record was written (see `writes`). */
  revision(containerId: string): number {
    return Math.max(this.sandboxWrites.get(containerId) ?? 0, this.networkWrites);
  }
}
