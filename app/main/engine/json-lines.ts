// Decodes the Engine API's JSON streams (events, pull/push/build progress, stats, berthd's job
// feed): JSON values separated by newlines (dockerd writes "\r\n" after progress messages).
// Chunks split lines and even multi-byte UTF-8 characters anywhere, so bytes are decoded with a
// StringDecoder and only complete lines are parsed.
import { StringDecoder } from 'node:string_decoder';

export class JsonLinesDecoder<T = unknown> {
  private readonly text = new StringDecoder('utf8');
  private pending = '';

  /** Feeds one chunk; returns the values of the lines it completes. */
  push(chunk: Buffer | string): T[] {
    this.pending += typeof chunk === 'string' ? chunk : this.text.write(chunk);
    const values: T[] = [];
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, newline).trim();
      this.pending = this.pending.slice(newline + 1);
      if (line) values.push(parseLine<T>(line));
    }
    return values;
  }

  /** Ends the stream: a last value without a trailing newline still counts. */
  end(): T[] {
    const rest = (this.pending + this.text.end()).trim();
    this.pending = '';
    return rest ? [parseLine<T>(rest)] : [];
  }
}

function parseLine<T>(line: string): T {
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`malformed JSON stream: cannot parse line ${JSON.stringify(line.slice(0, 120))}`);
  }
}

/** Reads a byte stream as an async sequence of JSON values. */
export async function* readJsonLines<T>(stream: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  const decoder = new JsonLinesDecoder<T>();
  for await (const chunk of stream) yield* decoder.push(chunk);
  yield* decoder.end();
}
