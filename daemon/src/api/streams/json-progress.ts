// The JSON-lines progress stream of pull, push, load, import and build: one JSONMessage per line,
// in the shape the docker CLI renders (status, id, progressDetail, progress bar, errorDetail).
import type { Writable } from 'node:stream';

export interface JsonMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number; units?: string };
  stream?: string;
  aux?: unknown;
  error?: string;
  errorDetail?: { code?: number; message: string };
}

const units = ['B', 'kB', 'MB', 'GB', 'TB'];

/** Sizes as docker's go-units HumanSize: decimal, three significant digits ("1.23MB"). */
export function humanSize(bytes: number): string {
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${Number(value.toPrecision(3))}${units[i]}`;
}

/** The bar dockerd puts in `progress` for clients that print it as text. */
export function progressBar(current: number, total: number, width = 50): string {
  if (total <= 0) return humanSize(current);
  const filled = Math.max(0, Math.min(width, Math.floor((current / total) * width)));
  const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? (filled === width ? '=' : '>') : '') + ' '.repeat(width - filled);
  return `[${bar}] ${humanSize(current)}/${humanSize(total)}`;
}

export class JsonProgressWriter {
  constructor(private readonly out: Writable) {}

  write(message: JsonMessage): boolean {
    return this.out.write(JSON.stringify(message) + '\r\n');
  }

  status(status: string, id?: string): boolean {
    return this.write(id === undefined ? { status } : { status, progressDetail: {}, id });
  }

  progress(id: string, status: string, current: number, total: number): boolean {
    return this.write({ status, progressDetail: { current, total }, progress: progressBar(current, total), id });
  }

  stream(text: string): boolean {
    return this.write({ stream: text });
  }

  aux(value: unknown): boolean {
    return this.write({ aux: value });
  }

  /** An error after the response started: the client prints it and exits non-zero. */
  error(message: string, code?: number): boolean {
    return this.write({ errorDetail: code === undefined ? { message } : { code, message }, error: message });
  }
}
