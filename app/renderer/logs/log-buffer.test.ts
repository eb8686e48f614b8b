import { describe, expect, it } from 'vitest';
import { holds, LogBuffer, lowerBound, stepMatch } from './log-buffer.js';

const out = (...lines: string[]) => ({ stream: 'stdout' as const, text: lines.join('\n') });
const err = (...lines: string[]) => ({ stream: 'stderr' as const, text: lines.join('\n') });
const all = (b: LogBuffer) => Array.from({ length: b.length }, (_, i) => b.at(i)!);

describe('LogBuffer', () => {
  it('holds chunks of whole lines and gives each line with its stream', () => {
    const b = new LogBuffer();
    b.append([out('starting server', '', 'GET /health 200'), err('oops')]);
    b.append([out('Server ready')]);
    expect(all(b)).toEqual([
      { stream: 'stdout', text: 'starting server' },
      { stream: 'stdout', text: '' },
      { stream: 'stdout', text: 'GET /health 200' },
      { stream: 'stderr', text: 'oops' },
      { stream: 'stdout', text: 'Server ready' },
    ]);
    expect(b.at(5)).toBeUndefined();
    expect(b.text()).toBe('starting server\n\nGET /health 200\noops\nServer ready');
    expect(b.version).toBe(2);
  });

  it('finds lines case-insensitively, once per line, across chunks', () => {
    const b = new LogBuffer();
    b.append([out('starting server', 'GET /health 200', 'Server ready server')]);
    b.append([out('get /api 500')]);
    expect(b.search('server')).toEqual([0, 2]);
    expect(b.search('GET /')).toEqual([1, 3]);
    expect(b.search('')).toEqual([]);
    expect(b.search('nothing')).toEqual([]);
  });

  it('extends a search with the lines that came since, and with lines whose case changes their length', () => {
    const b = new LogBuffer();
    b.append([out('a needle', 'hay')]);
    expect(b.search('NEEDLE')).toEqual([0]);
    b.append([out('hay', 'needle again'), err('İstanbul needle')]);
    expect(b.search('needle')).toEqual([0, 3, 4]);
    expect(b.search('i̇stanbul')).toEqual([4]);
  });

  it('drops the oldest chunks past its limit, a tenth more at once, numbering lines from the first ever held', () => {
    const b = new LogBuffer(10);
    for (const c of 'abcdefghijk') b.append([out(c)]);
    expect(b.length).toBe(9);
    expect(b.first).toBe(2);
    expect(b.at(0)?.text).toBe('c');
    expect(b.search('k')).toEqual([10]);
    expect(b.search('c')).toEqual([2]);
    b.append([out('l', 'c')]);
    // The first c's line went (the limit); the search that found it forgets it and finds the new one.
    expect(b.first).toBe(4);
    expect(b.length).toBe(9);
    expect(b.search('c')).toEqual([12]);
    b.clear();
    expect(b.length).toBe(0);
    expect(b.first).toBe(13);
    expect(b.search('c')).toEqual([]);
  });
});

describe('stepMatch', () => {
  it('moves to the next and previous match and wraps around', () => {
    const m = [2, 5, 9];
    expect(stepMatch(m, -1, 1)).toBe(2);
    expect(stepMatch(m, 5, 1)).toBe(9);
    expect(stepMatch(m, 9, 1)).toBe(2);
    expect(stepMatch(m, 5, -1)).toBe(2);
    expect(stepMatch(m, 2, -1)).toBe(9);
    expect(stepMatch([], 0, 1)).toBe(-1);
  });

  it('finds a number in the sorted matches', () => {
    expect(lowerBound([2, 5, 9], 5)).toBe(1);
    expect(lowerBound([2, 5, 9], 6)).toBe(2);
    expect(holds([2, 5, 9], 9)).toBe(true);
    expect(holds([2, 5, 9], 3)).toBe(false);
  });
});
