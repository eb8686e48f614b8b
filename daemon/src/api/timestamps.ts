// Timestamps in query parameters (`since`, `until`): dockerd takes Unix seconds with an optional
// fraction ("1700000000.5"); the docker CLI turns durations and dates into that form first.
import { invalidParameter } from '../errors';

/** Parses a Unix timestamp with optional fractional part into nanoseconds. */
export function parseTimestampNanos(name: string, raw: string): number {
  const m = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(raw.trim());
  if (m) {
    const frac = (m[2] ?? '').padEnd(9, '0');
    return Number(m[1]) * 1e9 + Number(frac);
  }
  const date = Date.parse(raw);
  if (!Number.isNaN(date)) return date * 1e6;
  throw invalidParameter(`invalid value for ${name}: ${JSON.stringify(raw)}: expected a Unix timestamp in seconds`);
}
