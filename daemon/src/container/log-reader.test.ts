import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { goTime, nanoToRecordTime, readLog, type LogQuery, type LogRecord } from './log-reader';

let dir: string;
let file: string;
const t = (s: number) => `2026-01-01T00:00:${String(s).padStart(2, '0')}.000000000Z`;
const rec = (s: number, stream: string, flag: string, text: string) => `${t(s)} ${stream} ${flag} ${text}\n`;
const all: LogQuery = { stdout: true, stderr: true, sinceNano: 0, untilNano: 0, tail: -1, timestamps: false, follow: false };
const never = new Promise<void>(() => undefined);

async function collect(q: Partial<LogQuery>, stopped = Promise.resolve()): Promise<string> {
  const out: string[] = [];
  await readLog(file, { ...all, ...q }, (r: LogRecord) => void out.push(`${r.stream[3]}:${r.content.toString()}${r.full ? '|' : ''}`), stopped);
  return out.join(' ');
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'berth-log-'));
  file = path.join(dir, 'container.log');
  writeFileSync(`${file}.1`, rec(1, 'stdout', 'F', 'one') + rec(2, 'stderr', 'F', 'two'));
  writeFileSync(file, rec(3, 'stdout', 'P', 'thr') + rec(3, 'stdout', 'F', 'ee') + rec(4, 'stdout', 'F', 'four') + rec(5, 'stderr', 'F', 'five'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('readLog', () => {
  it('reads rotated files oldest first, by stream', async () => {
    expect(await collect({})).toBe('o:one| e:two| o:thr o:ee| o:four| e:five|');
    expect(await collect({ stderr: false })).toBe('o:one| o:thr o:ee| o:four|');
  });
  it('tails whole lines across files, partial records included', async () => {
    expect(await collect({ tail: 2 })).toBe('o:four| e:five|');
    expect(await collect({ tail: 3 })).toBe('o:thr o:ee| o:four| e:five|');
    expect(await collect({ tail: 4 })).toBe('e:two| o:thr o:ee| o:four| e:five|');
    expect(await collect({ tail: 100 })).toBe('o:one| e:two| o:thr o:ee| o:four| e:five|');
  });
  it('filters by since and until', async () => {
    const base = Date.parse('2026-01-01T00:00:00Z') * 1e6;
    expect(await collect({ sinceNano: base + 3e9, untilNano: base + 4e9 })).toBe('o:thr o:ee| o:four|');
  });
  it('follows appended records until the container stops', async () => {
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const out: string[] = [];
    const done = readLog(file, { ...all, tail: 0, follow: true }, (r) => void out.push(r.content.toString()), stopped);
    await new Promise((r) => setTimeout(r, 150));
    appendFileSync(file, rec(6, 'stdout', 'F', 'six'));
    await new Promise((r) => setTimeout(r, 250));
    expect(out).toEqual(['six']);
    appendFileSync(file, rec(7, 'stdout', 'F', 'seven'));
    stop();
    await done;
    expect(out).toEqual(['six', 'seven']);
    void never;
  });
  it('formats times as Go does', () => {
    expect(goTime('2026-01-01T00:00:01.500000000Z')).toBe('2026-01-01T00:00:01.5Z');
    expect(goTime('2026-01-01T00:00:01.000000000Z')).toBe('2026-01-01T00:00:01Z');
    expect(nanoToRecordTime(Date.parse('2026-01-01T00:00:01Z') * 1e6 + 5e6)).toBe('2026-01-01T00:00:01.005000000Z');
  });
});
