// Parsing the Run dialog's text fields into RunOptions, the way the docker CLI reads its flags.
// Pure (shared by the renderer and tests); errors are sentences for the person typing.
import type { RunOptions } from './views.js';

/** Splits a command line into words, honouring single and double quotes (no variable expansion). */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: '"' | "'" | null = null;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line[++i];
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += ch;
      started = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in "${line}"`);
  if (started) words.push(word);
  return words;
}

/** "8080:80", "8080:80/udp", "80" (engine picks the host port) — one per line or comma. */
export function parsePorts(text: string): NonNullable<RunOptions['ports']> {
  return words(text).map((spec) => {
    const m = /^(?:(\d{1,5}):)?(\d{1,5})(?:\/(tcp|udp))?$/.exec(spec);
    if (!m) throw new Error(`invalid port "${spec}": write HOST:CONTAINER, like 8080:80 or 5353:53/udp`);
    const hostPort = m[1] ? Number(m[1]) : 0;
    const containerPort = Number(m[2]);
    if (containerPort < 1 || containerPort > 65535 || hostPort > 65535) throw new Error(`invalid port "${spec}": ports go from 1 to 65535`);
    return { hostPort, containerPort, protocol: (m[3] ?? 'tcp') as 'tcp' | 'udp' };
  });
}

/** KEY=value lines; a line without "=" is refused (the CLI would copy it from its own environment). */
export function parseEnv(text: string): string[] {
  return lines(text).map((l) => {
    if (!/^[^=\s]+=/.test(l)) throw new Error(`invalid environment line "${l}": write KEY=value`);
    return l;
  });
}

/** -v forms: /host/path:/path, name:/path, with an optional :ro. */
export function parseVolumes(text: string): string[] {
  return lines(text).map((l) => {
    if (!/^[^:]+:\/[^:]*(:(ro|rw))?$/.test(l)) throw new Error(`invalid volume "${l}": write /host/path:/container/path or name:/container/path`);
    return l;
  });
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

function words(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}
