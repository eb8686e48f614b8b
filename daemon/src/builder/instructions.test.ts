import { describe, expect, it } from 'vitest';
import { formatGoDuration, parseGoDuration, parseInstructions } from './instructions';

const err = (text: string) => {
  try {
    parseInstructions(text);
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

describe('instructions', () => {
  it('groups instructions into stages with meta ARGs before the first FROM', () => {
    const df = parseInstructions('ARG V=1\nFROM --platform=linux/amd64 busybox:$V AS Build\nRUN true\nFROM scratch\nCOPY --from=build /a /b\n');
    expect(df.metaArgs[0]!.args).toEqual([{ name: 'V', value: '1' }]);
    expect(df.stages.map((s) => [s.base, s.name, s.platform, s.instructions.map((i) => i.kind)])).toEqual([
      ['busybox:$V', 'build', 'linux/amd64', ['run']],
      ['scratch', undefined, undefined, ['copy']],
    ]);
    const copy = df.stages[1]!.instructions[0]!;
    expect(copy.kind === 'copy' && [copy.sources, copy.dest, copy.from]).toEqual([['/a'], '/b', 'build']);
  });

  it.each([
    ['FROM a\nFOO bar\n', 'dockerfile parse error line 2: unknown instruction: FOO'],
    ['FROM a\nRUN <<EOF\necho hi\nEOF\n', 'dockerfile parse error line 3: unknown instruction: ECHO'],
    ['FROM a\nENV\n', 'dockerfile parse error line 2: ENV requires at least one argument'],
    ['FROM a\nENV A\n', 'failed to parse Dockerfile: ENV must have two arguments'],
    ['FROM a\nLABEL a\n', 'failed to parse Dockerfile: LABEL must have two arguments'],
    ['FROM a\nWORKDIR\n', 'dockerfile parse error line 2: WORKDIR requires exactly one argument'],
    ['FROM a\nCOPY a\n', 'dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined'],
    ['FROM a\nEXPOSE\n', 'dockerfile parse error line 2: EXPOSE requires at least one argument'],
    ['FROM a\nSTOPSIGNAL\n', 'dockerfile parse error line 2: STOPSIGNAL requires exactly one argument'],
    ['FROM a\nONBUILD ONBUILD RUN x\n', 'dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed'],
    ['FROM a\nONBUILD FROM x\n', "dockerfile parse error line 2: FROM isn't allowed as an ONBUILD trigger"],
    ['FROM a\nHEALTHCHECK\n', 'dockerfile parse error line 2: HEALTHCHECK requires at least one argument'],
    ['FROM a\nHEALTHCHECK FOO\n', 'dockerfile parse error line 2: Unknown type "FOO" in HEALTHCHECK (try CMD)'],
    ['FROM a\nHEALTHCHECK --retries=0 CMD x\n', 'dockerfile parse error line 2: --retries must be at least 1 (not 0)'],
    ['FROM a\nHEALTHCHECK --interval=10us CMD x\n', 'dockerfile parse error line 2: Interval "interval" cannot be less than 1ms'],
    ['FROM a\nHEALTHCHECK NONE x\n', 'dockerfile parse error line 2: HEALTHCHECK NONE takes no arguments'],
    ['FROM a\nSHELL sh -c\n', 'dockerfile parse error line 2: SHELL requires the arguments to be in JSON form'],
    ['FROM a\nSHELL []\n', 'dockerfile parse error line 2: SHELL requires at least one argument'],
    ['FROM a\nCOPY --foo=1 a b\n', 'dockerfile parse error line 2: Unknown flag: foo'],
    ['FROM a\nCOPY --from a b\n', 'dockerfile parse error line 2: Missing a value on flag: from'],
    ['FROM a\nRUN --mount=type=cache,target=/x true\n', 'dockerfile parse error line 2: the --mount option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled'],
    ['FROM\n', 'dockerfile parse error line 1: FROM requires either one or three arguments'],
    ['FROM a b\n', 'dockerfile parse error line 1: FROM requires either one or three arguments'],
    ['FROM a AS 1x\n', 'dockerfile parse error line 1: invalid name for build stage: "1x", name can\'t start with a number or contain symbols'],
    ['RUN true\n', 'dockerfile parse error line 1: no build stage in current context'],
    ['ARG x\n', 'no build stage in current context'],
    ['# escape=x\nFROM a\n', "failed to parse Dockerfile: invalid escape token 'x' does not match ` or \\"],
    ['FROM a\nVOLUME [""]\n', 'dockerfile parse error line 2: VOLUME specified can not be an empty string'],
    ['FROM a AS x\nFROM b AS x\n', 'x stage name already used'],
    ['# nothing\n', 'failed to parse Dockerfile: file with no instructions'],
  ])('%j fails with dockerd\'s words', (text, message) => {
    expect(err(text)).toBe(message);
  });

  it('accepts what dockerd accepts: WORKDIR with a space, several ARGs, an empty CMD', () => {
    const df = parseInstructions('FROM a\nWORKDIR a b\nARG x y=2\nCMD\nHEALTHCHECK --interval=1ms --retries=2 CMD true\n');
    const [wd, arg, cmd, hc] = df.stages[0]!.instructions;
    expect(wd!.kind === 'workdir' && wd!.path).toBe('a b');
    expect(arg!.kind === 'arg' && arg!.args).toEqual([{ name: 'x' }, { name: 'y', value: '2' }]);
    expect(cmd!.kind === 'cmd' && cmd!.cmd).toEqual({ cmdLine: [], prependShell: true });
    expect(hc!.kind === 'healthcheck' && [hc!.health.test, hc!.health.interval, hc!.health.retries]).toEqual([['CMD-SHELL', 'true'], 1_000_000, 2]);
  });

  it('reads and prints Go durations', () => {
    expect(parseGoDuration('1m30s')).toBe(90e9);
    expect(parseGoDuration('1.5h')).toBe(5400e9);
    expect(parseGoDuration('250ms')).toBe(250e6);
    expect(() => parseGoDuration('5')).toThrow('time: invalid duration "5"');
    expect(formatGoDuration(90e9)).toBe('1m30s');
    expect(formatGoDuration(5e9)).toBe('5s');
    expect(formatGoDuration(0)).toBe('0s');
    expect(formatGoDuration(3600e9)).toBe('1h0m0s');
  });
});
