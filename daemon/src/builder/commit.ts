// A container's changes as a new image: the graphdriver's diff of its writable layer becomes a
// layer blob (uncompressed; its digest is the diff id), registered on the parent's chain, and a
// config with the parent's history plus one entry. Shared by the builder's steps and POST /commit.
// A container that changed nothing adds no layer, only an `empty_layer` history entry, as dockerd.
import type { Graph } from '../graph/graph';
import type { ContainerConfig, Digest, HistoryEntry, ImageConfig } from '../graph/interfaces';
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
    if (spec.containerId && (await graph.driver.changes(spec.containerId)).length > 0) {
      const blob = await graph.content.ingestStream(graph.driver.diff(spec.containerId) as AsyncIterable<Buffer>);
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
    await graph.addImage({ id: stored.digest, layers, ...(chainId ? { chainId } : {}) }, []);
    return { id: stored.digest as Digest, config };
  });
}
