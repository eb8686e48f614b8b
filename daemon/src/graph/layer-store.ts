// Layers by chain id: metadata (<root>/meta/<hex>.json: diff id, parent, size) over the
// graphdriver's directories (driver ids are chain ids' hex). A layer's metadata is written only
// after the driver has it fully unpacked, so metadata never names a half layer.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Digest, LayerInfo, LayerStore } from './interfaces';
import type { GraphDriver, PreparedRootfs } from '../drivers/graph/graph-driver';
import { hexOf, sha256 } from './content-store';
import { writeFileAtomic } from './atomic-file';
import { invalidParameter, systemError } from '../errors';

export function chainIdOf(parent: Digest | undefined, diffId: Digest): Digest {
  return parent ? sha256(`${parent} ${diffId}`) : diffId;
}

export class FileLayerStore implements LayerStore {
  private readonly meta: string;
  private readonly layers = new Map<Digest, LayerInfo>();
  private readonly inflight = new Map<Digest, Promise<LayerInfo>>();

  constructor(root: string, readonly driver: GraphDriver) {
    this.meta = path.join(root, 'meta');
    mkdirSync(this.meta, { recursive: true });
    for (const name of readdirSync(this.meta)) {
      const file = path.join(this.meta, name);
      try {
        const info = JSON.parse(readFileSync(file, 'utf8')) as LayerInfo;
        if (!name.endsWith('.json') || !driver.hasLayer(hexOf(info.chainId))) throw new Error('incomplete');
        this.layers.set(info.chainId, info);
      } catch {
        rmSync(file, { force: true });
      }
    }
  }

  get(chainId: Digest): LayerInfo | undefined {
    return this.layers.get(chainId);
  }

  list(): LayerInfo[] {
    return [...this.layers.values()];
  }

  chain(chainId: Digest): LayerInfo[] {
    const out: LayerInfo[] = [];
    let cur: Digest | undefined = chainId;
    while (cur) {
      const info = this.layers.get(cur);
      if (!info) throw systemError(`layer ${cur} is missing: the image's layers are damaged; remove the image and load it again`);
      out.unshift(info);
      cur = info.parent;
    }
    return out;
  }

  /**
   * Unpacks `tar` (uncompressed) as the layer `expectedDiffId` on `parent`. When that layer is
   * already here, or being unpacked by another load, the tar is not read and the caller drains it.
   */
  async register(tar: Readable, parent: Digest | undefined, expectedDiffId: Digest, signal?: AbortSignal): Promise<LayerInfo> {
    const chainId = chainIdOf(parent, expectedDiffId);
    const existing = this.layers.get(chainId);
    if (existing) {
      tar.destroy();
      return existing;
    }
    const running = this.inflight.get(chainId);
    if (running) {
      tar.destroy();
      return running;
    }
    const work = (async () => {
      const id = hexOf(chainId);
      const applied = await this.driver.applyLayer(id, parent ? hexOf(parent) : undefined, tar, signal);
      if (applied.diffId !== expectedDiffId) {
        await this.driver.removeLayer(id);
        throw invalidParameter(`layer digest mismatch: the image config says ${expectedDiffId} but the layer's content is ${applied.diffId}: the archive is corrupt or was tampered with`);
      }
      const info: LayerInfo = { chainId, diffId: expectedDiffId, parent, size: applied.size };
      await writeFileAtomic(path.join(this.meta, `${id}.json`), JSON.stringify(info));
      this.layers.set(chainId, info);
      return info;
    })();
    this.inflight.set(chainId, work);
    try {
      return await work;
    } finally {
      this.inflight.delete(chainId);
    }
  }

  /** A container's writable layer over the image's top layer (chainId undefined: empty image). */
  prepare(containerId: string, chainId: Digest | undefined): Promise<PreparedRootfs> {
    return this.driver.prepare(containerId, chainId ? hexOf(chainId) : undefined);
  }

  /** Removes every layer not in `keep` (with their parents) and every driver directory with no metadata. */
  async collect(keep: Set<Digest>): Promise<Digest[]> {
    const marked = new Set<Digest>();
    for (const id of keep) {
      let cur: Digest | undefined = id;
      while (cur && !marked.has(cur)) {
        marked.add(cur);
        cur = this.layers.get(cur)?.parent;
      }
    }
    const removed: Digest[] = [];
    for (const info of [...this.layers.values()]) {
      if (marked.has(info.chainId) || this.inflight.has(info.chainId)) continue;
      // Metadata first: a crash after it leaves a driver directory the sweep below removes.
      await rm(path.join(this.meta, `${hexOf(info.chainId)}.json`), { force: true });
      this.layers.delete(info.chainId);
      await this.driver.removeLayer(hexOf(info.chainId));
      removed.push(info.chainId);
    }
    const inflightIds = new Set([...this.inflight.keys()].map(hexOf));
    for (const id of await this.driver.listLayers()) {
      if (!this.layers.has(`sha256:${id}`) && !inflightIds.has(id)) await this.driver.removeLayer(id);
    }
    return removed;
  }
}
