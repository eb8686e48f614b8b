import { describe, expect, it } from 'vitest';
import { DockerIgnore } from './dockerignore';

describe('.dockerignore', () => {
  const ignore = DockerIgnore.parse(['# comment', 'node_modules', '*.log', '!keep.log', '**/*.tmp', 'docs/', '/build', '!build/out', 'a?c', '[xy].txt'].join('\n'));

  it.each([
    ['node_modules', true],
    ['node_modules/x/y.js', true],
    ['sub/node_modules', false],
    ['err.log', true],
    ['keep.log', false],
    ['sub/err.log', false],
    ['deep/er/f.tmp', true],
    ['f.tmp', true],
    ['docs/readme.md', true],
    ['build/x', true],
    ['build/out', false],
    ['build/out/f', false],
    ['abc', true],
    ['abbc', false],
    ['x.txt', true],
    ['z.txt', false],
    ['src/main.ts', false],
  ])('%s excluded: %s', (file, want) => {
    expect(ignore.excludes(file)).toBe(want);
  });

  it('treats an empty file as excluding nothing', () => {
    expect(DockerIgnore.parse('\n\n').empty).toBe(true);
  });
});
