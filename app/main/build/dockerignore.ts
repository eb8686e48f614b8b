// The client's side of .dockerignore, as the docker CLI applies it before sending a context:
// lines are patterns in Go's filepath.Match syntax (`*`, `?`, `[a-z]`, `\` escapes) plus `**` for
// any number of folders; a pattern matching a folder leaves out all that is below it; `!pattern`
// brings a path back; the last pattern that matches decides. `#` starts a comment; a leading `/`
// or `./` means nothing. (berthd applies the same rules again on its side, for raw API clients.)
import path from 'node:path';

interface Rule {
  /** The cleaned pattern, as written after `!`. */
  text: string;
  regex: RegExp;
  /** A `!` line: it brings matching paths back. */
  keep: boolean;
}

export class IgnoreRules {
  private constructor(private readonly rules: Rule[]) {}

  /** Reads a .dockerignore; a malformed pattern is an error naming it. */
  static parse(content: string): IgnoreRules {
    const rules: Rule[] = [];
    for (const raw of content.split(/\r?\n/)) {
      let line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const keep = line.startsWith('!');
      if (keep) {
        line = line.slice(1).trim();
        if (line === '') throw new Error('illegal exclusion pattern: "!"');
      }
      const text = clean(line);
      if (text === '' || text === '.') continue;
      rules.push({ text, regex: compile(text), keep });
    }
    return new IgnoreRules(rules);
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /**
   * The same rules, except that `files` are always sent: the CLI adds `!file` for the Dockerfile
   * and .dockerignore when a pattern would leave them out, because the engine needs both.
   */
  keeping(files: string[]): IgnoreRules {
    const extra = files.map(clean).filter((f) => this.excludes(f)).map((text) => ({ text, regex: compile(text), keep: true }));
    return extra.length ? new IgnoreRules([...this.rules, ...extra]) : this;
  }

  /** Whether `file` (relative to the context, `/`-separated) is left out. */
  excludes(file: string): boolean {
    const target = clean(file);
    const folders = target.split('/');
    let excluded = false;
    for (const rule of this.rules) {
      // A rule can only change the answer in one direction; skip the ones that cannot.
      if (rule.keep !== excluded) continue;
      let hit = rule.regex.test(target);
      for (let i = 1; !hit && i < folders.length; i++) hit = rule.regex.test(folders.slice(0, i).join('/'));
      if (hit) excluded = !rule.keep;
    }
    return excluded;
  }

  /**
   * Whether something below the left-out folder `dir` may be brought back by a `!` rule, so the
   * walk must still go in. Like the CLI, only a `!` rule whose text starts with the folder counts.
   */
  mayKeepBelow(dir: string): boolean {
    const prefix = `${clean(dir)}/`;
    return this.rules.some((r) => r.keep && `${r.text}/`.startsWith(prefix));
  }
}

/** Go's filepath.Clean of a pattern or path, `/`-separated, without a leading `/`. */
function clean(p: string): string {
  return path.posix.normalize(p).replace(/^\/+/, '').replace(/\/+$/, '');
}

/** A pattern as an anchored regular expression over `/`-separated paths. */
function compile(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        // `**/` spans zero or more whole folders.
        i++;
        out += '(?:.*/)?';
      } else {
        out += '.*';
      }
    } else if (ch === '*') {
      out += '[^/]*';
    } else if (ch === '?') {
      out += '[^/]';
    } else if (ch === '[') {
      const end = classEnd(pattern, i);
      if (end < 0) throw new Error(`syntax error in pattern: ${pattern}`);
      out += charClass(pattern.slice(i + 1, end));
      i = end;
    } else if (ch === '\\') {
      i++;
      if (i >= pattern.length) throw new Error(`syntax error in pattern: ${pattern}`);
      out += escape(pattern[i]!);
    } else {
      out += escape(ch);
    }
  }
  return new RegExp(`^${out}$`);
}

/** Where the character class opened at `start` closes (-1 when it does not, or is empty: Go refuses both). */
function classEnd(pattern: string, start: number): number {
  for (let j = start + 1; j < pattern.length; j++) {
    if (pattern[j] === '\\') j++;
    else if (pattern[j] === ']') return j === start + 1 || (j === start + 2 && pattern[start + 1] === '^') ? -1 : j;
  }
  return -1;
}

/** Go's `[^a-z\]]` as a JavaScript class; a class never matches the folder separator. */
function charClass(body: string): string {
  let out = '[';
  let i = 0;
  if (body.startsWith('^')) {
    out += '^/';
    i = 1;
  }
  for (; i < body.length; i++) {
    const c = body[i]!;
    // An escaped character is itself (`\d` is a "d", not a digit); a bare "-" makes a range.
    if (c === '\\') out += escapeInClass(body[++i] ?? '');
    else out += c === '-' ? '-' : escapeInClass(c);
  }
  return `${out}]`;
}

const escapeInClass = (c: string): string => (/[\]\\^-]/.test(c) ? `\\${c}` : c);
const escape = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
