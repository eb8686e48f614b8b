// What distribution remembers about layers, as dockerd's v2 metadata service does: for a layer's
// diff id, the compressed blobs it was pulled as or pushed as, and from which repository. A push
// uses it to ask the registry whether it already has a layer (HEAD) or can mount it from another
// repository, without compressing the layer again. One JSON file, written atomically.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Digest } from '../graph/interfaces';
import { writeFileAtomic } from '../atomic-file';

export interface BlobSource {
  /** The compressed blob's digest and size in the registry. */
  digest: Digest;
  size: number;
  mediaType: string;
  /** "127.0.0.1:5000" */
  registry: string;
  /** "library/busybox" */
  repository: string;
}

/** Sources kept per layer: enough for a few registries and repositories. */
const KEPT_PER_LAYER = 16;

export class DistributionMetadata {
  private readonly file: string;
  private byDiffId: Record<Digest, BlobSource[]> = {};
  private writing: Promise<void> = Promise.resolve();

  constructor(root: string) {
    mkdirSync(root, { recursive: true });
    this.file = path.join(root, 'v2metadata.json');
    try {
      this.byDiffId = JSON.parse(readFileSync(this.file, 'utf8')) as Record<Digest, BlobSource[]>;
    } catch {
      this.byDiffId = {};
    }
  }

  sources(diffId: Digest): BlobSource[] {
    return this.byDiffId[diffId] ?? [];
  }

  async add(diffId: Digest, source: BlobSource): Promise<void> {
    const list = (this.byDiffId[diffId] ?? []).filter((s) => !(s.digest === source.digest && s.registry === source.registry && s.repository === source.repository));
    list.unshift(source);
    this.byDiffId[diffId] = list.slice(0, KEPT_PER_LAYER);
    await this.save();
  }

  /** Drops what is known about layers that are gone (after the graph removed them). */
  async retain(diffIds: Set<Digest>): Promise<void> {
    for (const d of Object.keys(this.byDiffId)) if (!diffIds.has(d)) delete this.byDiffId[d];
    await this.save();
  }

  private save(): Promise<void> {
    // Writes are serialised so the last one on disk is the newest state.
    this.writing = this.writing.then(async () => {
      await writeFileAtomic(this.file, JSON.stringify(this.byDiffId));
    }).catch(() => undefined);
    return this.writing;
  }
}
