// The Dockerfile parser: text → one node per instruction, as the classic builder's parser does it.
// Parser directives (`# syntax`, `# escape`) at the top, comments, line continuations with the
// escape character, and the per-instruction splitting of arguments (JSON or shell form, key=value
// pairs, whitespace lists). Heredocs (`RUN <<EOF`) are a BuildKit feature: the classic builder does
// not know them, so `<<EOF` stays part of the shell command and the body's lines parse as
// instructions, which is how dockerd fails on them ("unknown instruction: ECHO").
// Variable substitution is not done here: it happens per instruction at dispatch (shell-lex.ts).

export class DockerfileParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DockerfileParseError';
  }
}

export interface Node {
  /** The instruction's keyword, lower case ("run", "copy"). */
  cmd: string;
  /** The instruction as written, continuations joined (what `Step n/m :` prints). */
  original: string;
  startLine: number;
  endLine: number;
  /** Leading `--name=value` words, as written. */
  flags: string[];
  /** The arguments after splitting (see the per-instruction splitters below). */
  args: string[];
  /** True when the arguments were a JSON array (exec form). */
  json: boolean;
  /** ONBUILD's trigger, parsed as an instruction of its own. */
  sub?: Node;
}

export interface ParseResult {
  nodes: Node[];
  escape: string;
  /** The `# syntax=` directive, if any (the classic builder ignores it). */
  syntax?: string;
  warnings: string[];
}

const DIRECTIVE = /^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$/;
const KNOWN_DIRECTIVES = new Set(['escape', 'syntax', 'check']);

const isComment = (line: string) => /^[ \t]*#/.test(line);
const isBlank = (line: string) => /^[ \t]*$/.test(line);

export function parseDockerfile(text: string): ParseResult {
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((l) => l.replace(/\r$/, ''));
  let escape = '\\';
  let syntax: string | undefined;
  const warnings: string[] = [];
  const seen = new Set<string>();

  // Directives: only at the very top; the first line that is not a known directive ends them.
  let i = 0;
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]!);
    if (!m || !KNOWN_DIRECTIVES.has(m[1]!.toLowerCase())) break;
    const key = m[1]!.toLowerCase();
    if (seen.has(key)) throw new DockerfileParseError(`only one ${key} parser directive can be used`);
    seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw new DockerfileParseError(`invalid escape token '${m[2]}' does not match \` or \\`);
      escape = m[2]!;
    } else if (key === 'syntax') {
      syntax = m[2];
    }
  }

  const continuation = new RegExp(`${escape === '\\' ? '\\\\' : '`'}[ \\t]*$`);
  const trimContinuation = (line: string): [string, boolean] => {
    if (continuation.test(line)) return [line.replace(continuation, ''), false];
    return [line, true];
  };

  const nodes: Node[] = [];
  for (; i < lines.length; i++) {
    const raw = lines[i]!;
    if (isComment(raw)) continue;
    const startLine = i + 1;
    let [line, ended] = trimContinuation(raw.replace(/^[ \t]+/, ''));
    if (ended && line === '') continue;
    let emptyContinuation = false;
    while (!ended && i + 1 < lines.length) {
      i++;
      const next = lines[i]!;
      if (isComment(next)) continue;
      if (isBlank(next)) {
        emptyContinuation = true;
        continue;
      }
      let part: string;
      [part, ended] = trimContinuation(next);
      line += part;
    }
    if (emptyContinuation) warnings.push(`[WARNING]: Empty continuation line found in:\n    ${line}`);
    if (line.trim() === '') continue;
    nodes.push(nodeFromLine(line, escape, startLine, i + 1));
  }
  if (nodes.length === 0) throw new DockerfileParseError('file with no instructions');
  return { nodes, escape, syntax, warnings };
}

/** Parses one instruction line (also ONBUILD's trigger). */
export function nodeFromLine(line: string, escape: string, startLine: number, endLine: number): Node {
  const trimmed = line.trim();
  const space = /[ \t]+/.exec(trimmed);
  const keyword = space ? trimmed.slice(0, space.index) : trimmed;
  const afterKeyword = space ? trimmed.slice(space.index + space[0].length) : '';
  const cmd = keyword.toLowerCase();
  const { flags, rest } = extractFlags(afterKeyword);
  const node: Node = { cmd, original: trimmed, startLine, endLine, flags, args: [], json: false };
  const splitter = SPLITTERS[cmd];
  if (!splitter) {
    // Unknown instructions are reported with their line by instructions.ts, as dockerd does.
    node.args = rest === '' ? [] : [rest];
    return node;
  }
  splitter(node, rest.trim(), escape);
  return node;
}

/** The leading `--flag[=value]` words; quotes inside a flag word are kept for later expansion. */
function extractFlags(text: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t')) pos++;
    if (!text.startsWith('--', pos)) break;
    let end = pos;
    let quote = '';
    while (end < text.length) {
      const ch = text[end]!;
      if (quote) {
        if (ch === quote) quote = '';
      } else if (ch === '"' || ch === "'") {
        quote = ch;
      } else if (ch === ' ' || ch === '\t') {
        break;
      }
      end++;
    }
    flags.push(text.slice(pos, end));
    pos = end;
  }
  return { flags, rest: text.slice(pos) };
}

type Splitter = (node: Node, rest: string, escape: string) => void;

/** `["a", "b"]`: only an array of strings is exec form; anything else is shell form. */
export function parseJsonArray(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(rest);
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  } catch {
    // Not JSON: shell form.
  }
  return undefined;
}

const maybeJson: Splitter = (node, rest) => {
  const json = parseJsonArray(rest);
  if (json) {
    node.args = json;
    node.json = true;
  } else if (rest !== '') {
    node.args = [rest];
  }
};

const whitespaceList: Splitter = (node, rest) => {
  node.args = rest === '' ? [] : rest.split(/[ \t]+/);
};

const maybeJsonToList: Splitter = (node, rest, escape) => {
  const json = parseJsonArray(rest);
  if (json) {
    node.args = json;
    node.json = true;
  } else {
    whitespaceList(node, rest, escape);
  }
};

const wholeString: Splitter = (node, rest) => {
  node.args = rest === '' ? [] : [rest];
};

/**
 * Splits on unquoted whitespace, keeping quotes and escapes in the words: ProcessWord removes them
 * later, together with the variable substitution.
 */
export function splitWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let escaped = false;
  let inWord = false;
  for (const ch of rest) {
    if (escaped) {
      word += ch;
      escaped = false;
      continue;
    }
    if (ch === escape) {
      word += ch;
      escaped = true;
      inWord = true;
      continue;
    }
    if (quote) {
      if (ch === quote) quote = '';
      word += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      word += ch;
      inWord = true;
      continue;
    }
    if (ch === ' ' || ch === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    word += ch;
    inWord = true;
  }
  if (inWord) words.push(word);
  return words;
}

/** ENV and LABEL: `key=value ...`, or the legacy `KEY value with spaces`. Args alternate key, value. */
function nameValue(instruction: string): Splitter {
  return (node, rest, escape) => {
    if (rest === '') return;
    const words = splitWords(rest, escape);
    if (!words[0]!.includes('=')) {
      // Legacy form: the first word is the name, the rest of the line the value.
      const value = rest.slice(rest.indexOf(words[0]!) + words[0]!.length).trim();
      if (value === '') throw new DockerfileParseError(`${instruction} must have two arguments`);
      node.args = [words[0]!, value];
      return;
    }
    for (const word of words) {
      const eq = word.indexOf('=');
      if (eq < 0) throw new DockerfileParseError(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
      node.args.push(word.slice(0, eq), word.slice(eq + 1));
    }
  };
}

/** ARG: `name` or `name=value`, several per line. */
const nameOrNameValue: Splitter = (node, rest, escape) => {
  node.args = rest === '' ? [] : splitWords(rest, escape);
};

/** HEALTHCHECK: its type (CMD, NONE), then CMD's command in JSON or shell form. */
const healthcheck: Splitter = (node, rest) => {
  if (rest === '') return;
  const m = /^(\S+)[ \t]*(.*)$/s.exec(rest)!;
  const typ = m[1]!;
  node.args = [typ];
  if (typ.toUpperCase() === 'CMD') {
    const sub: Node = { ...node, args: [], json: false };
    maybeJson(sub, m[2]!.trim(), '\\');
    node.args.push(...sub.args);
    node.json = sub.json;
  } else if (m[2]!.trim() !== '') {
    node.args.push(...m[2]!.trim().split(/[ \t]+/));
  }
};

/** ONBUILD: the trigger is an instruction of its own. */
const onbuild: Splitter = (node, rest, escape) => {
  if (rest === '') return;
  node.sub = nodeFromLine(rest, escape, node.startLine, node.endLine);
  node.args = [rest];
};

const SPLITTERS: Record<string, Splitter> = {
  add: maybeJsonToList,
  arg: nameOrNameValue,
  cmd: maybeJson,
  copy: maybeJsonToList,
  entrypoint: maybeJson,
  env: nameValue('ENV'),
  expose: whitespaceList,
  from: whitespaceList,
  healthcheck,
  label: nameValue('LABEL'),
  maintainer: wholeString,
  onbuild,
  run: maybeJson,
  shell: maybeJson,
  stopsignal: wholeString,
  user: wholeString,
  volume: maybeJsonToList,
  workdir: wholeString,
};
