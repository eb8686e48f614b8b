// The `changes` of docker import and commit: Dockerfile instructions applied to an image config
// (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR), as dockerd's
// BuildFromConfig allows them.
import type { ContainerConfig } from './interfaces';
import { invalidParameter } from '../errors';

const ALLOWED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

/** A JSON array form, or undefined when the text is the shell form. */
function jsonArray(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  } catch {
    // Not JSON: the shell form.
  }
  return undefined;
}

/** Splits `a=b "c d"=e` or the legacy `KEY value` forms of ENV and LABEL. */
function keyValues(instruction: string, text: string): [string, string][] {
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '\\' && i + 1 < text.length) cur += text[++i];
    else if (/\s/.test(ch)) {
      if (cur !== '') words.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') words.push(cur);
  if (words.length === 0) throw invalidParameter(`${instruction} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    const space = text.trim().search(/\s/);
    if (space < 0) throw invalidParameter(`${instruction} must have two arguments`);
    return [[text.trim().slice(0, space), text.trim().slice(space).trim()]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw invalidParameter(`${instruction} names can not be blank`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

export function applyChanges(config: ContainerConfig, changes: string[]): ContainerConfig {
  const out: ContainerConfig = { ...config };
  for (const line of changes) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(trimmed)!;
    const instruction = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (!ALLOWED.includes(instruction)) throw invalidParameter(`${m[1]} is not a valid change command`);
    switch (instruction) {
      case 'CMD':
        out.Cmd = jsonArray(rest) ?? ['/bin/sh', '-c', rest];
        break;
      case 'ENTRYPOINT':
        out.Entrypoint = jsonArray(rest) ?? ['/bin/sh', '-c', rest];
        break;
      case 'ENV': {
        const env = [...(out.Env ?? [])];
        for (const [k, v] of keyValues('ENV', rest)) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        out.Env = env;
        break;
      }
      case 'LABEL':
        out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(keyValues('LABEL', rest)) };
        break;
      case 'EXPOSE': {
        const ports = { ...(out.ExposedPorts ?? {}) };
        for (const p of rest.split(/\s+/)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw invalidParameter(`invalid containerPort: ${p}`);
          ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        out.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(out.Volumes ?? {}) };
        for (const v of jsonArray(rest) ?? rest.split(/\s+/)) vols[v] = {};
        out.Volumes = vols;
        break;
      }
      case 'ONBUILD':
        out.OnBuild = [...(out.OnBuild ?? []), rest];
        break;
      case 'STOPSIGNAL':
        out.StopSignal = rest;
        break;
      case 'USER':
        out.User = rest;
        break;
      case 'WORKDIR':
        out.WorkingDir = rest.startsWith('/') ? rest : `${out.WorkingDir || '/'}${(out.WorkingDir ?? '/').endsWith('/') ? '' : '/'}${rest}`;
        break;
    }
  }
  return out;
}
