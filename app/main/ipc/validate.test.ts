import { describe, expect, it } from 'vitest';
import { validateArgs } from './validate.js';

const status = (fn: () => unknown): number | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { status?: number }).status;
  }
};

describe('validateArgs', () => {
  it('passes well-formed arguments through unchanged', () => {
    expect(validateArgs('containers:stop', ['abc123'])).toEqual(['abc123']);
    expect(validateArgs('logs:open', [{ id: 'c', follow: true, timestamps: false, tail: 'all' }])).toHaveLength(1);
    expect(validateArgs('terminals:open', [{ containerId: 'c', cols: 80, rows: 24, cmd: ['sh'] }])).toHaveLength(1);
    expect(validateArgs('settings:set', [{ theme: 'dark' }])).toEqual([{ theme: 'dark' }]);
  });

  it('refuses wrong types, counts, ranges and unknown fields with a 400', () => {
    expect(status(() => validateArgs('containers:stop', [42]))).toBe(400);
    expect(status(() => validateArgs('containers:stop', []))).toBe(400);
    expect(status(() => validateArgs('containers:stop', ['a', 'b']))).toBe(400);
    expect(status(() => validateArgs('containers:stop', 'abc' as unknown))).toBe(400);
    expect(status(() => validateArgs('containers:remove', ['a', { force: 'yes' }]))).toBe(400);
    expect(status(() => validateArgs('terminals:resize', ['s', 0, 24]))).toBe(400);
    expect(status(() => validateArgs('terminals:resize', ['s', 80.5, 24]))).toBe(400);
    expect(status(() => validateArgs('logs:open', [{ id: 'c', follow: true, timestamps: false, tail: -1 }]))).toBe(400);
    expect(status(() => validateArgs('settings:set', [{ theme: 'neon' }]))).toBe(400);
    expect(status(() => validateArgs('settings:set', [{ theme: 'dark', __proto__x: 1 }]))).toBe(400);
    expect(status(() => validateArgs('containers:start', [''])) ).toBe(400);
  });

  it('names the bad argument in its message', () => {
    expect(() => validateArgs('containers:remove', ['a', { force: 1 }])).toThrow('invalid argument #2.force: expected true or false');
  });

  it('checks a build request field by field, with the build form\'s own rules', () => {
    const request = { context: '/src', dockerfile: 'Dockerfile', tags: ['app:1'], buildArgs: { A: '1' }, noCache: false, pull: true };
    expect(validateArgs('builds:start', [request])).toEqual([request]);
    expect(validateArgs('builds:start', [{ ...request, target: 'build' }])).toHaveLength(1);
    expect(status(() => validateArgs('builds:start', [{ ...request, tags: ['Bad'] }]))).toBe(400);
    expect(status(() => validateArgs('builds:start', [{ ...request, tags: 'app' }]))).toBe(400);
    expect(status(() => validateArgs('builds:start', [{ ...request, buildArgs: { 'A B': '1' } }]))).toBe(400);
    expect(status(() => validateArgs('builds:start', [{ ...request, buildArgs: { A: 1 } }]))).toBe(400);
    expect(status(() => validateArgs('builds:start', [{ ...request, buildArgs: ['A=1'] }]))).toBe(400);
    expect(status(() => validateArgs('builds:start', [{ ...request, dockerfile: '../Dockerfile' }]))).toBe(400);
    expect(status(() => validateArgs('builds:start', [{ ...request, target: '--x' }]))).toBe(400);
    expect(status(() => validateArgs('builds:start', [{ ...request, extra: true }]))).toBe(400);
    expect(() => validateArgs('builds:start', [{ ...request, tags: ['ok', 'Bad'] }])).toThrow('invalid argument #1.tags[1]: invalid tag "Bad": repository name must be lowercase');
    expect(status(() => validateArgs('builds:inspectContext', [42]))).toBe(400);
  });
});
