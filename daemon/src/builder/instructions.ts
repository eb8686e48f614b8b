// Parsed nodes → typed instructions grouped in stages, with every instruction's argument and flag
// checks worded as dockerd words them ("dockerfile parse error line 3: unknown instruction: FOO").
// Checks that need variables (ports, signals, paths after substitution) run at dispatch.
import { parseDockerfile, type Node } from './parser';

export class InstructionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InstructionError';
  }
}

interface Base {
  node: Node;
}
export interface ShellDependent {
  /** The command as written: one string in shell form, the array in exec form. */
  cmdLine: string[];
  /** Shell form: the current SHELL is prepended at dispatch. */
  prependShell: boolean;
}
export interface HealthSpec {
  test: string[];
  /** Nanoseconds, 0 for the default; absent for NONE. */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  retries?: number;
  /** The flags as written, for the history line. */
  written: { interval: string; timeout: string; startPeriod: string };
}

export type Instruction = Base &
  (
    | { kind: 'run'; cmd: ShellDependent }
    | { kind: 'cmd'; cmd: ShellDependent }
    | { kind: 'entrypoint'; cmd: ShellDependent }
    | { kind: 'env'; pairs: [string, string][] }
    | { kind: 'label'; pairs: [string, string][] }
    | { kind: 'arg'; args: { name: string; value?: string }[] }
    | { kind: 'expose'; ports: string[] }
    | { kind: 'volume'; volumes: string[] }
    | { kind: 'user'; user: string }
    | { kind: 'workdir'; path: string }
    | { kind: 'copy' | 'add'; sources: string[]; dest: string; from?: string; chown?: string; chmod?: string }
    | { kind: 'stopsignal'; signal: string }
    | { kind: 'healthcheck'; health: HealthSpec }
    | { kind: 'shell'; shell: string[] }
    | { kind: 'onbuild'; expression: string }
    | { kind: 'maintainer'; maintainer: string }
  );

export interface Stage {
  /** The base as written (substituted at dispatch): an image reference, `scratch` or a stage name. */
  base: string;
  /** Lower-cased `AS` name, or undefined. */
  name?: string;
  platform?: string;
  node: Node;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARG instructions before the first FROM. */
  metaArgs: Extract<Instruction, { kind: 'arg' }>[];
  stages: Stage[];
  escape: string;
  warnings: string[];
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** Parses and checks a whole Dockerfile. Throws InstructionError with dockerd's wording. */
export function parseInstructions(text: string): Dockerfile {
  let parsed;
  try {
    parsed = parseDockerfile(text);
  } catch (err) {
    throw new InstructionError(`failed to parse Dockerfile: ${(err as Error).message}`);
  }
  const metaArgs: Dockerfile['metaArgs'] = [];
  const stages: Stage[] = [];
  for (const node of parsed.nodes) {
    const at = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        if (err instanceof InstructionError && !err.message.startsWith('dockerfile parse error')) {
          throw new InstructionError(`dockerfile parse error line ${node.startLine}: ${err.message}`);
        }
        throw err;
      }
    };
    if (node.cmd === 'from') {
      let stage: Stage | undefined;
      at(() => {
        stage = parseFrom(node);
      });
      // dockerd says this one without a line.
      if (stage!.name && stages.some((s) => s.name === stage!.name)) throw new InstructionError(`${stage!.name} stage name already used`);
      stages.push(stage!);
      continue;
    }
    at(() => {
      const instruction = parseInstruction(node);
      const stage = stages[stages.length - 1];
      if (stage) stage.instructions.push(instruction);
      else if (instruction.kind === 'arg') metaArgs.push(instruction);
      else throw new InstructionError('no build stage in current context');
    });
  }
  // dockerd reports a missing FROM without a line.
  if (stages.length === 0) throw new InstructionError('no build stage in current context');
  return { metaArgs, stages, escape: parsed.escape, warnings: parsed.warnings };
}

function parseFrom(node: Node): Stage {
  const flags = parseFlags(node, ['platform']);
  const args = node.args;
  let name: string | undefined;
  if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
    name = args[2]!.toLowerCase();
    if (!STAGE_NAME.test(name)) throw new InstructionError(`invalid name for build stage: "${args[2]}", name can't start with a number or contain symbols`);
  } else if (args.length !== 1) {
    throw new InstructionError('FROM requires either one or three arguments');
  }
  return { base: args[0]!, name, platform: flags.platform, node, instructions: [] };
}

/** The flags an instruction accepts; `--name=value` and `--name value`-less forms as dockerd's BFlags. */
function parseFlags(node: Node, allowed: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const flag of node.flags) {
    const body = flag.slice(2);
    if (body === '') throw new InstructionError('Missing flag name');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (!allowed.includes(name)) throw new InstructionError(`Unknown flag: ${name}`);
    if (name in out) throw new InstructionError(`Duplicate flag specified: ${name}`);
    if (eq < 0) throw new InstructionError(`Missing a value on flag: ${name}`);
    out[name] = unquote(body.slice(eq + 1));
  }
  return out;
}

const unquote = (s: string) => (/^(["']).*\1$/s.test(s) ? s.slice(1, -1) : s);

const atLeastOne = (c: string) => new InstructionError(`${c} requires at least one argument`);
const exactlyOne = (c: string) => new InstructionError(`${c} requires exactly one argument`);

function shellDependent(node: Node): ShellDependent {
  return { cmdLine: node.args, prependShell: !node.json };
}

function pairs(node: Node, name: string): [string, string][] {
  if (node.args.length === 0) throw atLeastOne(name);
  const out: [string, string][] = [];
  for (let i = 0; i < node.args.length; i += 2) {
    if (node.args[i] === '') throw new InstructionError(`${name} names can not be blank`);
    out.push([node.args[i]!, node.args[i + 1] ?? '']);
  }
  return out;
}

/** The flags RUN has under BuildKit; the classic builder refuses them at dispatch with its sentence. */
const BUILDKIT_RUN_FLAGS = ['mount', 'network', 'security'];

export function parseInstruction(node: Node): Instruction {
  const upper = node.cmd.toUpperCase();
  switch (node.cmd) {
    case 'run': {
      const flags = parseFlags(node, BUILDKIT_RUN_FLAGS);
      const used = Object.keys(flags);
      if (used.length > 0) {
        throw new InstructionError(`the --${used[0]} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled`);
      }
      return { kind: 'run', node, cmd: shellDependent(node) };
    }
    case 'cmd':
    case 'entrypoint':
      parseFlags(node, []);
      return { kind: node.cmd, node, cmd: shellDependent(node) };
    case 'env':
    case 'label':
      parseFlags(node, []);
      return { kind: node.cmd, node, pairs: pairs(node, upper) };
    case 'arg': {
      parseFlags(node, []);
      if (node.args.length === 0) throw atLeastOne('ARG');
      const args = node.args.map((word) => {
        const eq = word.indexOf('=');
        if (eq === 0) throw new InstructionError('ARG names can not be blank');
        return eq < 0 ? { name: word } : { name: word.slice(0, eq), value: word.slice(eq + 1) };
      });
      return { kind: 'arg', node, args };
    }
    case 'expose':
      parseFlags(node, []);
      if (node.args.length === 0) throw atLeastOne('EXPOSE');
      return { kind: 'expose', node, ports: node.args };
    case 'volume':
      parseFlags(node, []);
      if (node.args.length === 0) throw atLeastOne('VOLUME');
      for (const v of node.args) if (v.trim() === '') throw new InstructionError('VOLUME specified can not be an empty string');
      return { kind: 'volume', node, volumes: node.args };
    case 'user':
    case 'workdir':
    case 'stopsignal':
    case 'maintainer': {
      parseFlags(node, []);
      if (node.args.length !== 1) throw exactlyOne(upper);
      const value = node.args[0]!;
      if (node.cmd === 'user') return { kind: 'user', node, user: value };
      if (node.cmd === 'workdir') return { kind: 'workdir', node, path: value };
      if (node.cmd === 'stopsignal') return { kind: 'stopsignal', node, signal: value };
      return { kind: 'maintainer', node, maintainer: value };
    }
    case 'copy':
    case 'add': {
      const flags = parseFlags(node, node.cmd === 'copy' ? ['from', 'chown', 'chmod'] : ['chown', 'chmod']);
      if (node.args.length < 2) {
        throw new InstructionError(
          node.args.length === 1
            ? `${upper} requires at least two arguments, but only one was provided. Destination could not be determined`
            : `${upper} requires at least two arguments`,
        );
      }
      return { kind: node.cmd, node, sources: node.args.slice(0, -1), dest: node.args[node.args.length - 1]!, from: flags.from, chown: flags.chown, chmod: flags.chmod };
    }
    case 'healthcheck':
      return { kind: 'healthcheck', node, health: parseHealthcheck(node) };
    case 'shell':
      parseFlags(node, []);
      if (!node.json) {
        if (node.args.length === 0) throw atLeastOne('SHELL');
        throw new InstructionError('SHELL requires the arguments to be in JSON form');
      }
      if (node.args.length === 0) throw atLeastOne('SHELL');
      return { kind: 'shell', node, shell: node.args };
    case 'onbuild': {
      parseFlags(node, []);
      if (!node.sub) throw atLeastOne('ONBUILD');
      const trigger = node.sub.cmd.toUpperCase();
      if (trigger === 'ONBUILD') throw new InstructionError('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'FROM' || trigger === 'MAINTAINER') throw new InstructionError(`${trigger} isn't allowed as an ONBUILD trigger`);
      parseInstruction(node.sub);
      return { kind: 'onbuild', node, expression: node.args[0]! };
    }
    default:
      throw new InstructionError(`unknown instruction: ${upper}`);
  }
}

function parseHealthcheck(node: Node): HealthSpec {
  if (node.args.length === 0) throw atLeastOne('HEALTHCHECK');
  const typ = node.args[0]!.toUpperCase();
  const rest = node.args.slice(1);
  const written = { interval: '', timeout: '', startPeriod: '' };
  if (typ === 'NONE') {
    if (rest.length > 0) throw new InstructionError('HEALTHCHECK NONE takes no arguments');
    return { test: ['NONE'], written };
  }
  const flags = parseFlags(node, ['interval', 'timeout', 'start-period', 'retries']);
  if (typ !== 'CMD') throw new InstructionError(`Unknown type "${typ}" in HEALTHCHECK (try CMD)`);
  if (rest.length === 0) throw new InstructionError('Missing command after HEALTHCHECK CMD');
  const interval = (name: string) => {
    const v = flags[name];
    if (!v) return 0;
    const ns = parseGoDuration(v);
    if (ns < 1_000_000) throw new InstructionError(`Interval "${name}" cannot be less than 1ms`);
    return ns;
  };
  let retries = 0;
  if (flags.retries) {
    if (!/^-?\d+$/.test(flags.retries)) throw new InstructionError(`strconv.ParseInt: parsing "${flags.retries}": invalid syntax`);
    retries = Number(flags.retries);
    if (retries < 1) throw new InstructionError(`--retries must be at least 1 (not ${retries})`);
  }
  written.interval = flags.interval ?? '';
  written.timeout = flags.timeout ?? '';
  written.startPeriod = flags['start-period'] ?? '';
  return {
    test: [node.json ? 'CMD' : 'CMD-SHELL', ...rest],
    interval: interval('interval'),
    timeout: interval('timeout'),
    startPeriod: interval('start-period'),
    retries,
    written,
  };
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration ("1m30s", "1.5h", "300ms"), in nanoseconds. */
export function parseGoDuration(text: string): number {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let sign = 1;
  let s = text;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s.startsWith('-') ? -1 : 1;
    s = s.slice(1);
  }
  let pos = 0;
  re.lastIndex = 0;
  while (pos < s.length) {
    const m = re.exec(s);
    if (!m || m.index !== pos) throw new InstructionError(`time: invalid duration "${text}"`);
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (s.length === 0) throw new InstructionError(`time: invalid duration "${text}"`);
  return Math.round(sign * total);
}

/** Go's Duration.String() for the history line ("5s", "1m30s", "0s"). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e9) {
    if (ns < 1e3) return `${ns}ns`;
    if (ns < 1e6) return `${ns / 1e3}µs`;
    return `${ns / 1e6}ms`;
  }
  let rest = ns / 1e9;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  const sec = Number(rest.toFixed(9)).toString();
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${sec}s`;
}
