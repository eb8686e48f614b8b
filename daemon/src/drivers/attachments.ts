// What the container layer calls of the networkdriver and the volumedriver, as one object with a
// verb per lifecycle step, so containers.ts needs one line per step:
//   create  → attachments.register(…)        start → attachments.prepare(…) (before the OCI spec)
//   exit    → attachments.release(id)        rm    → attachments.remove(id, removeVolumes)
//   inspect → networkSettings(id), mounts(id) ps   → ports(id), revision(id)
// Either driver may be absent (networking unavailable on the host): then containers get a private
// namespace with loopback only, and binds as the spec builder makes them.
import type { NetworkDriver, NetworkSettings, EndpointRequest } from './network/network-driver';
import type { MountPoint, SpecMount, VolumeDriver } from './volume/volume-driver';
import type { ContainerConfig, HostConfig } from '../container/types';
import { emptyNetworkSettings } from './network/settings';

export interface AttachmentSpec {
  id: string;
  name: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** POST /containers/create's NetworkingConfig.EndpointsConfig. */
  endpoints?: Record<string, EndpointRequest> | null;
}

export interface PreparedAttachments {
  /** The namespace for the OCI spec's network entry (absent: host network, or no driver). */
  netnsPath?: string;
  /** Mounts to add to the spec (volumes, binds, --mount tmpfs), after the spec builder's own. */
  mounts: SpecMount[];
}

/** ps's Ports column. */
export interface PortSummary {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export class ContainerAttachments {
  constructor(readonly network?: NetworkDriver, readonly volumes?: VolumeDriver) {}

  /** At create; undoes its own half when the second driver refuses. */
  async register(spec: AttachmentSpec, resolveContainer: (ref: string) => string): Promise<void> {
    await this.network?.register({ id: spec.id, name: spec.name, config: spec.config, hostConfig: spec.hostConfig, endpoints: spec.endpoints }, resolveContainer);
    try {
      await this.volumes?.register({ id: spec.id, hostConfig: spec.hostConfig, volumes: spec.config.Volumes }, resolveContainer);
    } catch (err) {
      await this.network?.remove(spec.id).catch(() => undefined);
      throw err;
    }
  }

  /**
   * At start, before the spec is built: wires the network (writing hosts and resolv.conf into
   * `etcDir`) and mounts the volumes. All or nothing. The network does not need the root
   * filesystem, so it is wired while the graphdriver still mounts it; the volumes wait for it.
   */
  async prepare(id: string, etcDir: string, rootfs: string | Promise<string>): Promise<PreparedAttachments> {
    const net = await this.network?.prepare(id, etcDir);
    try {
      const mounts = (await this.volumes?.prepare(id, await rootfs)) ?? [];
      return { netnsPath: net?.netnsPath, mounts };
    } catch (err) {
      await this.network?.release(id).catch(() => undefined);
      throw err;
    }
  }

  async release(id: string): Promise<void> {
    await Promise.all([this.network?.release(id), this.volumes?.release(id)]);
  }

  async remove(id: string, removeVolumes: boolean): Promise<void> {
    await Promise.all([this.network?.remove(id), this.volumes?.remove(id, removeVolumes)]);
  }

  /** After the containers' live restore, with the ids of those still running. */
  restore(running: Set<string>): Promise<void> {
    return this.network?.restore(running) ?? Promise.resolve();
  }

  rename(id: string, name: string): Promise<void> {
    return this.network?.rename(id, name) ?? Promise.resolve();
  }

  networkSettings(id: string): NetworkSettings {
    return this.network?.settings(id) ?? emptyNetworkSettings();
  }

  mounts(id: string): MountPoint[] {
    return this.volumes?.mounts(id) ?? [];
  }

  /**
   * Grows whenever what networkSettings(id) answers may have changed. The mounts are fixed when
   * the container is created, so only the network counts.
   */
  revision(id: string): number {
    return this.network?.revision(id) ?? 0;
  }

  ports(id: string): PortSummary[] {
    return portSummaries(this.networkSettings(id));
  }
}

/** ps's Ports column from settings already built (a list builds them once per container). */
export function portSummaries(settings: NetworkSettings): PortSummary[] {
  const out: PortSummary[] = [];
  for (const [key, bindings] of Object.entries(settings.Ports)) {
    const [port, proto] = key.split('/');
    if (!bindings) out.push({ PrivatePort: Number(port), Type: proto ?? 'tcp' });
    else for (const b of bindings) out.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: proto ?? 'tcp' });
  }
  return out;
}

/** Adds `extra` to the spec's mounts: one mount per destination (the later wins), parents first. */
export function mergeMounts<M extends { destination: string }>(base: M[], extra: M[]): M[] {
  const byDest = new Map<string, M>();
  for (const m of [...base, ...extra]) {
    byDest.delete(m.destination);
    byDest.set(m.destination, m);
  }
  return [...byDest.values()].sort((a, b) => a.destination.split('/').length - b.destination.split('/').length);
}
