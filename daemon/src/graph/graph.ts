// The graph: the keeper of images and of their relations. It owns the content store, images,
// references and layers, resolves names as dockerd does, and collects garbage by mark and sweep:
// whatever no image (and no container) refers to is removed, so a crash at any point leaves, at
// worst, garbage that the next start sweeps.
import path from 'node:path';
import type { Digest, ImageConfig, ImageRecord, ImageUsers, LayerInfo, Reference } from './interfaces';
import { LocalContentStore, hexOf, isDigest } from './content-store';
import { FileImageStore } from './image-store';
import { FileReferenceStore } from './reference-store';
import { FileLayerStore, chainIdOf } from './layer-store';
import { parseReference, tryParseReference } from './reference';
import type { GraphDriver } from '../drivers/graph/graph-driver';
import { OverlayDriver } from '../drivers/graph/overlay';
import { VfsDriver } from '../drivers/graph/vfs';
import { conflict, invalidParameter, notFound } from '../errors';
import type { EventBus } from '../engine/events';
import type { Logger } from '../log';

export interface GraphOptions {
  dataRoot: string;
  /** "overlay2" (also "overlay"), "vfs", or "" for overlay with vfs as the fallback. */
  storageDriver: string;
  events?: EventBus;
  log?: Logger;
}

export interface DeleteItem {
  Untagged?: string;
  Deleted?: string;
}

export async function openDriver(dataRoot: string, wanted: string, log?: Logger): Promise<GraphDriver> {
  const layersRoot = path.join(dataRoot, 'layers');
  const name = wanted === 'overlay' ? 'overlay2' : wanted;
  if (name === 'vfs') return new VfsDriver(path.join(layersRoot, 'vfs'));
  if (name !== '' && name !== 'overlay2') throw invalidParameter(`error initializing graphdriver: driver not supported: ${wanted} (berthd has overlay2 and vfs)`);
  const home = path.join(layersRoot, 'overlay2');
  const driver = new OverlayDriver(home);
  const probe = await OverlayDriver.supported(home);
  if (probe.ok) return driver;
  if (name === 'overlay2') throw invalidParameter(`error initializing graphdriver: overlay2 cannot mount on ${home}: ${probe.reason}`);
  log?.warn('overlay is unavailable, using vfs', { reason: probe.reason ?? '' });
  return new VfsDriver(path.join(layersRoot, 'vfs'));
}

export class Graph {
  /** Filled by the container component: who uses an image. */
  users: ImageUsers = { containersUsing: () => [] };
  private busy = 0;
  private gcWanted = false;

  private constructor(
    readonly content: LocalContentStore,
    readonly images: FileImageStore,
    readonly references: FileReferenceStore,
    readonly layers: FileLayerStore,
    private readonly events?: EventBus,
    private readonly log?: Logger,
  ) {}

  static async open(options: GraphOptions): Promise<Graph> {
    const driver = await openDriver(options.dataRoot, options.storageDriver, options.log);
    const content = new LocalContentStore(path.join(options.dataRoot, 'content'));
    const images = new FileImageStore(path.join(options.dataRoot, 'image'), content);
    const references = new FileReferenceStore(path.join(options.dataRoot, 'image'));
    const layers = new FileLayerStore(path.join(options.dataRoot, 'layers'), driver);
    const graph = new Graph(content, images, references, layers, options.events, options.log);
    await graph.repair();
    return graph;
  }

  get driver(): GraphDriver {
    return this.layers.driver;
  }

  publish(action: string, id: string, attributes: Record<string, string> = {}): void {
    // dockerd names the image by its id when no reference is involved (load, save, delete).
    this.events?.publish('image', action, id, id ? { name: id, ...attributes } : attributes);
  }

  /** Runs a write (load, import) with garbage collection held off until it ends. */
  async writing<T>(work: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await work();
    } finally {
      this.busy--;
      if (this.busy === 0 && this.gcWanted) await this.collect();
    }
  }

  /** Start-up repair: records that name missing blobs or layers go, then everything unreferenced. */
  private async repair(): Promise<void> {
    for (const record of this.images.list()) {
      let chain: LayerInfo[] | undefined;
      try {
        chain = record.chainId ? this.layers.chain(record.chainId) : undefined;
      } catch {
        chain = undefined; // a layer of the chain is missing
      }
      const layerKept = (l: Digest) => this.content.has(l) || chain?.some((c) => c.diffId === l && c.tarSize !== undefined);
      const intact = this.content.has(record.id) && (!record.chainId || chain) && record.layers.every(layerKept);
      if (!intact) {
        this.log?.warn('removing a damaged image record', { id: record.id });
        await this.images.delete(record.id);
      }
    }
    for (const { ref, id } of this.references.all()) if (!this.images.get(id)) await this.references.remove(ref);
    await this.collect();
  }

  /** Mark and sweep over blobs and layers. */
  async collect(): Promise<void> {
    if (this.busy > 0) {
      this.gcWanted = true;
      return;
    }
    this.gcWanted = false;
    const blobs = new Set<Digest>();
    const chains = new Set<Digest>();
    for (const r of this.images.list()) {
      blobs.add(r.id);
      for (const l of r.layers) blobs.add(l);
      for (const m of r.manifests ?? []) blobs.add(m);
      if (r.chainId) chains.add(r.chainId);
    }
    for (const c of await this.driver.listContainers()) {
      const parent = this.driver.containerParent(c);
      if (parent) chains.add(`sha256:${parent}`);
    }
    for (const digest of this.content.listSync()) if (!blobs.has(digest)) await this.content.delete(digest);
    await this.layers.collect(chains);
  }

  /** The chain ids of an image's layers from its config's diff ids. */
  static chainOf(config: ImageConfig): Digest | undefined {
    let chain: Digest | undefined;
    for (const d of config.rootfs?.diff_ids ?? []) chain = chainIdOf(chain, d);
    return chain;
  }

  /**
   * Finds an image as dockerd does: a full id, a reference (tag defaults to latest, or a digest),
   * then a unique id prefix. 404 "No such image" otherwise.
   */
  resolve(refOrId: string): { record: ImageRecord; ref?: Reference } {
    const raw = refOrId.trim();
    const asId = /^(sha256:)?[a-f0-9]{64}$/.test(raw) ? (raw.startsWith('sha256:') ? raw : `sha256:${raw}`) : undefined;
    if (asId) {
      const record = this.images.get(asId);
      if (record) return { record };
      throw notFound(`No such image: ${raw}`);
    }
    const ref = tryParseReference(raw);
    if (ref) {
      const id = this.references.get(ref);
      if (id) {
        const record = this.images.get(id);
        if (record) return { record, ref };
      }
    }
    const prefix = raw.startsWith('sha256:') ? raw.slice(7) : raw;
    if (/^[a-f0-9]+$/.test(prefix)) {
      const matches = this.images.list().filter((r) => hexOf(r.id).startsWith(prefix));
      if (matches.length === 1) return { record: matches[0]! };
      if (matches.length > 1) throw invalidParameter(`ambiguous image id prefix ${prefix}: it matches ${matches.length} images`);
    }
    if (!ref) parseReference(raw); // throws the reference's own format error
    throw notFound(`No such image: ${ref!.familiar}`);
  }

  /** Tags and digests of an image in familiar form, sorted. */
  repoTags(id: Digest): string[] {
    return this.references.referencesOf(id).filter((r) => r.tag).map((r) => r.familiar).sort();
  }

  repoDigests(record: ImageRecord): string[] {
    const fromRefs = this.references.referencesOf(record.id).filter((r) => r.digest).map((r) => r.familiar);
    return [...new Set([...fromRefs, ...(record.repoDigests ?? [])])].sort();
  }

  /** Bytes of an image's unpacked layers. */
  size(record: ImageRecord): number {
    if (!record.chainId) return 0;
    return this.layers.chain(record.chainId).reduce((n, l) => n + l.size, 0);
  }

  /** Points a reference at an image (replacing what it pointed to); the old image may become dangling. */
  async tag(id: Digest, ref: Reference): Promise<void> {
    const record = this.images.get(id);
    if (!record) throw notFound(`No such image: ${id}`);
    // A tag that already names the image (a rebuild from the cache) writes nothing: two durable
    // writes of unchanged state would be the most of a warm build's time. dockerd would refresh
    // LastTagTime here; the event goes out as dockerd's does.
    if (this.references.get(ref) !== id) {
      await this.references.add(ref, id);
      await this.images.put({ ...record, lastTagTime: new Date().toISOString() });
    }
    this.publish('tag', id, { name: ref.familiar });
  }

  /** Stores an image whose blobs and layers are in place, then tags it. */
  async addImage(record: ImageRecord, refs: Reference[]): Promise<void> {
    const previous = this.images.get(record.id);
    // The tag time stays: tagging again with the same names writes nothing (see tag).
    const merged: ImageRecord = previous
      ? { ...record, lastTagTime: record.lastTagTime ?? previous.lastTagTime, repoDigests: [...new Set([...(previous.repoDigests ?? []), ...(record.repoDigests ?? [])])] }
      : record;
    await this.images.put(merged);
    for (const ref of refs) await this.tag(record.id, ref);
  }

  /**
   * DELETE /images/{name}: untags a reference, or deletes the image when nothing else names it.
   * dockerd's rules: an image named by several references needs force when deleted by id; an
   * image a running container uses cannot be deleted; a stopped container's image needs force; an
   * image with child images cannot be deleted at all (removing its last tag only untags it). Unless
   * `noprune`, a deleted image's untagged parents that nothing else needs go after it.
   */
  async remove(name: string, force: boolean, noprune: boolean): Promise<DeleteItem[]> {
    const { record, ref } = this.resolve(name);
    const id = record.id;
    const items: DeleteItem[] = [];
    const refs = this.references.referencesOf(id);
    const users = this.users.containersUsing(id);
    const byReference = ref !== undefined && this.references.get(ref) === id;
    const hasChildren = this.children(id).length > 0;

    if (byReference && (refs.length > 1 || (users.length > 0 && force) || hasChildren)) {
      // Another reference, a container or a child image keeps the image: only the name goes.
      if (refs.length === 1 && users.some((u) => u.running)) {
        throw conflict(`conflict: unable to remove repository reference "${name}" (must force) - container ${users[0]!.id.slice(0, 12)} is using its referenced image ${hexOf(id).slice(0, 12)}`);
      }
      await this.untag(ref!, items);
      return items;
    }
    if (hasChildren) throw conflict(`conflict: unable to delete ${hexOf(id).slice(0, 12)} (cannot be forced) - image has dependent child images`);
    if (users.length > 0) {
      const running = users.find((u) => u.running);
      if (byReference) {
        throw conflict(`conflict: unable to remove repository reference "${name}" (must force) - container ${users[0]!.id.slice(0, 12)} is using its referenced image ${hexOf(id).slice(0, 12)}`);
      }
      if (running) throw conflict(`conflict: unable to delete ${hexOf(id).slice(0, 12)} (cannot be forced) - image is being used by running container ${running.id.slice(0, 12)}`);
      if (!force) throw conflict(`conflict: unable to delete ${hexOf(id).slice(0, 12)} (must be forced) - image is being used by stopped container ${users[0]!.id.slice(0, 12)}`);
    }
    if (!byReference && refs.filter((r) => r.tag).length > 1 && !force) {
      throw conflict(`conflict: unable to delete ${hexOf(id).slice(0, 12)} (must be forced) - image is referenced in multiple repositories`);
    }
    for (const r of refs) await this.untag(r, items);
    await this.deleteRecord(id, items);
    if (!noprune) await this.pruneParents(record.parent, items);
    await this.collect();
    return items;
  }

  /**
   * Walks up from a deleted image's parent, deleting each untagged parent that no other image
   * and no container needs, as dockerd does after a delete (quietly stopping at the first kept one).
   */
  private async pruneParents(parent: Digest | undefined, items: DeleteItem[]): Promise<void> {
    for (let id = parent; id; ) {
      const record = this.images.get(id);
      if (!record || this.references.referencesOf(id).length > 0 || this.children(id).length > 0 || this.users.containersUsing(id).length > 0) return;
      await this.deleteRecord(id, items);
      id = record.parent;
    }
  }

  private async deleteRecord(id: Digest, items: DeleteItem[]): Promise<void> {
    await this.images.delete(id);
    items.push({ Deleted: id });
    this.publish('delete', id);
  }

  /** The images committed on `id` (those naming it as their parent). */
  children(id: Digest): Digest[] {
    return this.images.list().filter((r) => r.parent === id).map((r) => r.id);
  }

  /** The ids that are some image's parent, for views that ask of every image. */
  parents(): Set<Digest> {
    return new Set(this.images.list().flatMap((r) => (r.parent ? [r.parent] : [])));
  }

  private async untag(ref: Reference, items: DeleteItem[]): Promise<void> {
    const id = this.references.get(ref);
    await this.references.remove(ref);
    items.push({ Untagged: ref.familiar });
    if (id) this.publish('untag', id, { name: ref.familiar });
  }

  /** No reference names it. */
  isUntagged(record: ImageRecord): boolean {
    return this.references.referencesOf(record.id).length === 0;
  }

  /**
   * Untagged and the parent of no image (dockerd's dangling); an untagged parent is a build
   * intermediate, which the list hides and prune keeps. `parents` saves the scan in loops.
   */
  isDangling(record: ImageRecord, parents: Set<Digest> = this.parents()): boolean {
    return this.isUntagged(record) && !parents.has(record.id);
  }

  static validDigest(d: string): boolean {
    return isDigest(d);
  }
}
