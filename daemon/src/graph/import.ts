// `docker import`: a root filesystem tarball (plain, gzip or zstd) becomes a one-layer image. The
// tar is stored uncompressed (its digest is the layer's diff id) while it streams in, then unpacked
// by the graphdriver; `changes` set the config as Dockerfile instructions would.
import { Readable } from 'node:stream';
import { coalesce } from './load-archive';
import type { ContainerConfig, Digest, ImageConfig, Reference } from './interfaces';
import type { Graph } from './graph';
import { decompressed } from './compression';
import { applyChanges } from './dockerfile-changes';
import { sha256 } from './content-store';
import { invalidParameter } from '../errors';

export interface ImportArgs {
  source: Readable;
  ref?: Reference;
  message?: string;
  changes: string[];
  platform?: string;
  signal: AbortSignal;
}

function platformOf(raw: string | undefined): { os: string; architecture: string; variant?: string } {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  if (!raw) return { os: 'linux', architecture: arch };
  const [os, architecture, variant] = raw.split('/');
  if (os !== 'linux' || !architecture) throw invalidParameter(`invalid platform ${JSON.stringify(raw)}: berthd imports linux images ("linux/${arch}")`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

export async function importImage(graph: Graph, args: ImportArgs): Promise<Digest> {
  const platform = platformOf(args.platform);
  return graph.writing(async () => {
    try {
      const tar = await decompressed(Readable.from(coalesce(args.source as AsyncIterable<Buffer>)));
      const blob = await graph.content.ingestStream(tar as AsyncIterable<Buffer>);
      if (blob.size === 0) throw invalidParameter('the imported archive is empty');
      const layer = await graph.layers.register(graph.content.reader(blob.digest), undefined, blob.digest, args.signal);
      const created = new Date().toISOString();
      const containerConfig: ContainerConfig = applyChanges({}, args.changes);
      const config: ImageConfig = {
        architecture: platform.architecture,
        ...(platform.variant ? { variant: platform.variant } : {}),
        os: platform.os,
        created,
        config: containerConfig,
        rootfs: { type: 'layers', diff_ids: [blob.digest] },
        history: [{ created, comment: args.message || 'Imported from -' }],
      };
      const bytes = Buffer.from(JSON.stringify(config));
      const stored = await graph.content.ingestStream([bytes], { digest: sha256(bytes), size: bytes.length });
      await graph.addImage({ id: stored.digest, layers: [blob.digest], chainId: layer.chainId }, args.ref ? [args.ref] : []);
      graph.publish('import', stored.digest);
      return stored.digest;
    } finally {
      void graph.collect();
    }
  });
}
