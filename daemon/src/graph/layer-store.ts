// Layers by chain id: metadata (<root>/meta/<hex>.json: diff id, parent, size) over the
// graphdriver's directories (driver ids are chain ids' hex). A layer's metadata is written only
// after the driver has it fully unpacked, so metadata never names a half layer.
import { mkdirSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { rm, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import path from 'node:path';
import type { Digest, LayerInfo, LayerStore } from './interfaces';
import type { GraphDriver, PreparedRootfs, StagedLayer } from '../drivers/graph/graph-driver';
import { assembleTar } from '../drivers/graph/tar-split';
import { hexOf, sha256 } from './content-store';
import { writeFileAtomic } from '../atomic-file';
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
      if (name.endsWith('.tar-split.gz')) continue;
      try {
        const info = JSON.parse(readFileSync(file, 'utf8')) as LayerInfo;
        if (!name.endsWith('.json') || !driver.hasLayer(hexOf(info.chainId))) throw new Error('incomplete');
        if (info.tarSize !== undefined && !existsSync(this.tarSplitFile(info.chainId))) throw new Error('incomplete');
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
    return this.once(chainId, async () => {
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
    });
  }

  /** Runs the work that makes `chainId`, visible to concurrent callers (and to GC) while it runs. */
  private async once(chainId: Digest, work: () => Promise<LayerInfo>): Promise<LayerInfo> {
    const running = work();
    this.inflight.set(chainId, running);
    try {
      return await running;
    } finally {
      this.inflight.delete(chainId);
    }
  }

  private tarSplitFile(chainId: Digest): string {
    return path.join(this.meta, `${hexOf(chainId)}.tar-split.gz`);
  }

  /**
   * Adopts a layer the driver unpacked while the archive streamed in, with the tar-split record
   * that rebuilds its tar. When the layer is already here the staged copy is dropped.
   */
  async adopt(staged: StagedLayer, parent: Digest | undefined, tarSplit: Buffer, tarSize: number): Promise<LayerInfo> {
    const chainId = chainIdOf(parent, staged.diffId);
    const existing = this.layers.get(chainId) ?? (await this.inflight.get(chainId)?.catch(() => undefined));
    if (existing) {
      await this.driver.discardStaged?.(staged);
      return existing;
    }
    return this.once(chainId, async () => {
      const id = hexOf(chainId);
      // Record first, then the layer, then its metadata: a crash leaves only sweepable garbage.
      await writeFileAtomic(this.tarSplitFile(chainId), tarSplit);
      await this.driver.commitStaged!(staged, id, parent ? hexOf(parent) : undefined);
      const info: LayerInfo = { chainId, diffId: staged.diffId, parent, size: staged.size, tarSize };
      await writeFileAtomic(path.join(this.meta, `${id}.json`), JSON.stringify(info));
      this.layers.set(chainId, info);
      return info;
    });
  }

  /**
   * The layer's tar rebuilt from its tar-split record and files, checked against its diff id as it
   * streams (a mismatch fails the stream rather than hand out a wrong layer).
   */
  async tarStream(chainId: Digest): Promise<{ stream: Readable; size: number } | undefined> {
    const info = this.layers.get(chainId);
    if (!info || info.tarSize === undefined) return undefined;
    const record = await readFile(this.tarSplitFile(chainId));
    const source = assembleTar(record, this.driver.layerDir(hexOf(chainId)));
    const stream = Readable.from((async function* () {
      const hash = createHash('sha256');
      for await (const chunk of source as AsyncIterable<Buffer>) {
        hash.update(chunk);
        yield chunk;
      }
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== info.diffId) throw systemError(`layer ${info.diffId} cannot be rebuilt: its files changed on disk (got ${got})`);
    })());
    return { stream, size: info.tarSize };
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
      await rm(this.tarSplitFile(info.chainId), { force: true });
      removed.push(info.chainId);
    }
    const inflightIds = new Set([...this.inflight.keys()].map(hexOf));
    for (const id of await this.driver.listLayers()) {
      if (!this.layers.has(`sha256:${id}`) && !inflightIds.has(id)) await this.driver.removeLayer(id);
    }
    for (const name of readdirSync(this.meta)) {
      const m = /^([a-f0-9]{64})\.tar-split\.gz$/.exec(name);
      if (m && !this.layers.has(`sha256:${m[1]}`) && !inflightIds.has(m[1]!)) await rm(path.join(this.meta, name), { force: true });
    }
    return removed;
  }
}
