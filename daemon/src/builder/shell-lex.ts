// Variable substitution and quote removal in Dockerfile words, as the classic builder does it:
// `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`, `${VAR:?msg}`,
// single quotes literal, double quotes expanding, the escape character taking the next one
// literally. processWord gives one string; processWords splits on unquoted whitespace (only EXPOSE
// uses that: `EXPOSE $PORTS` with PORTS="80 443" is two ports).

export type Lookup = (name: string) => string | undefined;

export class ShellLexError extends Error {}

export class ShellLex {
  constructor(private readonly escape = '\\') {}

  processWord(word: string, lookup: Lookup): string {
    return this.run(word, lookup, false).join('');
  }

  processWords(word: string, lookup: Lookup): string[] {
    return this.run(word, lookup, true);
  }

  private run(word: string, lookup: Lookup, split: boolean): string[] {
    try {
      return new Scan(word, lookup, this.escape, split).all();
    } catch (err) {
      if (err instanceof ShellLexError) throw new ShellLexError(`failed to process "${word}": ${err.message}`);
      throw err;
    }
  }
}

const isNameChar = (ch: string | undefined) => ch !== undefined && /[A-Za-z0-9_]/.test(ch);

class Scan {
  private pos = 0;
  private readonly words: string[] = [];
  private current = '';
  private started = false;

  constructor(
    private readonly text: string,
    private readonly lookup: Lookup,
    private readonly escape: string,
    private readonly split: boolean,
  ) {}

  all(): string[] {
    this.current = this.until(undefined, true);
    if (this.started || this.current !== '' || !this.split) this.words.push(this.current);
    return this.split ? this.words : [this.words.join('')];
  }

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private next(): string | undefined {
    return this.text[this.pos++];
  }

  /** Reads up to `stop` (not consumed... consumed when found) or the end; `top` is the word level. */
  private until(stop: string | undefined, top: boolean): string {
    let out = '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) {
        if (stop !== undefined) throw new ShellLexError(`missing '${stop}'`);
        return out;
      }
      if (ch === stop) {
        this.pos++;
        return out;
      }
      if (ch === this.escape) {
        this.pos++;
        const lit = this.next();
        if (lit !== undefined) out += lit;
        this.started = true;
        continue;
      }
      if (ch === "'") {
        this.pos++;
        out += this.singleQuoted();
        this.started = true;
        continue;
      }
      if (ch === '"') {
        this.pos++;
        out += this.doubleQuoted();
        this.started = true;
        continue;
      }
      if (ch === '$') {
        this.pos++;
        const value = this.dollar();
        if (top && this.split) {
          // Unquoted expansions split into words, as a shell does.
          const parts = value.split(/[ \t\n]+/);
          for (let i = 0; i < parts.length; i++) {
            if (i > 0) out = this.endWord(out);
            out += parts[i];
            if (parts[i] !== '') this.started = true;
          }
        } else {
          out += value;
        }
        continue;
      }
      if (top && this.split && (ch === ' ' || ch === '\t' || ch === '\n')) {
        this.pos++;
        out = this.endWord(out);
        continue;
      }
      this.pos++;
      out += ch;
      this.started = true;
    }
  }

  private endWord(out: string): string {
    if (this.started || out !== '') this.words.push(out);
    this.started = false;
    return '';
  }

  private singleQuoted(): string {
    const end = this.text.indexOf("'", this.pos);
    if (end < 0) throw new ShellLexError('unexpected end of statement while looking for matching single-quote');
    const out = this.text.slice(this.pos, end);
    this.pos = end + 1;
    return out;
  }

  private doubleQuoted(): string {
    let out = '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new ShellLexError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') return out;
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      if (ch === this.escape) {
        const following = this.peek();
        if (following === '"' || following === '$' || following === this.escape) {
          out += this.next();
          continue;
        }
      }
      out += ch;
    }
  }

  private dollar(): string {
    const ch = this.peek();
    if (ch === '{') {
      this.pos++;
      return this.braced();
    }
    if (!isNameChar(ch)) return '$';
    return this.lookup(this.name()) ?? '';
  }

  private name(): string {
    const first = this.peek();
    if (first !== undefined && /[0-9]/.test(first)) {
      this.pos++;
      return first;
    }
    let name = '';
    while (isNameChar(this.peek())) name += this.next();
    return name;
  }

  private braced(): string {
    const name = this.name();
    const ch = this.next();
    if (ch === '}') {
      if (name === '') throw new ShellLexError('bad substitution');
      return this.lookup(name) ?? '';
    }
    if (name === '' || ch === undefined) throw new ShellLexError(ch === undefined ? "missing '}'" : 'bad substitution');
    let colon = false;
    let modifier = ch;
    if (ch === ':') {
      colon = true;
      modifier = this.next() ?? '';
    }
    if (modifier !== '-' && modifier !== '+' && modifier !== '?') {
      throw new ShellLexError(colon ? `unsupported modifier (${modifier}) in substitution` : `missing ':' in substitution`);
    }
    const word = this.until('}', false);
    const value = this.lookup(name);
    const unset = colon ? value === undefined || value === '' : value === undefined;
    switch (modifier) {
      case '-':
        return unset ? word : value!;
      case '+':
        return unset ? '' : word;
      default:
        if (unset) throw new ShellLexError(`${name}: ${word || 'is not allowed to be unset'}`);
        return value!;
    }
  }
}
