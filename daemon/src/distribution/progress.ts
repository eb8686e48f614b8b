// dockerd's progress messages for pull and push, byte for byte: `progress.Message` lines carry no
// progressDetail, `progress.Update` lines an empty one, byte counts a bar drawn as docker's
// JSONProgress draws it for a 200-column terminal ("[=====>   ]  1.234MB/5.678MB").
import type { Writable } from 'node:stream';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** go-units HumanSize: decimal units, four significant digits ("32.77kB", "1.089MB", "100B"). */
export function humanSize(bytes: number): string {
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < UNITS.length - 1) {
    value /= 1000;
    i++;
  }
  return `${Number(value.toPrecision(4))}${UNITS[i]}`;
}

/** docker's JSONProgress.String() at width 200, without the time estimate dockerd never sends. */
export function progressString(current: number, total: number): string {
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return humanSize(current).padStart(8);
  const percentage = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const bar = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  const numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return bar + numbers;
}

export interface ProgressMessage {
  status?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  id?: string;
  aux?: unknown;
  errorDetail?: { message: string };
  error?: string;
}

/** Where a pull or push reports: a JSON-lines stream (the HTTP response) or any sink of messages. */
export type ProgressSink = (m: ProgressMessage) => void;

export class ProgressOutput {
  constructor(readonly sink: ProgressSink) {}

  /** progress.Message: a status line, with an id when given. */
  message(id: string | undefined, status: string): void {
    this.sink(id ? { status, id } : { status });
  }

  /** progress.Update: a status for one layer (the CLI redraws that layer's line). */
  update(id: string, status: string): void {
    this.sink({ status, progressDetail: {}, id });
  }

  bytes(id: string, status: string, current: number, total: number): void {
    this.sink({ status, progressDetail: { current, total }, progress: progressString(current, total), id });
  }

  aux(value: unknown): void {
    this.sink({ progressDetail: {}, aux: value });
  }

  error(message: string): void {
    this.sink({ errorDetail: { message }, error: message });
  }
}

/** Writes messages as dockerd does: one JSON document per line, CRLF-terminated. */
export function jsonLines(out: Writable): ProgressSink {
  return (m) => {
    out.write(JSON.stringify(m) + '\r\n');
  };
}

/**
 * dockerd's progress.Reader cadence: an update every 1% of the size (at most every 512 kB), and no
 * more than ten a second, the last one always.
 */
export class ByteProgress {
  private current = 0;
  private lastUpdate = 0;
  private lastEmit = 0;
  private readonly every: number;

  constructor(private readonly out: ProgressOutput, private readonly id: string, private readonly status: string, private readonly total: number) {
    this.every = total > 0 ? Math.min(512 * 1024, Math.floor(total * 0.01)) : 512 * 1024;
  }

  add(n: number): void {
    this.current += n;
    if (this.current - this.lastUpdate <= this.every && this.current !== this.total) return;
    this.lastUpdate = this.current;
    const now = Date.now();
    if (this.current === this.total || now - this.lastEmit >= 100) {
      this.lastEmit = now;
      this.out.bytes(this.id, this.status, this.current, this.total);
    }
  }
}
