import { describe, expect, it } from 'vitest';
import { ShellLex } from './shell-lex';

const env: Record<string, string> = { A: 'a', EMPTY: '', PORTS: '80 443', P: '/x' };
const lookup = (n: string) => env[n];
const lex = new ShellLex('\\');

describe('ShellLex', () => {
  it.each([
    ['$A', 'a'],
    ['${A}b', 'ab'],
    ['$Ab', ''],
    ['${NOPE:-d}', 'd'],
    ['${EMPTY:-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${A:-d}', 'a'],
    ['${A:+set}', 'set'],
    ['${NOPE:+set}', ''],
    ['${EMPTY+set}', 'set'],
    ["'$A'", '$A'],
    ['"$A b"', 'a b'],
    ['\\$A', '$A'],
    ['"\\$A \\"q\\" \\x"', '$A "q" \\x'],
    ['a\\ b', 'a b'],
    ['${P}/y', '/x/y'],
    ['$', '$'],
    ['${NOPE:-$A$A}', 'aa'],
  ])('processWord(%s) = %s', (word, want) => {
    expect(lex.processWord(word, lookup)).toBe(want);
  });

  it('splits unquoted expansions into words for EXPOSE', () => {
    expect(lex.processWords('$PORTS 8080', lookup)).toEqual(['80', '443', '8080']);
    expect(lex.processWords('"$PORTS"', lookup)).toEqual(['80 443']);
  });

  it('reports bad substitutions and unterminated quotes', () => {
    expect(() => lex.processWord('${A', lookup)).toThrow(/missing '}'|bad substitution/);
    expect(() => lex.processWord('${A%x}', lookup)).toThrow("missing ':' in substitution");
    expect(() => lex.processWord('"abc', lookup)).toThrow('matching double-quote');
    expect(() => lex.processWord('${NOPE:?must be set}', lookup)).toThrow('NOPE: must be set');
  });

  it('honours a backtick escape', () => {
    expect(new ShellLex('`').processWord('a` b`$A', lookup)).toBe('a b$A');
  });
});
