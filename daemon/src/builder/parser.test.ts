import { describe, expect, it } from 'vitest';
import { parseDockerfile, splitWords } from './parser';

describe('Dockerfile parser', () => {
  it('joins continuation lines, skipping comments and blank lines inside them, and keeps line numbers', () => {
    const r = parseDockerfile('FROM busybox\n# a comment\nRUN echo a \\\n  # inside\n\n  && echo b\nCMD ["sh"]\n');
    expect(r.nodes.map((n) => [n.cmd, n.startLine, n.endLine])).toEqual([['from', 1, 1], ['run', 3, 6], ['cmd', 7, 7]]);
    expect(r.nodes[1]!.args).toEqual(['echo a   && echo b']);
    expect(r.warnings[0]).toMatch(/Empty continuation line/);
  });

  it('reads the escape directive and uses it for continuations', () => {
    const r = parseDockerfile('# escape=`\nFROM x\nRUN dir c:\\ `\n  /w\n');
    expect(r.escape).toBe('`');
    expect(r.nodes[1]!.args).toEqual(['dir c:\\   /w']);
  });

  it('stops looking for directives after the first other line', () => {
    const r = parseDockerfile('# syntax=docker/dockerfile:1\n# hello\n# escape=`\nFROM x\nRUN a \\\n b\n');
    expect(r.syntax).toBe('docker/dockerfile:1');
    expect(r.escape).toBe('\\');
    expect(r.nodes[1]!.args).toEqual(['a  b']);
  });

  it('refuses a bad or repeated escape directive', () => {
    expect(() => parseDockerfile('# escape=x\nFROM a\n')).toThrow("invalid escape token 'x' does not match ` or \\");
    expect(() => parseDockerfile('# escape=`\n# escape=\\\nFROM a\n')).toThrow('only one escape parser directive can be used');
  });

  it('tells exec form from shell form', () => {
    const [run1, run2, cmd, bad] = parseDockerfile('RUN ["echo", "a b"]\nRUN echo "a b"\nCMD []\nCMD [1, 2]\n').nodes;
    expect([run1!.json, run1!.args]).toEqual([true, ['echo', 'a b']]);
    expect([run2!.json, run2!.args]).toEqual([false, ['echo "a b"']]);
    expect([cmd!.json, cmd!.args]).toEqual([true, []]);
    expect([bad!.json, bad!.args]).toEqual([false, ['[1, 2]']]);
  });

  it('takes leading --flags off COPY and FROM', () => {
    const [from, copy] = parseDockerfile('FROM --platform=linux/amd64 a AS b\nCOPY --from=b --chown="1:1" x y /z/\n').nodes;
    expect(from!.flags).toEqual(['--platform=linux/amd64']);
    expect(from!.args).toEqual(['a', 'AS', 'b']);
    expect(copy!.flags).toEqual(['--from=b', '--chown="1:1"']);
    expect(copy!.args).toEqual(['x', 'y', '/z/']);
  });

  it('splits ENV and LABEL into pairs in both forms, keeping quotes for the substitution step', () => {
    const [env1, env2, label] = parseDockerfile('ENV A=1 B="x y" C=a\\ b\nENV D some value\nLABEL "k l"=v\n').nodes;
    expect(env1!.args).toEqual(['A', '1', 'B', '"x y"', 'C', 'a\\ b']);
    expect(env2!.args).toEqual(['D', 'some value']);
    expect(label!.args).toEqual(['"k l"', 'v']);
    expect(() => parseDockerfile('ENV A\n')).toThrow('ENV must have two arguments');
    expect(() => parseDockerfile('ENV A=1 B\n')).toThrow(`can't find = in "B"`);
  });

  it('leaves heredocs to the shell, as the classic builder does: the body lines become instructions', () => {
    const r = parseDockerfile('FROM a\nRUN <<EOF\necho hi\nEOF\n');
    expect(r.nodes.map((n) => n.cmd)).toEqual(['from', 'run', 'echo', 'eof']);
    expect(r.nodes[2]!.startLine).toBe(3);
  });

  it('parses ONBUILD and HEALTHCHECK sub-commands', () => {
    const [on, hc, hc2] = parseDockerfile('ONBUILD RUN echo hi\nHEALTHCHECK --interval=5s CMD ["true"]\nHEALTHCHECK CMD curl x\n').nodes;
    expect(on!.sub!.cmd).toBe('run');
    expect(on!.args).toEqual(['RUN echo hi']);
    expect([hc!.flags, hc!.args, hc!.json]).toEqual([['--interval=5s'], ['CMD', 'true'], true]);
    expect([hc2!.args, hc2!.json]).toEqual([['CMD', 'curl x'], false]);
  });

  it('says when there is nothing to build', () => {
    expect(() => parseDockerfile('# only a comment\n\n')).toThrow('file with no instructions');
  });

  it('splits words on unquoted blanks only', () => {
    expect(splitWords(`a "b c" 'd e' f\\ g`, '\\')).toEqual(['a', '"b c"', "'d e'", 'f\\ g']);
  });
});
