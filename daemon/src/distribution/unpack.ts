// How a pulled layer's tar becomes a layer of the graph: staged by a driver that unpacks without
// the parent (overlay) together with the tar-split record that rebuilds the tar later, or, for a
// driver that needs the parent (vfs), registered on it with the tar kept as a blob.
import { pipeline, Readable, Transform } from 'node:stream';
import type { ContentStore, Digest } from '../graph/interfaces';
import { TarSplitRecorder } from '../drivers/graph/tar-split';
import { WorkerHasher } from '../graph/hash-worker';
import type { GraphStores } from './puller';
import { invalidParameter } from '../errors';

/**
 * The graph's way for drivers that unpack a layer without its parent (overlay): staged while the
 * tar streams, with the tar-split record that rebuilds the tar later, then adopted under its
 * chain id once its diff id is proved.
 */
export async function stageLayer(graph: GraphStores, tar: Readable, parent: Digest | undefined, diffId: Digest, signal: AbortSignal): Promise<void> {
  const { layers } = graph;
  const driver = layers.driver;
  const recorder = new TarSplitRecorder();
  let size = 0;
  // The tar-split record is taken as the bytes pass on to the unpacker.
  const recording = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb) {
      recorder.feed(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  // A source that fails (a digest mismatch, a cut connection) fails the unpacking with its error.
  pipeline(tar, recording, () => undefined);
  const staging = driver.stageLayer!(recording, signal, new WorkerHasher());
  try {
    await staging;
  } catch (err) {
    recording.destroy();
    throw err;
  }
  const staged = await staging;
  if (staged.diffId !== diffId) {
    await driver.discardStaged?.(staged);
    throw invalidParameter(`layer digest mismatch: the image config says ${diffId} but the layer's content is ${staged.diffId}`);
  }
  await layers.adopt!(staged, parent, recorder.finish(), size);
}

/** Drivers that need the parent (vfs): the layer unpacks on it, and its tar is kept as a blob. */
export async function registerLayer(graph: GraphStores, tar: Readable, parent: Digest | undefined, diffId: Digest, signal: AbortSignal): Promise<void> {
  const { content, layers } = graph;
  let input = tar;
  let kept: Promise<void> | undefined;
  if (!(await content.info(diffId))) {
    const tee = teeToBlob(content, tar, diffId);
    input = tee.stream;
    kept = tee.done;
  }
  await layers.register(input, parent, diffId, signal);
  // Another pull may have unpacked the same layer meanwhile (then our stream went unread).
  if (kept) await kept.catch(async (err: unknown) => {
    if (!(await content.info(diffId))) throw err;
  });
}

/** Passes a stream through while writing it to a blob that must hash to `expected`. */
function teeToBlob(content: ContentStore, source: Readable, expected: Digest): { stream: Readable; done: Promise<void> } {
  let finish!: () => void;
  let fail!: (e: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  done.catch(() => undefined);
  const stream = Readable.from((async function* () {
    const w = await content.writer();
    let committed = false;
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        await w.write(chunk);
        yield chunk;
      }
      await w.commit({ digest: expected });
      committed = true;
      finish();
    } finally {
      // An error, or a reader that stopped early: the blob is not kept.
      if (!committed) {
        await w.abort();
        source.destroy();
        fail(new Error(`the layer ${expected} was not read to its end`));
      }
    }
  })(), { objectMode: false, highWaterMark: 1 << 20 });
  return { stream, done };
}
