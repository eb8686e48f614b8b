// The JSON-lines stream of load, import and build: one JSONMessage per line, in the shape the
// docker CLI renders (status, id, stream, aux, errorDetail). Pull and push draw byte progress bars
// exactly as dockerd does in distribution/progress.ts.
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

export class JsonProgressWriter {
  constructor(private readonly out: Writable) {}

  write(message: JsonMessage): boolean {
    return this.out.write(JSON.stringify(message) + '\r\n');
  }

  status(status: string, id?: string): boolean {
    return this.write(id === undefined ? { status } : { status, progressDetail: {}, id });
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
