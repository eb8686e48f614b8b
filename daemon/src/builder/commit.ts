// A container's changes as a new image: the graphdriver's diff of its writable layer becomes a
// layer blob (uncompressed; its digest is the diff id), registered on the parent's chain, and a
// config with the parent's history plus one entry. Shared by the builder's steps and POST /commit.
// A container that changed nothing adds no layer, only an `empty_layer` history entry, as dockerd.
import { Readable } from 'node:stream';
import { extract as tarExtract, pack as tarPack } from 'tar-stream';
import type { Graph } from '../graph/graph';
import type { ContainerConfig, Digest, HistoryEntry, ImageConfig, ImageRecord } from '../graph/interfaces';
import { sha256 } from '../graph/content-store';
import { BERTH_VERSION } from '../version';
import type { BuildImage } from './backend';

export interface NewImage {
  /** The graphdriver container whose changes become the layer; none for a config-only image. */
  containerId?: string;
  parent?: BuildImage;
  config: ContainerConfig;
  containerConfig?: ContainerConfig;
  history: HistoryEntry;
  author?: string;
  comment?: string;
  platform?: { os: string; architecture: string; variant?: string };
}

export async function commitImage(graph: Graph, spec: NewImage, signal?: AbortSignal): Promise<BuildImage> {
  return graph.writing(async () => {
    const parentRecord = spec.parent ? graph.images.get(spec.parent.id) : undefined;
    if (spec.parent && !parentRecord) throw new Error(`the parent image ${spec.parent.id} is gone`);
    const layers = [...(parentRecord?.layers ?? [])];
    let chainId = parentRecord?.chainId;
    let emptyLayer = true;
    if (spec.containerId && (await graph.driver.changes(spec.containerId)).some((c) => !IGNORED.has(c.Path))) {
      const blob = await graph.content.ingestStream(withoutMountpoints(graph.driver.diff(spec.containerId)) as AsyncIterable<Buffer>);
      const layer = await graph.layers.register(graph.content.reader(blob.digest), chainId, blob.digest, signal);
      layers.push(blob.digest);
      chainId = layer.chainId;
      emptyLayer = false;
    }
    const created = new Date().toISOString();
    const parentConfig = spec.parent?.config;
    const platform = parentConfig
      ? { os: parentConfig.os ?? 'linux', architecture: parentConfig.architecture ?? 'amd64', ...(parentConfig.variant ? { variant: parentConfig.variant } : {}) }
      : (spec.platform ?? { os: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch });
    const entry: HistoryEntry = { created, ...spec.history };
    if (spec.author) entry.author = spec.author;
    if (spec.comment) entry.comment = spec.comment;
    if (emptyLayer) entry.empty_layer = true;
    else delete entry.empty_layer;
    const config: ImageConfig = {
      architecture: platform.architecture,
      ...(platform.variant ? { variant: platform.variant } : {}),
      os: platform.os,
      created,
      ...(spec.author ? { author: spec.author } : {}),
      ...(spec.comment ? { comment: spec.comment } : {}),
      docker_version: `berth-${BERTH_VERSION}`,
      config: { ...spec.config, ...(spec.parent ? { Image: spec.parent.id } : {}) },
      ...(spec.containerConfig ? { container_config: spec.containerConfig } : {}),
      rootfs: { type: 'layers', diff_ids: layers },
      history: [...(parentConfig?.history ?? []), entry],
    };
    const bytes = Buffer.from(JSON.stringify(config));
    const stored = await graph.content.ingestStream([bytes], { digest: sha256(bytes), size: bytes.length });
    // `parent` (dockerd's image Parent) lets the image list hide build intermediates as dockerd does.
    const record: ImageRecord & { parent?: Digest } = { id: stored.digest, layers, ...(chainId ? { chainId } : {}), ...(spec.parent ? { parent: spec.parent.id } : {}) };
    await graph.addImage(record, []);
    return { id: stored.digest as Digest, config };
  });
}

/**
 * The files the runtime bind-mounts over (/etc/hosts, /etc/hostname, /etc/resolv.conf) appear in
 * the writable layer as empty mountpoints; dockerd keeps them in a separate init layer, so they
 * never reach a committed image. Neither do they here. /etc itself only changed because of them.
 */
const MOUNTPOINTS = new Set(['etc/hostname', 'etc/hosts', 'etc/resolv.conf']);
const IGNORED = new Set(['/etc', ...[...MOUNTPOINTS].map((p) => `/${p}`)]);

function withoutMountpoints(tar: Readable): Readable {
  const extract = tarExtract();
  const pack = tarPack();
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.?\/+/, '').replace(/\/$/, '');
    if (MOUNTPOINTS.has(name) && header.type === 'file' && (header.size ?? 0) === 0) {
      stream.on('end', next);
      stream.resume();
      return;
    }
    stream.pipe(pack.entry(header, (err) => (err ? extract.destroy(err) : next())) as unknown as NodeJS.WritableStream);
  });
  extract.on('finish', () => pack.finalize());
  extract.on('error', (err) => pack.destroy(err));
  tar.on('error', (err) => extract.destroy(err));
  tar.pipe(extract);
  return Readable.from(pack as AsyncIterable<Buffer>);
}
