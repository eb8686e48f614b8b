// A client of a shim's attach.sock (native/shim/PROTOCOL.md): frames both ways, the hello,
// command replies in order, output with back-pressure, the exit frame.
import net from 'node:net';
import { Readable, Writable } from 'node:stream';
import type { AttachSession, ExitStatus } from './exec-driver';

export const Frame = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  exit: 3,
  ok: 4,
  error: 5,
  hello: 6,
  closeStdin: 16,
  resize: 17,
  start: 18,
  kill: 19,
  subscribe: 20,
} as const;

const HEADER = 8;

export interface ShimHello {
  id: string;
  pid: number;
  status: 'created' | 'running' | 'exited';
  tty: boolean;
  stdin: boolean;
  exec: boolean;
}

/** The shim answered a command with an error frame. */
export class ShimCommandError extends Error {}

export function frame(type: number, payload?: Buffer): Buffer {
  const h = Buffer.alloc(HEADER + (payload?.length ?? 0));
  h[0] = type;
  h.writeUInt32BE(payload?.length ?? 0, 4);
  if (payload) payload.copy(h, HEADER);
  return h;
}

export class ShimConnection {
  hello!: ShimHello;
  /** Resolves with the exit frame's record, or null if the connection closed without one. */
  readonly exit: Promise<ExitStatus | null>;
  /** Resolves when the connection is closed (by either side). */
  readonly gone: Promise<void>;
  private resolveGone!: () => void;
  onClose: () => void = () => undefined;
  private onOutput?: (stream: 1 | 2, data: Buffer) => void;
  /** Output that arrived with the hello, before anyone could take it. */
  private early: [1 | 2, Buffer][] = [];

  private pending: Buffer | undefined;
  private replies: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private resolveExit!: (s: ExitStatus | null) => void;
  private helloWaiter?: { resolve: () => void; reject: (e: Error) => void };
  private closed = false;

  private constructor(readonly socket: net.Socket) {
    this.exit = new Promise((resolve) => (this.resolveExit = resolve));
    this.gone = new Promise((resolve) => (this.resolveGone = resolve));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined); // 'close' follows and says it all
    socket.on('close', () => this.onClosed());
  }

  /** Connects and waits for the hello. Rejects with the socket error (ENOENT, ECONNREFUSED)
   * when no shim listens. */
  static connect(socketPath: string): Promise<ShimConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath);
      const fail = (err: Error): void => reject(err);
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.off('error', fail);
        const conn = new ShimConnection(socket);
        conn.helloWaiter = { resolve: () => resolve(conn), reject };
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Where output frames go; what came before this was set is handed over first. */
  setOutputHandler(handler: (stream: 1 | 2, data: Buffer) => void): void {
    this.onOutput = handler;
    for (const [stream, data] of this.early.splice(0)) handler(stream, data);
  }

  /** Sends a command frame and resolves on its ok reply; rejects with the shim's message. */
  command(type: number, payload?: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new ShimCommandError('the shim connection is closed'));
    return new Promise((resolve, reject) => {
      this.replies.push({ resolve, reject });
      this.socket.write(frame(type, payload));
    });
  }

  /** Queues stdin; false when the socket wants the caller to wait for 'drain'. */
  writeStdin(data: Buffer, done?: (err?: Error | null) => void): boolean {
    return this.socket.write(frame(Frame.stdin, data), done);
  }

  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }
  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= HEADER) {
      const len = buf.readUInt32BE(off + 4);
      if (buf.length - off < HEADER + len) break;
      const type = buf[off];
      const payload = buf.subarray(off + HEADER, off + HEADER + len);
      off += HEADER + len;
      this.onFrame(type, payload);
    }
    buf = buf.subarray(off);
    this.pending = buf.length > 0 ? Buffer.from(buf) : undefined;
  }

  private onFrame(type: number, payload: Buffer): void {
    switch (type) {
      case Frame.stdout:
      case Frame.stderr:
        if (this.onOutput) this.onOutput(type, payload);
        else this.early.push([type, payload]);
        break;
      case Frame.hello:
        this.hello = JSON.parse(payload.toString('utf8')) as ShimHello;
        this.helloWaiter?.resolve();
        this.helloWaiter = undefined;
        break;
      case Frame.ok:
        this.replies.shift()?.resolve();
        break;
      case Frame.error:
        this.replies.shift()?.reject(new ShimCommandError(payload.toString('utf8')));
        break;
      case Frame.exit:
        this.resolveExit(parseExit(payload.toString('utf8')));
        break;
      default:
        break; // a newer shim's frame: ignore
    }
  }

  private onClosed(): void {
    this.closed = true;
    this.helloWaiter?.reject(new Error('the shim closed the connection before its hello'));
    for (const r of this.replies.splice(0)) r.reject(new ShimCommandError('the shim went away before replying'));
    this.resolveExit(null);
    this.resolveGone();
    this.onClose();
  }
}

export function parseExit(text: string): ExitStatus {
  const raw = JSON.parse(text) as ExitStatus;
  const out: ExitStatus = { exitCode: raw.exitCode, signal: raw.signal, exitedAt: raw.exitedAt, oomKilled: raw.oomKilled };
  if (raw.error) out.error = raw.error;
  return out;
}

export function resizePayload(rows: number, cols: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(Math.max(0, Math.min(0xffff, rows)), 0);
  b.writeUInt16BE(Math.max(0, Math.min(0xffff, cols)), 2);
  return b;
}

/** Turns one connection into an attach session: Readables for stdout and stderr whose
 * back-pressure pauses the socket (and, through the shim, the container), a Writable stdin. */
export async function openAttachSession(
  socketPath: string,
  opts: { stdin: boolean; stdout: boolean; stderr: boolean; stdinOnce: boolean },
): Promise<AttachSession> {
  const conn = await ShimConnection.connect(socketPath);
  const mask = (opts.stdout ? 1 : 0) | (opts.stderr && !conn.hello.tty ? 2 : 0);
  if (mask !== 3) await conn.command(Frame.subscribe, Buffer.from([mask]));
  const waiting = new Set<Readable>();
  const readable = (): Readable =>
    new Readable({
      read() {
        if (waiting.delete(this) && waiting.size === 0) conn.resume();
      },
    });
  const stdout = readable();
  const stderr = readable();
  conn.setOutputHandler((stream, data) => {
    if (!(mask & stream)) return; // sent before our subscription applied
    const target = stream === Frame.stdout ? stdout : stderr;
    if (!target.push(data)) {
      waiting.add(target);
      conn.pause();
    }
  });
  const end = (): void => {
    if (!stdout.readableEnded) stdout.push(null);
    if (!stderr.readableEnded) stderr.push(null);
  };
  conn.onClose = end;
  void conn.exit.then(end);
  if (mask !== 3 || conn.hello.tty) {
    // Streams not subscribed (and stderr under a tty) carry nothing.
    if (!(mask & 1)) stdout.push(null);
    if (!(mask & 2)) stderr.push(null);
  }

  let stdin: Writable | null = null;
  if (opts.stdin && conn.hello.stdin) {
    stdin = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (conn.isClosed) return cb();
        // Frames larger than the shim's 1 MiB limit are split.
        for (let off = 0; off < chunk.length; off += 65536) {
          const part = chunk.subarray(off, off + 65536);
          const last = off + 65536 >= chunk.length;
          conn.writeStdin(part, last ? () => cb() : undefined);
        }
        if (chunk.length === 0) cb();
      },
      final(cb) {
        if (!opts.stdinOnce || conn.isClosed) return cb();
        conn.command(Frame.closeStdin).then(() => cb(), () => cb());
      },
    });
  }
  return {
    stdin,
    stdout,
    stderr,
    resize: (rows, cols) => conn.command(Frame.resize, resizePayload(rows, cols)),
    exit: conn.exit,
    detach: () => conn.close(),
  };
}
