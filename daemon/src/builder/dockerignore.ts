// .dockerignore: which paths of the build context the builder leaves out. Patterns follow Go's
// filepath.Match (`*`, `?`, `[a-z]`, `\` escapes) plus `**` for any number of directories; a
// pattern that matches a directory excludes everything under it; `!pattern` re-includes; the last
// matching pattern decides. Lines starting with `#` are comments, leading `/` and `./` do not matter.
import path from 'node:path';

interface Pattern {
  regex: RegExp;
  exclusion: boolean;
  /** The pattern as cleaned, for debugging and tests. */
  text: string;
}

export class DockerIgnore {
  private readonly patterns: Pattern[];

  constructor(lines: string[]) {
    this.patterns = [];
    for (const raw of lines) {
      let line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      let exclusion = false;
      if (line.startsWith('!')) {
        exclusion = true;
        line = line.slice(1).trim();
        if (line === '') throw new Error('illegal exclusion pattern: "!"');
      }
      let text = path.posix.normalize(line);
      text = text.replace(/^\/+/, '');
      if (text === '' || text === '.') continue;
      if (text.endsWith('/')) text = text.slice(0, -1);
      this.patterns.push({ regex: compile(text), exclusion, text });
    }
  }

  static parse(content: string): DockerIgnore {
    return new DockerIgnore(content.split('\n'));
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Whether `file` (relative to the context, `/` separated) is left out. */
  excludes(file: string): boolean {
    const clean = path.posix.normalize(file).replace(/^\/+/, '').replace(/\/$/, '');
    const parents = clean.split('/');
    let matched = false;
    for (const p of this.patterns) {
      // Only a pattern that could change the answer is worth testing.
      if (p.exclusion !== matched) continue;
      let hit = p.regex.test(clean);
      if (!hit) {
        // A pattern matching a parent directory matches everything under it.
        for (let i = 1; i < parents.length && !hit; i++) hit = p.regex.test(parents.slice(0, i).join('/'));
      }
      if (hit) matched = !p.exclusion;
    }
    return matched;
  }
}

function compile(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // `**/` (or a trailing `**`) spans any number of directories, none included.
        if (pattern[i + 1] === '/') i++;
        re += i + 1 >= pattern.length ? '.*' : '(.*/)?';
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new Error(`syntax error in pattern: ${pattern}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '!' + cls.slice(1);
      re += '[' + (cls.startsWith('!') ? '^' + cls.slice(1) : cls).replace(/\\(?!\])/g, '\\\\') + ']';
      i = end;
    } else if (ch === '\\') {
      i++;
      if (i < pattern.length) re += escapeRegex(pattern[i]!);
    } else {
      re += escapeRegex(ch);
    }
  }
  return new RegExp(re + '$');
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
