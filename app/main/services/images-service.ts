// Images are few, so any image event (or a container created or removed) re-lists them.
import type { ImageDetailView, ImageLayerView, ImageView, LayerTreeView } from '../../shared/views.js';
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
      reset: () => {
        this.images = [];
        this.emit('images:changed', this.images);
      },
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

  /**
   * An image and its layers. berthd names each layer's instruction and size itself; for other
   * engines the layers come from the history (entries that made no layer are left out).
   */
  async detail(reference: string): Promise<ImageDetailView> {
    const client = this.engine.client();
    const inspect = await client.inspectImage(reference);
    const browsable = this.engine.status().jobs;
    let layers: ImageLayerView[];
    if (browsable) {
      layers = (await client.imageLayers(reference)).map((l) => ({ index: l.index, size: l.size, instruction: l.instruction || l.comment, created: l.created }));
    } else {
      const history = (await client.imageHistory(reference)).slice().reverse();
      const made = history.filter((h) => !/#\(nop\)/.test(h.CreatedBy) || h.Size > 0);
      // History entries that made layers line up with RootFS.Layers, bottom first.
      const count = inspect.RootFS?.Layers?.length ?? made.length;
      layers = made.slice(-count).map((h, index) => ({ index, size: h.Size, instruction: h.CreatedBy || h.Comment, created: new Date(h.Created * 1000).toISOString() }));
    }
    return {
      id: inspect.Id ?? reference,
      tags: inspect.RepoTags ?? [],
      size: inspect.Size ?? 0,
      created: inspect.Created ?? undefined,
      os: inspect.Os,
      arch: inspect.Architecture,
      cmd: inspect.Config?.Cmd ?? undefined,
      layers,
      browsable,
    };
  }

  async tree(reference: string, layer: number, o: { path: string; offset: number; limit: number; changesOnly: boolean }): Promise<LayerTreeView> {
    const page = await this.engine.client().layerTree(reference, layer, { path: o.path, offset: o.offset, limit: o.limit, changes: o.changesOnly });
    return {
      layer: page.layer, path: page.path, total: page.total, offset: page.offset,
      entries: page.entries.map((e) => ({ name: e.name, path: e.path, type: e.type, size: e.size, linkTarget: e.linkTarget, change: e.change })),
    };
  }

  tag(source: string, target: string): Promise<void> {
    return this.engine.client().tagImage(source, target);
  }

  prune(all: boolean): Promise<number> {
    return this.engine.client().pruneImages(all);
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
