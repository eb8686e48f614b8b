// Reads a container's log as the shim writes it (see native/shim/PROTOCOL.md: one record per
// line, "<RFC3339 nano> <stdout|stderr> <F|P> <content>"), for `docker logs` and attach replay:
// rotated files oldest first, since/until, tail, timestamps, and follow across rotations until
// the container stops. Records are streamed: nothing holds the whole log in memory.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { existsSync } from 'node:fs';

/** Bytes before the content: 30 (timestamp) + 1 + 6 (stream) + 1 + 1 (F/P) + 1. */
const HEAD = 40;
const CHUNK = 256 * 1024;

export interface LogRecord {
  /** RFC 3339, 9 fraction digits, UTC: sorts as a string. */
  time: string;
  stream: 'stdout' | 'stderr';
  /** True when the record ends a line. */
  full: boolean;
  content: Buffer;
}

export interface LogQuery {
  stdout: boolean;
  stderr: boolean;
  /** Nanoseconds since the epoch; 0: from the start. */
  sinceNano: number;
  /** Nanoseconds; 0: no end. */
  untilNano: number;
  /** Lines from the end; -1: all. */
  tail: number;
  timestamps: boolean;
  follow: boolean;
}

/** The fixed-width form of a time in nanoseconds, comparable with record times. */
export function nanoToRecordTime(nano: number): string {
  // A double holds today's nanoseconds only to ~256 ns: round to microseconds.
  const seconds = Math.floor(nano / 1e9);
  const micros = Math.min(999_999, Math.round((nano - seconds * 1e9) / 1000));
  return new Date(seconds * 1000).toISOString().slice(0, 19) + '.' + String(micros * 1000).padStart(9, '0') + 'Z';
}

/** Go's RFC3339Nano, which docker prints: the fraction without trailing zeros. */
export function goTime(recordTime: string): string {
  return recordTime.replace(/\.?0+Z$/, 'Z');
}

export function logFiles(file: string, maxFile = 10): string[] {
  const files: string[] = [];
  for (let i = maxFile; i >= 1; i--) if (existsSync(`${file}.${i}`)) files.push(`${file}.${i}`);
  if (existsSync(file)) files.push(file);
  return files;
}

function parse(line: Buffer): LogRecord | undefined {
  if (line.length < HEAD - 1) return undefined;
  return {
    time: line.toString('latin1', 0, 30),
    stream: line[34] === 0x6f /* the o of stdout */ ? 'stdout' : 'stderr',
    full: line[38] === 0x46 /* F */,
    content: line.subarray(HEAD),
  };
}

/** Where to start reading so that the last `lines` complete lines are included. */
async function tailStart(files: string[], lines: number): Promise<{ index: number; offset: number }> {
  let remaining = lines;
  for (let i = files.length - 1; i >= 0; i--) {
    const fh = await open(files[i]!, 'r');
    try {
      const size = (await fh.stat()).size;
      let pos = size;
      let carry = Buffer.alloc(0);
      // Walk backwards over record boundaries; every F record ends one line.
      while (pos > 0) {
        const len = Math.min(CHUNK, pos);
        pos -= len;
        const buf = Buffer.alloc(len);
        await fh.read(buf, 0, len, pos);
        const data = Buffer.concat([buf, carry]);
        let end = data.length;
        // Each newline found ends the record before `end`; the first look finds the last record's own.
        let nl = data.lastIndexOf(0x0a, end - 1);
        while (nl >= 0) {
          const recEnd = end;
          const recStart = nl + 1;
          if (recEnd > recStart && data[recStart + 38] === 0x46) {
            // This line end is one too many: start right after it.
            if (remaining === 0) return { index: i, offset: pos + recEnd + 1 };
            remaining--;
          }
          end = nl;
          nl = nl > 0 ? data.lastIndexOf(0x0a, nl - 1) : -1;
        }
        carry = data.subarray(0, end);
      }
      if (carry.length > 0 && carry[38] === 0x46) {
        if (remaining === 0) return { index: i, offset: carry.length + 1 };
        remaining--;
      }
    } finally {
      await fh.close();
    }
  }
  return { index: 0, offset: 0 };
}

export type RecordSink = (record: LogRecord) => Promise<void> | void;

/** Reads complete records of one open file from `offset`; returns the offset after the last one. */
async function readRecords(fh: FileHandle, offset: number, sink: (r: LogRecord) => Promise<boolean>): Promise<{ offset: number; stopped: boolean }> {
  let pos = offset;
  let carry = Buffer.alloc(0);
  const buf = Buffer.alloc(CHUNK);
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, CHUNK, pos + carry.length);
    if (bytesRead === 0) return { offset: pos, stopped: false };
    const data = carry.length ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
    let start = 0;
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
      const rec = parse(data.subarray(start, nl));
      const recordEnd = pos + nl + 1;
      start = nl + 1;
      if (rec && !(await sink(rec))) return { offset: recordEnd, stopped: true };
    }
    pos += start;
    carry = Buffer.from(data.subarray(start));
  }
}

/**
 * Streams the log's records matching `q` into `sink`. With `follow`, keeps reading new records
 * until `stopped` resolves (the container is not running) and what was written before is read,
 * or until `signal` aborts.
 */
export async function readLog(file: string, q: LogQuery, sink: RecordSink, stopped: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (q.tail === 0 && !q.follow) return;
  const since = q.sinceNano > 0 ? nanoToRecordTime(q.sinceNano) : '';
  const until = q.untilNano > 0 ? nanoToRecordTime(q.untilNano) : '';
  let pastUntil = false;
  const accept = async (r: LogRecord): Promise<boolean> => {
    if (signal?.aborted) return false;
    if (until && r.time > until) {
      pastUntil = true;
      return false;
    }
    if (since && r.time < since) return true;
    if ((r.stream === 'stdout' && !q.stdout) || (r.stream === 'stderr' && !q.stderr)) return true;
    await sink(r);
    return true;
  };

  const files = logFiles(file);
  let startIndex = 0;
  let startOffset = 0;
  if (q.tail > 0) ({ index: startIndex, offset: startOffset } = await tailStart(files, q.tail));
  if (q.tail === 0) {
    // Follow without history: start at the end of the current file.
    startIndex = files.length - 1;
    startOffset = files.length ? (await stat(files[files.length - 1]!)).size : 0;
  }
  // History from rotated files (all but the current one).
  for (let i = startIndex; i < files.length - 1; i++) {
    const fh = await open(files[i]!, 'r');
    try {
      const r = await readRecords(fh, i === startIndex ? startOffset : 0, accept);
      if (r.stopped) return;
    } finally {
      await fh.close();
    }
  }
  let offset = startIndex === files.length - 1 ? startOffset : 0;
  let isStopped = false;
  void stopped.then(() => (isStopped = true));
  for (;;) {
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch {
      if (!q.follow || isStopped || signal?.aborted) return;
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    try {
      const ino = (await fh.stat()).ino;
      for (;;) {
        const r = await readRecords(fh, offset, accept);
        offset = r.offset;
        if (r.stopped || pastUntil || signal?.aborted) return;
        if (!q.follow) return;
        // Rotated: drain the old file (done above), then move to the new one from its start.
        const now = await stat(file).catch(() => undefined);
        if (now && (now.ino !== ino || now.size < offset)) {
          const rest = await readRecords(fh, offset, accept);
          if (rest.stopped) return;
          offset = 0;
          break;
        }
        if (isStopped) {
          // One last look after the stop: the shim finished writing before it recorded the exit.
          const last = await readRecords(fh, offset, accept);
          offset = last.offset;
          return;
        }
        await Promise.race([new Promise((r) => setTimeout(r, 100)), stopped]);
      }
    } finally {
      await fh.close();
    }
  }
}
