import { describe, expect, it } from 'vitest';
import { matchesAny, matchesLabels, parseFilters } from './filters';

describe('filters', () => {
  it('reads both the map form and the older list form', () => {
    expect(parseFilters('{"type":{"container":true}}', ['type']).get('type')).toEqual(['container']);
    expect(parseFilters('{"type":["image","volume"]}', ['type']).get('type')).toEqual(['image', 'volume']);
  });

  it('refuses unknown keys and malformed JSON with a 400', () => {
    expect(() => parseFilters('{"colour":{"x":true}}', ['type'])).toThrow("invalid filter 'colour'");
    expect(() => parseFilters('{nope', ['type'])).toThrow(/invalid filter/);
  });

  it('matches any of the values of a key, and everything when the key is absent', () => {
    const f = parseFilters('{"event":{"start":true,"die":true}}', ['event']);
    expect(matchesAny(f, 'event', (v) => v === 'die')).toBe(true);
    expect(matchesAny(f, 'event', (v) => v === 'stop')).toBe(false);
    expect(matchesAny(f, 'type', () => false)).toBe(true);
  });

  it('matches labels by key or key=value, all of them', () => {
    const f = parseFilters('{"label":{"app":true,"tier=web":true}}', ['label']);
    expect(matchesLabels(f, { app: 'x', tier: 'web' })).toBe(true);
    expect(matchesLabels(f, { app: 'x', tier: 'db' })).toBe(false);
    expect(matchesLabels(f, undefined)).toBe(false);
  });
});
