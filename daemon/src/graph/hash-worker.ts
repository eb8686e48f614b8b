// sha256 of layer streams on a worker thread: while a layer streams in, the main thread parses
// HTTP and tar and dispatches writes; hashing is the one large CPU cost that can run beside it.
// One worker serves every stream; each gets an id. Bytes are copied once into a transferred
// buffer (a chunk is often a view into a larger one), and at most MAX_QUEUED bytes wait.
import type { Worker } from 'node:worker_threads';
import type { Hasher } from '../drivers/graph/extract';

const MAX_QUEUED = 32 * 1024 * 1024;

const WORKER = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    let h = hashes.get(m.id);
    if (!h) hashes.set(m.id, (h = createHash('sha256')));
    h.update(m.data);
    parentPort.postMessage({ id: m.id, done: m.data.byteLength });
  } else if (m.op === 'digest') {
    const h = hashes.get(m.id) || createHash('sha256');
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, digest: h.digest('hex') });
  } else if (m.op === 'drop') {
    hashes.delete(m.id);
  }
});
`;

let worker: Worker | undefined;
let nextId = 1;
interface Waiting {
  queued: number;
  wake?: () => void;
  digest?: (hex: string) => void;
  /** Set when the worker died: every pending and later call fails with it. */
  failed?: Error;
  fail?: (err: Error) => void;
}
const waiting = new Map<number, Waiting>();

function theWorker(): Worker {
  if (worker) return worker;
  // (a built-in loaded on first use, not at start: see components.ts)
  const w = new (process.getBuiltinModule('node:worker_threads').Worker)(WORKER, { eval: true });
  w.on('message', (m: { id: number; done?: number; digest?: string }) => {
    const s = waiting.get(m.id);
    if (!s) return;
    if (m.done !== undefined) {
      s.queued -= m.done;
      if (s.queued <= MAX_QUEUED / 2 && s.wake) {
        const wake = s.wake;
        s.wake = undefined;
        wake();
      }
    } else if (m.digest !== undefined) {
      forget(m.id);
      s.digest?.(m.digest);
    }
  });
  // A dead worker must fail the loads that wait on it, not leave them hanging; the next hash
  // starts a new one.
  const died = (err: Error) => {
    if (worker === w) worker = undefined;
    for (const [id, s] of waiting) {
      waiting.delete(id);
      s.failed = err;
      s.wake?.();
      s.fail?.(err);
    }
  };
  w.on('error', (err) => died(new Error(`the hashing worker failed: ${err.message}`)));
  w.on('exit', (code) => died(new Error(`the hashing worker exited (${code})`)));
  // Idle, the worker must not keep a process alive (tests, tools); busy, it must.
  w.unref();
  worker = w;
  return w;
}

function forget(id: number): void {
  waiting.delete(id);
  if (waiting.size === 0) worker?.unref();
}

export class WorkerHasher implements Hasher {
  private readonly id = nextId++;
  private readonly state: Waiting = { queued: 0 };
  private readonly w = theWorker();

  constructor() {
    if (waiting.size === 0) this.w.ref();
    waiting.set(this.id, this.state);
  }

  update(chunk: Buffer): Promise<void> | undefined {
    if (this.state.failed) return Promise.reject(this.state.failed);
    const copy = new Uint8Array(chunk.length);
    copy.set(chunk);
    this.state.queued += copy.byteLength;
    this.w.postMessage({ op: 'update', id: this.id, data: copy }, [copy.buffer]);
    if (this.state.queued <= MAX_QUEUED) return undefined;
    return new Promise((resolve) => (this.state.wake = resolve));
  }

  digest(): Promise<string> {
    if (this.state.failed) return Promise.reject(this.state.failed);
    return new Promise((resolve, reject) => {
      this.state.digest = (hex) => resolve(`sha256:${hex}`);
      this.state.fail = reject;
      this.w.postMessage({ op: 'digest', id: this.id });
    });
  }

  drop(): void {
    forget(this.id);
    this.w.postMessage({ op: 'drop', id: this.id });
  }
}

/** Stops the worker (shutdown, tests); hashes still pending fail, the next one starts a new worker. */
export async function stopHashWorker(): Promise<void> {
  await worker?.terminate();
}
