// The JSON-lines stream of load, import and build: one JSONMessage per line, in the shape the
// docker CLI renders (status, id, progressDetail, stream, aux, errorDetail). Byte progress bars are
// drawn as dockerd draws them, by the same code as pull and push (distribution/progress.ts).
import type { Writable } from 'node:stream';
import { progressString } from '../../distribution/progress';

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

export class JsonProgressWriter {
  constructor(private readonly out: Writable) {}

  write(message: JsonMessage): boolean {
    return this.out.write(JSON.stringify(message) + '\r\n');
  }

  status(status: string, id?: string): boolean {
    return this.write(id === undefined ? { status } : { status, progressDetail: {}, id });
  }

  /** Byte progress of one layer, with the bar dockerd draws (shared with pull and push). */
  progress(id: string, status: string, current: number, total: number): boolean {
    return this.write({ status, progressDetail: { current, total }, progress: progressString(current, total), id });
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
