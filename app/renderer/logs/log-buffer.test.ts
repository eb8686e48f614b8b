import { describe, expect, it } from 'vitest';
import { LogBuffer, stepMatch } from './log-buffer.js';

const line = (text: string) => ({ stream: 'stdout' as const, text });

describe('LogBuffer', () => {
  it('finds lines case-insensitively and counts versions per append', () => {
    const b = new LogBuffer();
    b.append([line('starting server'), line('GET /health 200'), line('Server ready')]);
    b.append([line('get /api 500')]);
    expect(b.search('server')).toEqual([0, 2]);
    expect(b.search('GET /')).toEqual([1, 3]);
    expect(b.search('')).toEqual([]);
    expect(b.version).toBe(2);
  });

  it('drops the oldest lines past its limit, a tenth more at once', () => {
    const b = new LogBuffer(10);
    b.append('abcdefghijkl'.split('').map(line));
    expect(b.length).toBe(9);
    expect(b.at(0)?.text).toBe('d');
    expect(b.search('l')).toEqual([8]);
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
});
