// The log reader against log files in the shim's format: framing, partial lines, filters,
// timestamps, tail across rotated files, and follow across a rotation.
import { spawn } from 'node:child_process';
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logTimestamp, readLogs, type LogReadOptions } from './log-reader';

let dir: string;
let log: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'blog-'));
  log = path.join(dir, 'log');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ts = (sec: number, ns = 0): string => `${new Date(sec * 1000).toISOString().slice(0, 19)}.${String(ns).padStart(9, '0')}Z`;
const rec = (sec: number, stream: 'stdout' | 'stderr', kind: 'F' | 'P', text: string, ns = 0): string => `${ts(sec, ns)} ${stream} ${kind} ${text}\n`;

async function read(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Decodes Docker's multiplexed stream into [stream, payload] frames. */
function demux(buf: Buffer): [number, string][] {
  const out: [number, string][] = [];
  for (let i = 0; i < buf.length; ) {
    const len = buf.readUInt32BE(i + 4);
    expect(buf.subarray(i + 1, i + 4)).toEqual(Buffer.alloc(3));
    out.push([buf[i], buf.subarray(i + 8, i + 8 + len).toString()]);
    i += 8 + len;
  }
  return out;
}

const base: LogReadOptions = { stdout: true, stderr: true, format: 'multiplexed' };
const T = 1_790_000_000;

describe('readLogs', () => {
  it('frames records by stream, joins partial lines, and keeps newlines of full ones', async () => {
    writeFileSync(log, rec(T, 'stdout', 'F', 'one') + rec(T, 'stdout', 'P', 'tw') + rec(T, 'stdout', 'F', 'o') + rec(T, 'stderr', 'F', 'bad') + rec(T, 'stdout', 'F', ''));
    expect(demux(await read(readLogs(log, base)))).toEqual([[1, 'one\ntwo\n'], [2, 'bad\n'], [1, '\n']]);
    expect((await read(readLogs(log, { ...base, format: 'raw', stderr: false }))).toString()).toBe('one\ntwo\n\n');
    expect(demux(await read(readLogs(log, { ...base, stdout: false })))).toEqual([[2, 'bad\n']]);
  });

  it('prints times as dockerd does (trailing zeros dropped), once per line', async () => {
    writeFileSync(log, rec(T, 'stdout', 'P', 'a', 120_000_000) + rec(T, 'stdout', 'F', 'b', 130_000_000) + rec(T + 1, 'stdout', 'F', 'c'));
    const text = (await read(readLogs(log, { ...base, format: 'raw', timestamps: true }))).toString();
    expect(text).toBe(`${ts(T).slice(0, 19)}.12Z ab\n${ts(T + 1).slice(0, 19)}Z c\n`);
  });

  it('keeps records between since and until, inclusive', async () => {
    writeFileSync(log, [1, 2, 3, 4, 5].map((s) => rec(T + s, 'stdout', 'F', `s${s}`)).join(''));
    const out = await read(readLogs(log, { ...base, format: 'raw', since: `${T + 2}`, until: T + 4 }));
    expect(out.toString()).toBe('s2\ns3\ns4\n');
    expect(logTimestamp(`${T}.5`).toString()).toBe(ts(T, 500_000_000));
  });

  it('tails the last lines of the selected streams across rotated files', async () => {
    writeFileSync(`${log}.2`, rec(T, 'stdout', 'F', 'l1') + rec(T, 'stdout', 'F', 'l2'));
    writeFileSync(`${log}.1`, rec(T, 'stdout', 'F', 'l3') + rec(T, 'stderr', 'F', 'e1') + rec(T, 'stdout', 'P', 'l4-'));
    writeFileSync(log, rec(T, 'stdout', 'F', 'end') + rec(T, 'stdout', 'F', 'l5'));
    const raw = { ...base, format: 'raw' as const };
    expect((await read(readLogs(log, { ...raw, tail: 2 }))).toString()).toBe('l4-end\nl5\n');
    expect((await read(readLogs(log, { ...raw, tail: 4, stderr: false }))).toString()).toBe('l2\nl3\nl4-end\nl5\n');
    expect((await read(readLogs(log, { ...raw, tail: 100 }))).toString()).toBe('l1\nl2\nl3\ne1\nl4-end\nl5\n');
    expect((await read(readLogs(log, { ...raw, tail: 0 }))).length).toBe(0);
  });

  it('tails a large file by reading backwards', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 60_000; i++) lines.push(rec(T, 'stdout', 'F', `line ${i} ${'x'.repeat(i % 97)}`));
    writeFileSync(log, lines.join(''));
    const out = (await read(readLogs(log, { ...base, format: 'raw', tail: 3 }))).toString().split('\n');
    expect(out.slice(0, 3).map((l) => l.split(' ')[1])).toEqual(['59997', '59998', '59999']);
  });

  it('follows the log through a rotation until the container stops', async () => {
    writeFileSync(log, rec(T, 'stdout', 'F', 'before'));
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const stream = readLogs(log, { ...base, format: 'raw', follow: true, stop: stopped, tail: 1 });
    const seen: string[] = [];
    const done = (async () => {
      for await (const c of stream) seen.push((c as Buffer).toString());
    })();
    const until = async (text: string): Promise<void> => {
      while (!seen.join('').includes(text)) await new Promise((r) => setTimeout(r, 10));
    };
    await until('before\n');
    appendFileSync(log, rec(T, 'stdout', 'F', 'appended'));
    await until('appended\n');
    // Rotation as the shim does it: the full file is renamed, a new one started.
    appendFileSync(log, rec(T, 'stdout', 'F', 'last of old'));
    renameSync(log, `${log}.1`);
    writeFileSync(log, rec(T, 'stdout', 'F', 'first of new'));
    await until('first of new\n');
    appendFileSync(log, rec(T, 'stdout', 'F', 'final'));
    stop();
    await done;
    expect(seen.join('')).toBe('before\nappended\nlast of old\nfirst of new\nfinal\n');
  });

  it('with tail 0, follows only what is written after the start (docker logs -f --tail 0)', async () => {
    writeFileSync(log, rec(T, 'stdout', 'F', 'history'));
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const stream = readLogs(log, { ...base, format: 'raw', follow: true, stop: stopped, tail: 0 });
    const seen: string[] = [];
    const done = (async () => {
      for await (const c of stream) seen.push((c as Buffer).toString());
    })();
    // The reader has opened the log once it waits for changes; a record appended after that is
    // new. Appending until one shows up avoids guessing when that is.
    for (let i = 0; !seen.join('').includes('new'); i++) {
      appendFileSync(log, rec(T + 1, 'stdout', 'F', `new${i}`));
      await new Promise((r) => setTimeout(r, 50));
    }
    stop();
    await done;
    expect(seen.join('')).not.toContain('history');
    expect(seen.join('')).toMatch(/^(new\d+\n)+$/);
  });

  it('follows a log that another process rotates as fast as it can, losing and repeating nothing', async () => {
    // The writer rotates as the shim does: close, rename log.(n-2) → log.(n-1) … log → log.1, new log.
    const writer = `
      const fs = require('node:fs');
      const [log, count, maxSize, maxFile] = process.argv.slice(1).map((v, i) => (i ? Number(v) : v));
      let fd = fs.openSync(log, 'a'), size = 0;
      for (let i = 1; i <= count; i++) {
        const rec = '2026-01-01T00:00:00.000000000Z stdout F ' + i + '\\n';
        if (size + rec.length > maxSize && size > 0) {
          fs.closeSync(fd);
          for (let k = maxFile - 1; k >= 1; k--) try { fs.renameSync(k === 1 ? log : log + '.' + (k - 1), log + '.' + k); } catch {}
          fd = fs.openSync(log, 'w');
          size = 0;
        }
        fs.writeSync(fd, rec);
        size += rec.length;
      }`;
    for (let round = 0; round < 2; round++) {
      writeFileSync(log, '');
      const child = spawn(process.execPath, ['-e', writer, log, '8000', '2000', '250']);
      const exited = new Promise((r) => child.once('exit', r));
      const text = (await read(readLogs(log, { ...base, format: 'raw', follow: true, stop: exited }))).toString();
      expect(text.trim().split('\n').map(Number)).toEqual(Array.from({ length: 8000 }, (_, i) => i + 1));
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir);
    }
  });
});
