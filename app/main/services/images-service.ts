// Images are few, so any image event (or a container created or removed) re-lists them.
import type { ImageView } from '../../shared/views.js';
import type { EngineClient } from '../engine/engine-client.js';
import { coalesce, type Emit } from './broadcaster.js';
import type { EngineService } from './engine-service.js';
import { imageView } from './views.js';
import { PullProgressTracker } from './pull-progress.js';

export class ImagesService {
  private images: ImageView[] = [];
  private readonly refresh: () => void;

  constructor(private readonly engine: EngineService, private readonly emit: Emit) {
    this.refresh = coalesce(() => void this.load(this.engine.client()), 100);
    engine.subscribe({
      connected: (client) => void this.load(client),
      // A container's create/destroy changes an image's usage count too.
      event: (event) => {
        if (event.Type === 'image' || (event.Type === 'container' && (event.Action === 'create' || event.Action === 'destroy'))) this.refresh();
      },
    });
  }

  list(): ImageView[] { return this.images; }

  private async load(client: EngineClient): Promise<void> {
    const all = await client.listImages().catch(() => undefined);
    if (!all) return;
    this.images = all.map(imageView).sort((a, b) => b.created - a.created);
    this.emit('images:changed', this.images);
  }

  async remove(id: string, force: boolean): Promise<void> {
    await this.engine.client().removeImage(id, { force });
  }

  /**
   * Pulls to completion, pushing per-layer progress (at most ten times a second) on images:pull.
   * berthd also shows the pull as a job in Activity; the image event refreshes the list.
   */
  async pull(reference: string): Promise<void> {
    const tracker = new PullProgressTracker(reference);
    let last = 0;
    try {
      for await (const message of this.engine.client().pullImage(reference)) {
        tracker.apply(message);
        const now = Date.now();
        if (now - last >= 100) {
          last = now;
          this.emit('images:pull', tracker.snapshot());
        }
      }
      tracker.finish();
    } catch (err) {
      tracker.finish((err as Error).message);
      throw err;
    } finally {
      this.emit('images:pull', tracker.snapshot());
    }
  }
}
