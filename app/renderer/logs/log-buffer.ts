// The lines of one log view, held outside React so a fast stream appends cheaply; the view
// re-renders once per animation frame from `version`. Lines are kept in the chunks they came in
// (a string and its line starts), not one object per line: at 20 MB/s of short lines that would be
// 200,000 objects a second for the garbage collector. A line's text is cut out only when it is
// drawn. Old chunks are dropped past `limit` lines, so a follow that runs for hours stays within
// memory. Lines are numbered from the first one ever held, so a number stays put across drops.
import type { LogChunk, LogLine } from '../../shared/views.js';

interface Held {
  stream: LogChunk['stream'];
  text: string;
  /** Where each line starts in `text`. */
  starts: number[];
  /** The number of its first line. */
  first: number;
}

export class LogBuffer {
  private chunks: Held[] = [];
  /** The number of the oldest line held (how many were dropped before it). */
  first = 0;
  length = 0;
  version = 0;
  private found?: { query: string; hits: number[]; scannedTo: number };

  constructor(private readonly limit = 200_000) {}

  append(chunks: LogChunk[]): void {
    for (const c of chunks) {
      const starts = [0];
      for (let nl = c.text.indexOf('\n'); nl >= 0; nl = c.text.indexOf('\n', nl + 1)) starts.push(nl + 1);
      this.chunks.push({ stream: c.stream, text: c.text, starts, first: this.first + this.length });
      this.length += starts.length;
    }
    // Past the limit, drop a tenth more at once so a fast stream pays for the copy rarely.
    if (this.length > this.limit) {
      const keep = this.limit - Math.floor(this.limit / 10);
      let drop = 0;
      while (drop < this.chunks.length - 1 && this.length - this.chunks[drop]!.starts.length >= keep) {
        this.length -= this.chunks[drop]!.starts.length;
        drop++;
      }
      this.chunks.splice(0, drop);
      this.first = this.chunks[0]!.first;
    }
    this.version++;
  }

  clear(): void {
    this.first += this.length;
    this.length = 0;
    this.chunks = [];
    this.version++;
  }

  /** The line at `index` among those held (0 is the oldest held). */
  at(index: number): LogLine | undefined {
    if (index < 0 || index >= this.length) return undefined;
    const n = this.first + index;
    const c = this.chunks[this.chunkOf(n)]!;
    const k = n - c.first;
    const end = k + 1 < c.starts.length ? c.starts[k + 1]! - 1 : c.text.length;
    return { stream: c.stream, text: c.text.slice(c.starts[k], end) };
  }

  /** Every line held, as the log reads. */
  text(): string {
    return this.chunks.map((c) => c.text).join('\n');
  }

  /**
   * Numbers of the held lines containing `query` (case-insensitive), ascending; empty query
   * matches nothing. Asked again with the same query, only the chunks that came since are read.
   */
  search(query: string): number[] {
    const q = query.toLowerCase();
    if (!q || q.includes('\n')) return [];
    if (this.found?.query !== q) this.found = { query: q, hits: [], scannedTo: this.first };
    const f = this.found;
    if (f.hits.length && f.hits[0]! < this.first) f.hits = f.hits.slice(lowerBound(f.hits, this.first));
    for (let i = this.chunkOf(Math.max(f.scannedTo, this.first)); i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      if (c.first >= f.scannedTo) findIn(c, q, f.hits);
    }
    f.scannedTo = this.first + this.length;
    return f.hits;
  }

  /** The index in `chunks` of the chunk holding line `n` (the last chunk when past the end). */
  private chunkOf(n: number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.chunks[mid]!.first <= n) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** Appends to `hits` the numbers of the chunk's lines containing `q` (already lower case). */
function findIn(c: Held, q: string, hits: number[]): void {
  const lower = c.text.toLowerCase();
  if (lower.length !== c.text.length) {
    // Lower-casing changed the length (a few Unicode letters do): offsets no longer line up, so go
    // line by line.
    for (let k = 0; k < c.starts.length; k++) {
      const end = k + 1 < c.starts.length ? c.starts[k + 1]! - 1 : c.text.length;
      if (c.text.slice(c.starts[k], end).toLowerCase().includes(q)) hits.push(c.first + k);
    }
    return;
  }
  let k = 0;
  for (let at = lower.indexOf(q); at >= 0; ) {
    while (k + 1 < c.starts.length && c.starts[k + 1]! <= at) k++;
    hits.push(c.first + k);
    // On to the next line: one hit per line.
    if (k + 1 >= c.starts.length) break;
    at = lower.indexOf(q, c.starts[k + 1]);
  }
}

/** The first index in the ascending `xs` whose value is ≥ `x`. */
export function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether the ascending `xs` holds `x`. */
export function holds(xs: readonly number[], x: number): boolean {
  const i = lowerBound(xs, x);
  return i < xs.length && xs[i] === x;
}

/** The next (or previous) match after `from`, wrapping around; -1 when there is none. */
export function stepMatch(matches: number[], from: number, direction: 1 | -1): number {
  if (matches.length === 0) return -1;
  if (direction === 1) return matches.find((m) => m > from) ?? matches[0]!;
  for (let i = matches.length - 1; i >= 0; i--) if (matches[i]! < from) return matches[i]!;
  return matches[matches.length - 1]!;
}
