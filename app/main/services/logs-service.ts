// Log streams for one window: the engine's log stream (demultiplexed unless the container has a
// tty) cut into lines and pushed in batches. The engine stream is paused while the window's
// transport is backed up, so a fast log never piles up in memory here.
import { StringDecoder } from 'node:string_decoder';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { LogLine, LogOpenOptions } from '../../shared/views.js';
import { MultiplexedStreamDecoder } from '../engine/multiplexed-stream.js';
import { EngineError } from '../engine/engine-error.js';
import type { Emit } from './broadcaster.js';
import type { EngineService } from './engine-service.js';

/** Splits decoded text into lines, keeping a partial last line until its newline arrives. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  push(chunk: Buffer): string[] {
    const text = this.partial + this.decoder.write(chunk);
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  }

  end(): string[] {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    return rest ? [rest] : [];
  }
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
    let error: string | undefined;
    try {
      for await (const chunk of res) {
        const lines: LogLine[] = [];
        const pieces = tty ? [{ stream: 'stdout' as const, data: chunk as Buffer }] : demux.push(chunk as Buffer);
        for (const piece of pieces) {
          if (piece.stream === 'stdin') continue;
          for (const text of splitters[piece.stream].push(piece.data)) lines.push({ stream: piece.stream, text });
        }
        if (lines.length) this.emit('logs:data', { streamId, lines });
        while (this.backedUp() && this.streams.has(streamId)) await new Promise((r) => setTimeout(r, 20));
      }
    } catch (err) {
      if (this.streams.has(streamId)) error = (err as Error).message;
    }
    const rest: LogLine[] = [
      ...splitters.stdout.end().map((text) => ({ stream: 'stdout' as const, text })),
      ...splitters.stderr.end().map((text) => ({ stream: 'stderr' as const, text })),
    ];
    if (rest.length) this.emit('logs:data', { streamId, lines: rest });
    this.emit('logs:end', { streamId, error });
    this.streams.delete(streamId);
  }
}
