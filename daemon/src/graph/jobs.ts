// The graph's jobs on the Engine: what the image routes (and other components) ask of it.
import type { Readable } from 'node:stream';
import type { Engine } from '../engine/engine';
import type { Graph, DeleteItem } from './graph';
import type { Digest } from './interfaces';
import { ImageViews, type ImageFilters } from './image-views';
import { loadImages, type LoadProgress, type LoadResult } from './load';
import { saveImages, selectImages } from './save';
import { importImage } from './import';
import { referenceWithTag } from './reference';
import { LayerBrowser, type LayerSummary, type TreePage } from './browse';
import { invalidParameter } from '../errors';

declare module '../engine/engine' {
  interface JobTable {
    /** `all`: also the build intermediates (GET /images/json?all=1). */
    'image.list': { args: { filters: ImageFilters; sharedSize: boolean; legacy: boolean; all?: boolean }; result: Record<string, unknown>[] };
    'image.inspect': { args: { name: string; atLeast: (v: string) => boolean }; result: Record<string, unknown> };
    'image.history': { args: { name: string }; result: Record<string, unknown>[] };
    'image.tag': { args: { name: string; repo: string; tag?: string }; result: void };
    'image.remove': { args: { name: string; force: boolean; noprune: boolean }; result: DeleteItem[] };
    'image.prune': { args: { filters: ImageFilters }; result: { ImagesDeleted: DeleteItem[] | null; SpaceReclaimed: number } };
    /** stdin: the tarball; progress: where JSON messages go (undefined when quiet). */
    'image.load': { args: { progress?: LoadProgress }; result: LoadResult };
    /** Resolves the names first (404s before any byte is sent), then returns the tar stream. */
    'image.save': { args: { names: string[] }; result: Readable };
    'image.import': { args: { repo?: string; tag?: string; message?: string; changes: string[]; platform?: string }; result: Digest };
    'image.layers': { args: { name: string }; result: LayerSummary[] };
    'image.tree': { args: { name: string; layer: number; path: string; offset: number; limit: number; changesOnly: boolean }; result: TreePage };
  }
}

/** The image part of GET /system/df. */
export async function imageDiskUsage(graph: Graph): Promise<{ LayersSize: number; Images: Record<string, unknown>[] }> {
  const views = new ImageViews(graph);
  const images = await views.list(new Map(), { sharedSize: true, legacy: false, countContainers: true });
  const layersSize = graph.layers.list().reduce((n, l) => n + l.size, 0);
  return { LayersSize: layersSize, Images: images };
}

export function registerImageJobs(engine: Engine, graph: Graph): void {
  const views = new ImageViews(graph);
  const browser = new LayerBrowser(graph);
  engine.register('image.list', async (job) => views.list(job.args.filters, job.args));
  engine.register('image.inspect', async (job) => views.inspect(job.args.name, job.args));
  engine.register('image.history', async (job) => views.history(job.args.name));
  engine.register('image.tag', async (job) => {
    const { record } = graph.resolve(job.args.name);
    await graph.tag(record.id, referenceWithTag(job.args.repo, job.args.tag));
  });
  engine.register('image.remove', async (job) => graph.remove(job.args.name, job.args.force, job.args.noprune));
  engine.register('image.prune', async (job) => views.prune(job.args.filters));
  engine.register('image.load', async (job) => {
    if (!job.stdin) throw invalidParameter('docker load needs a tarball in the request body');
    // The client's stream (none when quiet) and the job's own progress, which the app follows.
    const out = job.args.progress;
    const progress: LoadProgress = {
      status: (status, id) => out?.status(status, id),
      progress: (id, status, current, total) => {
        job.setProgress({ message: `${status} ${id}`, current, total, unit: 'bytes' });
        return out?.progress(id, status, current, total);
      },
      stream: (text) => out?.stream(text),
    };
    return loadImages(graph, job.stdin, progress, job.signal);
  });
  engine.register('image.save', async (job) => {
    if (job.args.names.length === 0) throw invalidParameter('no image names given to save');
    const selected = selectImages(graph, job.args.names);
    for (const s of selected) graph.publish('save', s.record.id);
    return saveImages(graph, selected);
  });
  engine.register('image.import', async (job) => {
    if (!job.stdin) throw invalidParameter('docker import needs a tarball in the request body');
    const ref = job.args.repo ? referenceWithTag(job.args.repo, job.args.tag) : undefined;
    return importImage(graph, { source: job.stdin, ref, message: job.args.message, changes: job.args.changes, platform: job.args.platform, signal: job.signal });
  });
  engine.register('image.layers', async (job) => browser.layers(job.args.name));
  engine.register('image.tree', async (job) => browser.tree(job.args));
}
