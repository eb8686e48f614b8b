// Folds the engine's JSON progress messages for a pull into per-layer progress. Messages with an
// id are about one layer (or, for "Pulling from …", the repository: its id is the tag); the
// others are overall lines ("Digest: …", "Status: Downloaded newer image for …").
import type { LayerProgress, PullProgress } from '../../shared/views.js';
import type { ProgressMessage } from '../engine/engine-client.js';

/** Statuses whose id names a layer (dockerd's words; berthd uses the same). */
const LAYER_STATUS = /^(Pulling fs layer|Waiting|Downloading|Verifying Checksum|Download complete|Extracting|Pull complete|Already exists|Retrying)/;

export class PullProgressTracker {
  private readonly layers = new Map<string, LayerProgress>();
  private status = 'Pulling';
  private done = false;
  private error?: string;

  constructor(private readonly reference: string) {}

  apply(m: ProgressMessage): void {
    const status = m.status ?? '';
    if (m.id && LAYER_STATUS.test(status)) {
      const layer = this.layers.get(m.id) ?? { id: m.id, status };
      layer.status = status;
      const detail = m.progressDetail;
      if (detail?.total) {
        layer.current = detail.current ?? 0;
        layer.total = detail.total;
      } else if (/complete|Already exists/.test(status) && layer.total) {
        layer.current = layer.total;
      }
      this.layers.set(m.id, layer);
    } else if (status) {
      this.status = m.id ? `${status} ${m.id}`.trim() : status;
    }
  }

  finish(error?: string): void {
    this.done = true;
    this.error = error;
    if (!error) for (const l of this.layers.values()) if (l.total) l.current = l.total;
  }

  snapshot(): PullProgress {
    return { reference: this.reference, status: this.status, layers: [...this.layers.values()].map((l) => ({ ...l })), done: this.done, error: this.error };
  }
}
