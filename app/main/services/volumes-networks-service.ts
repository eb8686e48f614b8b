// Volumes and networks are few, so any event about one of them re-lists that kind.
import type { NetworkView, VolumeView } from '../../shared/views.js';
import type { EngineClient } from '../engine/engine-client.js';
import { coalesce, type Emit } from './broadcaster.js';
import type { EngineService } from './engine-service.js';
import { networkView, volumeView } from './views.js';

export class VolumesService {
  private volumes: VolumeView[] = [];
  private readonly refresh: () => void;

  constructor(private readonly engine: EngineService, private readonly emit: Emit) {
    this.refresh = coalesce(() => void this.load(this.engine.client()), 100);
    engine.subscribe({
      reset: () => this.emit('volumes:changed', (this.volumes = [])),
      connected: (client) => void this.load(client),
      event: (event) => { if (event.Type === 'volume') this.refresh(); },
    });
  }

  list(): VolumeView[] { return this.volumes; }

  private async load(client: EngineClient): Promise<void> {
    const all = await client.listVolumes().catch(() => undefined);
    if (!all) return;
    this.volumes = all.map(volumeView).sort((a, b) => a.name.localeCompare(b.name));
    this.emit('volumes:changed', this.volumes);
  }

  remove(name: string): Promise<void> { return this.engine.client().removeVolume(name); }
  prune(): Promise<number> { return this.engine.client().pruneVolumes(); }
}

export class NetworksService {
  private networks: NetworkView[] = [];
  private readonly refresh: () => void;

  constructor(private readonly engine: EngineService, private readonly emit: Emit) {
    this.refresh = coalesce(() => void this.load(this.engine.client()), 100);
    engine.subscribe({
      reset: () => this.emit('networks:changed', (this.networks = [])),
      connected: (client) => void this.load(client),
      event: (event) => { if (event.Type === 'network') this.refresh(); },
    });
  }

  list(): NetworkView[] { return this.networks; }

  private async load(client: EngineClient): Promise<void> {
    const all = await client.listNetworks().catch(() => undefined);
    if (!all) return;
    this.networks = all.map(networkView).sort((a, b) => a.name.localeCompare(b.name));
    this.emit('networks:changed', this.networks);
  }

  remove(id: string): Promise<void> { return this.engine.client().removeNetwork(id); }
}
