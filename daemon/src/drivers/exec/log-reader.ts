// Reads the shim's container log (native/shim/PROTOCOL.md, "Log format") for `docker logs` and
// attach's logs=1 replay: since/until/tail/timestamps/follow, in Docker's multiplexed framing or
// raw (tty). It streams with back-pressure, never loads a whole file, reads the tail backwards
// from the end, and follows the log across rotations.
import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';

export interface LogReadOptions {
  stdout: boolean;
  stderr: boolean;
  /** Records at or after this instant: Unix seconds, as a number or "SECONDS[.NANOS]". */
  since?: number | string;
  /** Records at or before this instant; reading (and following) stops at the first later one. */
  until?: number | string;
  /** The last N lines of the selected streams (a line: its partial records and its end). */
  tail?: number;
  /** Prefix each line with its time, as `docker logs -t` does. */
  timestamps?: boolean;
  /** 'multiplexed': Docker's 8-byte stream frames (non-tty containers); 'raw': bytes as they are. */
  format: 'multiplexed' | 'raw';
  follow?: boolean;
  /** Following ends once this settles (the container exited) and the log is read to its end. */
  stop?: Promise<unknown>;
}

const HEADER = 40; // "<30-byte time> stdout F "
const NL = 0x0a;
const CHUNK = 256 * 1024;

/** "SECONDS[.NANOS]" or seconds → the log's fixed-width timestamp, comparable byte by byte. */
export function logTimestamp(t: number | string): Buffer {
  const text = typeof t === 'number' ? t.toFixed(9) : t;
  const m = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (!m) throw new Error(`invalid timestamp ${text}`);
  const iso = new Date(Number(m[1]) * 1000).toISOString(); // 2026-11-24T05:00:00.000Z
  return Buffer.from(`${iso.slice(0, 19)}.${(m[2] ?? '').padEnd(9, '0')}Z`, 'latin1');
}

/** Turns line-aligned chunks of records into output bytes. */
class Formatter {
  done = false;
  private readonly wanted: number;
  private readonly since?: Buffer;
  private readonly until?: Buffer;
  private readonly lineStart = [true, true, true];

  constructor(private readonly o: LogReadOptions) {
    this.wanted = (o.stdout ? 1 : 0) | (o.stderr ? 2 : 0);
    if (o.since !== undefined && o.since !== 0 && o.since !== '0') this.since = logTimestamp(o.since);
    if (o.until !== undefined && o.until !== 0 && o.until !== '0') this.until = logTimestamp(o.until);
  }

  /** Output never outgrows its input: a record's 40-byte header is at least a frame header
   * (8) plus a trimmed timestamp and space (≤ 31). */
  format(chunk: Buffer): Buffer | null {
    const out = Buffer.allocUnsafe(chunk.length);
    const mux = this.o.format === 'multiplexed';
    let o = 0;
    let frameAt = -1;
    let frameStream = 0;
    for (let i = 0; i < chunk.length; ) {
      let nl = chunk.indexOf(NL, i);
      if (nl < 0) nl = chunk.length;
      if (nl - i < HEADER) {
        i = nl + 1; // not a record
        continue;
      }
      if (this.until && chunk.compare(this.until, 0, 30, i, i + 30) > 0) {
        this.done = true;
        break;
      }
      const stream = chunk[i + 34] === 0x6f ? 1 : 2; // stdOut / stdErr
      const partial = chunk[i + 38] === 0x50; // P
      if (!(this.wanted & stream) || (this.since && chunk.compare(this.since, 0, 30, i, i + 30) < 0)) {
        i = nl + 1;
        continue;
      }
      if (mux && frameStream !== stream) {
        if (frameAt >= 0) out.writeUInt32BE(o - frameAt - 8, frameAt + 4);
        frameAt = o;
        frameStream = stream;
        out.writeUInt32BE(stream << 24, o);
        o += 8;
      }
      if (this.o.timestamps && this.lineStart[stream]) o = writeTrimmedTime(chunk, i, out, o);
      this.lineStart[stream] = !partial;
      // An F record's content goes out with its newline; a P record's without.
      const end = partial ? nl : Math.min(nl + 1, chunk.length);
      o += chunk.copy(out, o, i + HEADER, end);
      i = nl + 1;
    }
    if (frameAt >= 0) out.writeUInt32BE(o - frameAt - 8, frameAt + 4);
    return o > 0 ? out.subarray(0, o) : null;
  }
}

/** Go's RFC3339Nano, as dockerd prints it: trailing zeros of the fraction dropped. */
function writeTrimmedTime(src: Buffer, at: number, out: Buffer, o: number): number {
  let last = at + 28;
  while (last >= at + 20 && src[last] === 0x30) last--;
  const end = last >= at + 20 ? last + 1 : at + 19; // drop the '.' too when nothing is left
  o += src.copy(out, o, at, end);
  out[o++] = 0x5a; // Z
  out[o++] = 0x20;
  return o;
}

/** Reads [from, to) (to: the end as it grows) in whole records; returns where it stopped. */
async function* readRange(fh: FileHandle, from: number, to: number | undefined, fmt: Formatter, buf: Buffer): AsyncGenerator<Buffer, number> {
  let base = from;
  let have = 0;
  for (;;) {
    const space = buf.length - have;
    const limit = to === undefined ? space : Math.min(space, to - base - have);
    if (limit <= 0) break;
    const { bytesRead } = await fh.read(buf, have, limit, base + have);
    if (bytesRead === 0) break;
    have += bytesRead;
    const lastNl = buf.lastIndexOf(NL, have - 1);
    if (lastNl < 0) continue; // a record still being written
    const out = fmt.format(buf.subarray(0, lastNl + 1));
    if (out) yield out;
    base += lastNl + 1;
    if (fmt.done) return base;
    buf.copy(buf, 0, lastNl + 1, have);
    have -= lastNl + 1;
  }
  return base;
}

/** Where the last `n` lines of the wanted streams start in [0, end), reading backwards; and how
 * many lines are still wanted from older files when the file is too short. */
async function tailStart(fh: FileHandle, end: number, n: number, wanted: number): Promise<{ start: number; left: number }> {
  let count = 0;
  let pos = end;
  let carry = Buffer.alloc(0);
  while (pos > 0) {
    const from = Math.max(0, pos - CHUNK);
    const block = Buffer.allocUnsafe(pos - from);
    await fh.read(block, 0, block.length, from);
    const buf = carry.length ? Buffer.concat([block, carry]) : block;
    // `i` is the end (after its newline) of the record being looked at.
    let i = buf.length;
    for (;;) {
      const j = i >= 2 ? buf.lastIndexOf(NL, i - 2) : -1;
      if (j < 0 && from > 0) break;
      const start = j + 1;
      if (i - start > HEADER && buf[start + 38] === 0x46 && wanted & (buf[start + 34] === 0x6f ? 1 : 2)) {
        // An F record: the end of a line. The (n+1)th from the end bounds the tail.
        if (++count > n) return { start: from + i, left: 0 };
      }
      i = start;
      if (start === 0) break;
    }
    carry = buf.subarray(0, i);
    pos = from;
  }
  return { start: 0, left: n - count };
}

async function openIfExists(file: string): Promise<FileHandle | undefined> {
  try {
    return await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Waits for a change in the log's directory, the stop signal, or a short timer (a safety net
 * for filesystems where watching is unreliable). */
class ChangeWaiter {
  private kick?: () => void;
  private readonly watcher?: FSWatcher;
  stopped = false;

  constructor(dir: string, stop?: Promise<unknown>) {
    try {
      this.watcher = watch(dir, () => this.kick?.());
      this.watcher.on('error', () => undefined);
    } catch {
      // fall back to the timer
    }
    void stop?.then(() => this.end(), () => this.end());
  }

  private end(): void {
    this.stopped = true;
    this.kick?.();
  }

  wait(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, 250);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.kick = () => {
        this.kick = undefined;
        done();
      };
    });
  }

  close(): void {
    this.watcher?.close();
  }
}

async function* generate(logPath: string, o: LogReadOptions): AsyncGenerator<Buffer> {
  const fmt = new Formatter(o);
  const buf = Buffer.allocUnsafe(CHUNK);
  const wanted = (o.stdout ? 1 : 0) | (o.stderr ? 2 : 0);
  // Open every file first: rotation may rename them while we read, the handles stay valid.
  const files = new Set<FileHandle>();
  const release = async (fh: FileHandle): Promise<void> => {
    files.delete(fh);
    await fh.close().catch(() => undefined);
  };
  try {
    const chain = await openChain(logPath);
    for (const l of chain) files.add(l.fh);
    let current = chain.find((l) => l.path === logPath)?.fh;
    const segments = await Promise.all(chain.map(async ({ fh, ino }) => ({ fh, ino, start: 0, end: (await fh.stat()).size })));
    // The inode of the last rotated file read to its end: catching up after a rotation starts
    // after it. Undefined with no current file means no file existed at the start.
    let lastIno: number | undefined;
    if (o.tail !== undefined) {
      let left = Math.max(0, o.tail);
      // An older file is read from where its lines still count: the wanted lines left, or the
      // partial records that begin the first line of the newer file.
      let needOlder = left > 0;
      for (let k = segments.length - 1; k >= 0; k--) {
        const seg = segments[k];
        if (!needOlder) {
          seg.start = seg.end;
          continue;
        }
        const t = await tailStart(seg.fh, seg.end, left, wanted);
        seg.start = t.start;
        left = t.left;
        needOlder = t.start === 0;
      }
    }
    let pos = 0;
    for (const seg of segments) {
      // The current file is read to its end as it is now, the older ones as they were.
      const isCurrent = seg.fh === current;
      pos = yield* readRange(seg.fh, seg.start, isCurrent && !o.follow ? seg.end : isCurrent ? undefined : seg.end, fmt, buf);
      if (fmt.done) return;
      if (!isCurrent) {
        await release(seg.fh);
        lastIno = seg.ino;
      }
    }
    if (!o.follow) return;

    const waiter = new ChangeWaiter(path.dirname(logPath), o.stop);
    try {
      for (;;) {
        const last = waiter.stopped;
        if (current) {
          pos = yield* readRange(current, pos, undefined, fmt, buf);
          if (fmt.done) return;
          const { size, ino } = await current.stat();
          if (size < pos) pos = 0; // truncated in place (max-file 1)
          const now = await stat(logPath).catch(() => undefined);
          // A missing name is a rotation half done (or a removal): look again later.
          if (now && now.ino !== ino) {
            // Rotated: the shim is done with our file; finish it, then catch up below.
            pos = yield* readRange(current, pos, undefined, fmt, buf);
            if (fmt.done) return;
            await release(current);
            current = undefined;
            lastIno = ino;
          }
        }
        if (!current) {
          // Every file newer than the last one read, oldest first; `log` stays open.
          for (const link of await openChain(logPath, lastIno)) {
            files.add(link.fh);
            if (link.path === logPath) {
              current = link.fh;
              pos = yield* readRange(current, 0, undefined, fmt, buf);
            } else {
              yield* readRange(link.fh, 0, undefined, fmt, buf);
              await release(link.fh);
              lastIno = link.ino;
            }
            if (fmt.done) return;
          }
          if (current) continue; // it may have rotated again while we caught up
        }
        if (last) return; // the container exited and everything it wrote has been read
        await waiter.wait();
      }
    } finally {
      waiter.close();
    }
  } finally {
    await Promise.all([...files].map((fh) => fh.close().catch(() => undefined)));
  }
}

/** Opens the log's files oldest first, the current one last; with `after`, only those newer
 * than the rotated file with that inode. The shim may rotate while we look, which shifts every
 * name (and leaves a gap for a moment): the set must contain `after`, hold no inode twice and
 * still match the names once opened, or it is opened again. */
async function openChain(logPath: string, after?: number): Promise<{ path: string; fh: FileHandle; ino: number }[]> {
  for (let attempt = 0; ; attempt++) {
    const chain: { path: string; fh: FileHandle; ino: number }[] = [];
    let found = after === undefined;
    let gap = false;
    let anchor: string | undefined; // where `after` was found: it must still be there
    for (let k = 1; ; k++) {
      const name = `${logPath}.${k}`;
      const fh = await openIfExists(name);
      if (!fh) {
        // A hole followed by more files is a rotation in the middle of its renames.
        gap = (await stat(`${logPath}.${k + 1}`).catch(() => undefined)) !== undefined;
        break;
      }
      const ino = (await fh.stat()).ino;
      if (ino === after) {
        await fh.close();
        found = true;
        anchor = name;
        break;
      }
      chain.unshift({ path: name, fh, ino });
    }
    const fh = await openIfExists(logPath);
    if (fh) chain.push({ path: logPath, fh, ino: (await fh.stat()).ino });
    let steady = found && !gap && new Set(chain.map((l) => l.ino)).size === chain.length;
    if (steady && anchor) steady = (await stat(anchor).catch(() => undefined))?.ino === after;
    for (const link of chain) {
      if (!steady) break;
      const st = await stat(link.path).catch(() => undefined);
      if (st?.ino !== link.ino) steady = false;
    }
    // After many tries `after` is taken as deleted (more rotations than max-file kept).
    if (steady || attempt >= 100) return chain;
    await Promise.all(chain.map((l) => l.fh.close()));
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** A stream of `docker logs` output for the log at logPath. Destroy it to stop early. */
export function readLogs(logPath: string, options: LogReadOptions): Readable {
  return Readable.from(generate(logPath, options), { objectMode: false, highWaterMark: CHUNK });
}
