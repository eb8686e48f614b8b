// The lines of one log view, held outside React so a fast stream appends cheaply; the view
// re-renders once per animation frame from `version`. Old lines are dropped past `limit`, so a
// follow that runs for hours stays within memory. Search walks the held lines.
import type { LogLine } from '../../shared/views.js';

export class LogBuffer {
  private lines: LogLine[] = [];
  /** How many lines were dropped from the front; line numbers stay stable across drops. */
  private dropped = 0;
  version = 0;

  constructor(private readonly limit = 200_000) {}

  append(lines: LogLine[]): void {
    for (const l of lines) this.lines.push(l);
    // Past the limit, drop a tenth at once so a fast stream pays for the copy rarely, not per batch.
    if (this.lines.length > this.limit) {
      const drop = this.lines.length - this.limit + Math.floor(this.limit / 10);
      this.lines.splice(0, drop);
      this.dropped += drop;
    }
    this.version++;
  }

  clear(): void {
    this.dropped += this.lines.length;
    this.lines = [];
    this.version++;
  }

  get length(): number {
    return this.lines.length;
  }

  at(index: number): LogLine | undefined {
    return this.lines[index];
  }

  /** Indices of the lines containing `query` (case-insensitive); empty query matches nothing. */
  search(query: string): number[] {
    const q = query.toLowerCase();
    if (!q) return [];
    const hits: number[] = [];
    for (let i = 0; i < this.lines.length; i++) if (this.lines[i]!.text.toLowerCase().includes(q)) hits.push(i);
    return hits;
  }
}

/** The next (or previous) match after `from`, wrapping around; -1 when there is none. */
export function stepMatch(matches: number[], from: number, direction: 1 | -1): number {
  if (matches.length === 0) return -1;
  if (direction === 1) return matches.find((m) => m > from) ?? matches[0]!;
  for (let i = matches.length - 1; i >= 0; i--) if (matches[i]! < from) return matches[i]!;
  return matches[matches.length - 1]!;
}
