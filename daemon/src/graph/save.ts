// `docker save`: one tar holding the images' blobs as an OCI layout (oci-layout, index.json,
// blobs/sha256/…) plus the manifest.json that docker load of any version reads. Layers are the
// uncompressed tars whose digests are the configs' diff ids, so ids and digests survive a round
// trip through any engine. Blobs stream from the content store one after another.
import { stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pack as tarPack } from 'tar-stream';
import type { Digest, ImageRecord, Reference } from './interfaces';
import type { Graph } from './graph';
import { hexOf, sha256 } from './content-store';
import { parseReference } from './reference';
import { systemError } from '../errors';
import { streamEntry } from '../drivers/graph/changes';

const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar';

interface Selected {
  record: ImageRecord;
  refs: Reference[];
}

/** Which images and tags `names` means: a tag, every tag of a bare repository name, or an id. */
export function selectImages(graph: Graph, names: string[]): Selected[] {
  const byId = new Map<Digest, Selected>();
  for (const name of names) {
    const bareRepo = !name.includes('@') && !/:[^/]*$/.test(name) && !/^(sha256:)?[a-f0-9]{6,64}$/.test(name);
    if (bareRepo) {
      const repo = parseReference(name, null).name;
      const tagged = graph.references.all().filter((r) => r.ref.name === repo && r.ref.tag);
      if (tagged.length > 0) {
        for (const { ref, id } of tagged) add(byId, graph.images.get(id)!, ref);
        continue;
      }
    }
    const { record, ref } = graph.resolve(name);
    add(byId, record, ref?.tag ? ref : undefined);
  }
  return [...byId.values()];
}

function add(map: Map<Digest, Selected>, record: ImageRecord, ref: Reference | undefined): void {
  const entry = map.get(record.id) ?? { record, refs: [] };
  if (ref && !entry.refs.some((r) => r.full === ref.full)) entry.refs.push(ref);
  map.set(record.id, entry);
}

export function saveImages(graph: Graph, selected: Selected[]): Readable {
  const pack = tarPack();
  const mtime = new Date(0);
  const writeFile = (name: string, data: Buffer) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, mtime, mode: 0o644, size: data.length }, data, (e) => (e ? reject(e) : resolve())));
  const written = new Set<Digest>();
  const writeStream = (name: string, size: number, src: Readable) => streamEntry(pack, { name, mtime, mode: 0o644, size }, src as AsyncIterable<Buffer>);
  const writeBlob = async (digest: Digest) => {
    if (written.has(digest)) return;
    written.add(digest);
    const file = graph.content.path(digest);
    const { size } = await stat(file);
    await writeStream(`blobs/sha256/${hexOf(digest)}`, size, createReadStream(file, { highWaterMark: 1 << 20 }));
  };

  (async () => {
    await writeFile('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    const index: { schemaVersion: 2; mediaType: string; manifests: unknown[] } = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] };
    const dockerManifest: unknown[] = [];
    for (const { record, refs } of selected) {
      await writeBlob(record.id);
      const layers = [];
      const chain = record.chainId ? graph.layers.chain(record.chainId) : [];
      for (const l of record.layers) {
        const blob = await graph.content.info(l);
        if (blob) {
          await writeBlob(l);
          layers.push({ mediaType: LAYER_TYPE, digest: l, size: blob.size });
          continue;
        }
        // No blob kept: the layer's tar is rebuilt from its tar-split record and files.
        const layer = chain.find((c) => c.diffId === l);
        const rebuilt = layer ? await graph.layers.tarStream(layer.chainId) : undefined;
        if (!rebuilt) throw systemError(`layer ${l} of image ${record.id} is missing: remove the image and load it again`);
        if (!written.has(l)) {
          written.add(l);
          await writeStream(`blobs/sha256/${hexOf(l)}`, rebuilt.size, rebuilt.stream);
        }
        layers.push({ mediaType: LAYER_TYPE, digest: l, size: rebuilt.size });
      }
      const configInfo = (await graph.content.info(record.id))!;
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_TYPE, config: { mediaType: CONFIG_TYPE, digest: record.id, size: configInfo.size }, layers }));
      const manifestDigest = sha256(manifest);
      if (!written.has(manifestDigest)) {
        written.add(manifestDigest);
        await writeFile(`blobs/sha256/${hexOf(manifestDigest)}`, manifest);
      }
      const descriptor = { mediaType: MANIFEST_TYPE, digest: manifestDigest, size: manifest.length };
      if (refs.length === 0) index.manifests.push(descriptor);
      for (const ref of refs) {
        index.manifests.push({ ...descriptor, annotations: { 'io.containerd.image.name': ref.full, 'org.opencontainers.image.ref.name': ref.tag ?? '' } });
      }
      dockerManifest.push({ Config: `blobs/sha256/${hexOf(record.id)}`, RepoTags: refs.length > 0 ? refs.map((r) => r.familiar) : null, Layers: record.layers.map((l) => `blobs/sha256/${hexOf(l)}`) });
    }
    await writeFile('index.json', Buffer.from(JSON.stringify(index)));
    await writeFile('manifest.json', Buffer.from(JSON.stringify(dockerManifest)));
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return Readable.from(pack as AsyncIterable<Buffer>);
}
