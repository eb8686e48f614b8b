// Log streams for one window: the engine's log stream (demultiplexed unless the container has a
// tty) cut at line ends and pushed as chunks of whole lines. The engine stream is paused while the
// window's transport is backed up, so a fast log never piles up in memory here.
import { StringDecoder } from 'node:string_decoder';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { LogChunk, LogOpenOptions } from '../../shared/views.js';
import { MultiplexedStreamDecoder } from '../engine/multiplexed-stream.js';
import { EngineError } from '../engine/engine-error.js';
import type { Emit } from './broadcaster.js';
import type { EngineService } from './engine-service.js';

/**
 * Cuts decoded text at its last newline: the whole lines go on as one text (see LogChunk), the
 * partial last line waits for its newline. No string per line is made here: at 20 MB/s of short
 * lines that is 200,000 strings a second for the garbage collector, here and in the renderer.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  /** The lines this chunk completed, joined by "\n"; undefined when it completed none. */
  push(chunk: Buffer): string | undefined {
    const text = this.partial + this.decoder.write(chunk);
    const nl = text.lastIndexOf('\n');
    if (nl < 0) {
      this.partial = text;
      return undefined;
    }
    this.partial = text.slice(nl + 1);
    return withoutCarriageReturns(text.slice(0, nl));
  }

  /** The partial last line, once the stream has ended; undefined when there is none. */
  end(): string | undefined {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    return rest ? withoutCarriageReturns(rest) : undefined;
  }
}

/** CRLF line ends as LF: a "\r" before each "\n" and at the very end goes. */
function withoutCarriageReturns(lines: string): string {
  return lines.includes('\r') ? lines.replace(/\r(?=\n)|\r$/g, '') : lines;
}

/**
 * The API takes `since` as unix seconds; like the docker CLI, also accept a duration ago
 * ("10m", "1h30m") and RFC 3339 times.
 */
export function sinceTimestamp(since: string | undefined, now = Date.now()): string | undefined {
  if (!since) return undefined;
  if (/^\d+(\.\d+)?$/.test(since)) return since;
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
  const parts = [...since.matchAll(/(\d+)([smhd])/g)];
  if (parts.length && parts.map((p) => p[0]).join('') === since) {
    const seconds = parts.reduce((n, p) => n + Number(p[1]) * units[p[2]!]!, 0);
    return String(Math.floor(now / 1000) - seconds);
  }
  const t = Date.parse(since);
  if (!Number.isNaN(t)) return String(Math.floor(t / 1000));
  throw new EngineError(400, `invalid since "${since}": write a duration like 10m or 1h, a unix time, or an RFC 3339 time`);
}

export class LogsService {
  private readonly streams = new Map<string, { controller: AbortController; res?: IncomingMessage }>();

  constructor(private readonly engine: EngineService, private readonly emit: Emit, private readonly backedUp: () => boolean = () => false) {}

  async open(options: LogOpenOptions): Promise<string> {
    const client = this.engine.client();
    const inspect = await client.inspectContainer(options.id);
    const tty = Boolean(inspect.Config?.Tty);
    const streamId = randomUUID();
    const controller = new AbortController();
    const entry: { controller: AbortController; res?: IncomingMessage } = { controller };
    this.streams.set(streamId, entry);
    const res = await client.containerLogs(options.id, { ...options, since: sinceTimestamp(options.since), signal: controller.signal });
    entry.res = res;
    void this.pump(streamId, res, tty);
    return streamId;
  }

  close(streamId: string): void {
    this.streams.get(streamId)?.controller.abort();
    this.streams.delete(streamId);
  }

  closeAll(): void {
    for (const id of [...this.streams.keys()]) this.close(id);
  }

  private async pump(streamId: string, res: IncomingMessage, tty: boolean): Promise<void> {
    const demux = new MultiplexedStreamDecoder();
    const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
    const batch = new LogBatch((chunks) => this.emit('logs:data', { streamId, chunks }));
    let error: string | undefined;
    try {
      for await (const chunk of res) {
        const pieces = tty ? [{ stream: 'stdout' as const, data: chunk as Buffer }] : demux.push(chunk as Buffer);
        for (const piece of pieces) {
          if (piece.stream === 'stdin') continue;
          const text = splitters[piece.stream].push(piece.data);
          if (text !== undefined) batch.add(piece.stream, text);
        }
        while (this.backedUp() && this.streams.has(streamId)) await new Promise((r) => setTimeout(r, 20));
      }
    } catch (err) {
      if (this.streams.has(streamId)) error = (err as Error).message;
    }
    for (const stream of ['stdout', 'stderr'] as const) {
      const text = splitters[stream].end();
      if (text !== undefined) batch.add(stream, text);
    }
    batch.flush();
    this.emit('logs:end', { streamId, error });
    this.streams.delete(streamId);
  }
}

/** How long new lines wait for more before they leave: about a frame, which the view draws once. */
const BATCH_MS = 16;
/** A batch leaves early at this size, so no one message holds the window's thread for long. */
const BATCH_BYTES = 1 << 20;

/**
 * Gathers a stream's lines into one `logs:data` message per frame instead of one per read from
 * the engine (hundreds a second at 20 MB/s, each a task for the window), keeping their order:
 * consecutive lines of one stream join into one chunk.
 */
export class LogBatch {
  private chunks: { stream: LogChunk['stream']; texts: string[] }[] = [];
  private bytes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly send: (chunks: LogChunk[]) => void, private readonly waitMs = BATCH_MS, private readonly maxBytes = BATCH_BYTES) {}

  add(stream: LogChunk['stream'], text: string): void {
    const last = this.chunks[this.chunks.length - 1];
    if (last?.stream === stream) last.texts.push(text);
    else this.chunks.push({ stream, texts: [text] });
    this.bytes += text.length;
    if (this.bytes >= this.maxBytes) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.waitMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.chunks.length === 0) return;
    const chunks = this.chunks.map((c) => ({ stream: c.stream, text: c.texts.join('\n') }));
    this.chunks = [];
    this.bytes = 0;
    this.send(chunks);
  }
}
