import { describe, expect, it } from 'vitest';
import { IgnoreRules } from './dockerignore.js';

const rules = (text: string) => IgnoreRules.parse(text);

describe('.dockerignore rules (the CLI side)', () => {
  it('leaves out a matching file, and everything under a matching folder', () => {
    const r = rules('secret.txt\nbuild\n');
    expect(r.excludes('secret.txt')).toBe(true);
    expect(r.excludes('build')).toBe(true);
    expect(r.excludes('build/out/app.js')).toBe(true);
    expect(r.excludes('src/secret.txt')).toBe(false);
    expect(r.excludes('buildx')).toBe(false);
  });

  it('matches * and ? within one folder level only, ** across any number', () => {
    const r = rules('*.log\ndocs/?.md\n**/*.tmp\n');
    expect(r.excludes('a.log')).toBe(true);
    expect(r.excludes('sub/a.log')).toBe(false);
    expect(r.excludes('docs/a.md')).toBe(true);
    expect(r.excludes('docs/ab.md')).toBe(false);
    expect(r.excludes('x.tmp')).toBe(true);
    expect(r.excludes('deep/er/x.tmp')).toBe(true);
  });

  it('lets the last matching line decide, so ! brings a path back', () => {
    const r = rules('*.md\n!README.md\n');
    expect(r.excludes('NOTES.md')).toBe(true);
    expect(r.excludes('README.md')).toBe(false);
    const again = rules('!README.md\n*.md\n');
    expect(again.excludes('README.md')).toBe(true);
  });

  it('ignores comments, blank lines, a leading / or ./ and a trailing /', () => {
    const r = rules('# a comment\n\n/node_modules/\n./dist\n');
    expect(r.excludes('node_modules/x/index.js')).toBe(true);
    expect(r.excludes('dist/app.js')).toBe(true);
    expect(r.excludes('# a comment')).toBe(false);
  });

  it('reads character classes and escapes as Go does', () => {
    const r = rules('file[0-9].txt\nlog[^a].txt\nstar\\*\n');
    expect(r.excludes('file7.txt')).toBe(true);
    expect(r.excludes('filex.txt')).toBe(false);
    expect(r.excludes('logb.txt')).toBe(true);
    expect(r.excludes('loga.txt')).toBe(false);
    expect(r.excludes('star*')).toBe(true);
    expect(r.excludes('starry')).toBe(false);
  });

  it('refuses malformed patterns with the pattern in the message', () => {
    expect(() => rules('!\n')).toThrow('illegal exclusion pattern');
    expect(() => rules('bad[\n')).toThrow('syntax error in pattern: bad[');
  });

  it('keeps the Dockerfile and .dockerignore even when a pattern would leave them out', () => {
    const r = rules('*\n').keeping(['docker/app.Dockerfile', '.dockerignore']);
    expect(r.excludes('docker/app.Dockerfile')).toBe(false);
    expect(r.excludes('.dockerignore')).toBe(false);
    expect(r.excludes('docker/other')).toBe(true);
    // Files no pattern leaves out add no rule.
    const plain = rules('tmp\n');
    expect(plain.keeping(['Dockerfile'])).toBe(plain);
  });

  it('walks into a left-out folder only when a ! rule names something below it', () => {
    const r = rules('docker\n!docker/keep.txt\nvendor\n');
    expect(r.mayKeepBelow('docker')).toBe(true);
    expect(r.mayKeepBelow('vendor')).toBe(false);
    expect(r.excludes('docker/keep.txt')).toBe(false);
    expect(r.excludes('docker/drop.txt')).toBe(true);
  });
});
