// sha256 off the main thread. A pull hashes every compressed byte it downloads while the main
// thread also parses tar, writes files and serves the API; on two cores, handing the digest to a
// worker thread lets the two run side by side. One worker serves the whole daemon; bytes go to it
// in 1 MiB batches (copied, then transferred) and it answers with the digest at the end.
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.chunk) {
    let h = hashes.get(m.id);
    if (!h) hashes.set(m.id, (h = createHash('sha256')));
    h.update(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength));
  } else if (m.end) {
    const h = hashes.get(m.id) || createHash('sha256');
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, digest: 'sha256:' + h.digest('hex') });
  } else if (m.drop) {
    hashes.delete(m.id);
  }
});
`;

const BATCH = 1 << 20;

let worker: Worker | undefined;
let nextId = 1;
const waiting = new Map<number, { resolve: (digest: string) => void; reject: (err: Error) => void }>();

function shared(): Worker {
  if (!worker) {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    w.on('message', (m: { id: number; digest: string }) => {
      waiting.get(m.id)?.resolve(m.digest);
      waiting.delete(m.id);
    });
    w.on('error', (err) => {
      // A dead worker fails the hashes in flight; the next one starts a new worker.
      if (worker === w) worker = undefined;
      for (const { reject } of waiting.values()) reject(new Error(`the hashing thread failed: ${err.message}`));
      waiting.clear();
    });
    worker = w;
  }
  return worker;
}

/** A sha256 computed by the shared worker: update() as bytes pass, digest() at the end. */
export class OffThreadHash {
  private readonly id = nextId++;
  private readonly w = shared();
  private parts: Buffer[] = [];
  private size = 0;

  update(chunk: Buffer): void {
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size >= BATCH) this.flush();
  }

  private flush(): void {
    if (this.size === 0) return;
    // A fresh buffer of exactly these bytes, so the transfer moves only them.
    const batch = Buffer.allocUnsafeSlow(this.size);
    let at = 0;
    for (const p of this.parts) {
      p.copy(batch, at);
      at += p.length;
    }
    this.parts = [];
    this.size = 0;
    this.w.postMessage({ id: this.id, chunk: batch }, [batch.buffer]);
  }

  digest(): Promise<string> {
    this.flush();
    return new Promise((resolve, reject) => {
      waiting.set(this.id, { resolve, reject });
      this.w.postMessage({ id: this.id, end: true });
    });
  }

  /** Forgets a hash that will not be finished (a failed or cancelled download). */
  drop(): void {
    this.parts = [];
    this.w.postMessage({ id: this.id, drop: true });
  }
}
