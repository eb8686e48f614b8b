// Attaching a client to a container's stdio: optional replay of the log, then the live streams
// of the shim, with the detach key sequence (ctrl-p ctrl-q by default) scanned in the client's
// input. An attach to a container that is not running yet waits for its start, so `docker run`
// and `docker start -a` see every byte.
import { Transform, type Readable, type Writable } from 'node:stream';
import { invalidParameter } from '../errors';
import type { AttachSession, ContainerTask } from '../drivers/exec/exec-driver';
import type { Container } from './container';
import type { Containers } from './containers';
import { readLogs } from '../drivers/exec/log-reader';

export const DEFAULT_DETACH_KEYS = [0x10, 0x11];

/** "ctrl-p,ctrl-q" → bytes, as dockerd's term.ToBytes. */
export function parseDetachKeys(spec: string | undefined): number[] {
  if (!spec) return DEFAULT_DETACH_KEYS;
  const out: number[] = [];
  for (const raw of spec.split(',')) {
    const key = raw.trim().toLowerCase();
    if (key.length === 1) {
      out.push(key.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/.exec(key);
    if (!m) throw invalidParameter(`Invalid detach keys (${spec}) provided`);
    const ch = m[1]!;
    if (ch >= 'a' && ch <= 'z') out.push(ch.charCodeAt(0) - 96);
    else if (ch === '@') out.push(0);
    else if (ch === '[') out.push(27);
    else if (ch === '\\') out.push(28);
    else if (ch === ']') out.push(29);
    else if (ch === '^') out.push(30);
    else if (ch === '_') out.push(31);
    else throw invalidParameter(`Invalid detach keys (${spec}) provided`);
  }
  return out;
}

/** Passes input through, holding back a partial detach sequence; calls onDetach when it completes. */
export class DetachScanner extends Transform {
  private matched = 0;

  constructor(private readonly keys: number[], private readonly onDetach: () => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) {
          if (out.length > 0) this.push(Buffer.from(out));
          this.matched = 0;
          this.onDetach();
          return cb();
        }
        continue;
      }
      // A broken sequence: what was held goes through, and this byte may start a new one.
      out.push(...this.keys.slice(0, this.matched));
      this.matched = 0;
      if (byte === this.keys[0]) this.matched = 1;
      else out.push(byte);
    }
    if (out.length > 0) this.push(Buffer.from(out));
    cb();
  }
}

export interface AttachRequest {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  logs: boolean;
  stream: boolean;
  detachKeys?: string;
}

export interface AttachIo {
  input: Readable | null;
  stdout: Writable;
  stderr: Writable;
}

const write = (w: Writable, data: Buffer): Promise<void> | void => {
  if (!w.write(data)) return new Promise((r) => w.once('drain', () => r()));
};

/** Writes the log so far to the client's stdout and stderr (logs=1). The reader frames it as
 * `docker logs` does; the frames are split back here so each stream keeps its own writer. */
async function replayLog(file: string, req: AttachRequest, io: AttachIo, signal: AbortSignal): Promise<void> {
  const frames = readLogs(file, { stdout: req.stdout, stderr: req.stderr, format: 'multiplexed' });
  const abort = () => frames.destroy();
  signal.addEventListener('abort', abort, { once: true });
  let carry: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of frames as AsyncIterable<Buffer>) {
      const buf: Buffer = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      let at = 0;
      // Each frame: stream (1 stdout, 2 stderr), 3 zero bytes, a 4-byte length, the payload.
      while (buf.length - at >= 8 && buf.length - at - 8 >= buf.readUInt32BE(at + 4)) {
        const end = at + 8 + buf.readUInt32BE(at + 4);
        await write(buf[at] === 1 ? io.stdout : io.stderr, buf.subarray(at + 8, end));
        at = end;
      }
      carry = buf.subarray(at);
    }
  } catch (err) {
    if (!signal.aborted) throw err; // the client went away: nothing left to replay to
  } finally {
    signal.removeEventListener('abort', abort);
    frames.destroy();
  }
}

/** Runs one attach to its end: the container exits, the client detaches or goes away. */
export async function attachContainer(containers: Containers, c: Container, req: AttachRequest, io: AttachIo, signal: AbortSignal): Promise<'exited' | 'detached' | 'closed'> {
  const keys = parseDetachKeys(req.detachKeys);
  if (req.logs) {
    await replayLog(containers.logPath(c), req, io, signal);
  }
  if (!req.stream) return 'exited';

  // StdinOnce (`docker run -i`) closes the container's stdin when the client's ends, but not under
  // a tty, as in dockerd: there the CLI detaching with ctrl-p ctrl-q just hangs up, and the shell
  // must keep running.
  const stdinOnce = c.record.Config.StdinOnce === true && c.record.Config.Tty !== true;
  const options = { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, stdinOnce };
  let session: AttachSession;
  const current = containers.task(c);
  if (current && c.running) {
    session = await current.attach(options);
  } else {
    // Not running yet: connect when `start` creates the task, before the process runs.
    session = await new Promise<AttachSession>((resolve, reject) => {
      const cancel = containers.whenTaskCreated(c, async (task: ContainerTask) => {
        signal.removeEventListener('abort', onAbort);
        const s = await task.attach(options);
        resolve(s);
      });
      const onAbort = () => {
        cancel();
        reject(signal.reason instanceof Error ? signal.reason : new Error('client disconnected'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
  containers.emit(c, 'attach');

  return new Promise((resolve) => {
    let settled = false;
    const finish = (how: 'exited' | 'detached' | 'closed') => {
      if (settled) return;
      settled = true;
      if (how !== 'exited') session.detach();
      if (how === 'detached') containers.emit(c, 'detach');
      resolve(how);
    };
    signal.addEventListener('abort', () => finish('closed'), { once: true });
    let open = 0;
    const pipe = (from: Readable, to: Writable) => {
      open++;
      from.on('data', (chunk: Buffer) => {
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.once('end', () => {
        if (--open === 0) finish('exited');
      });
    };
    if (req.stdout) pipe(session.stdout, io.stdout);
    else session.stdout.resume();
    if (req.stderr) pipe(session.stderr, io.stderr);
    else session.stderr.resume();
    if (open === 0) void session.exit.then(() => finish('exited'));
    if (io.input && session.stdin) {
      const scanner = new DetachScanner(keys, () => finish('detached'));
      io.input.pipe(scanner).pipe(session.stdin);
    }
  });
}
