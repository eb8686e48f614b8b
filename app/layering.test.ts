// The app's layers, checked on every test run (VS Code's "bad layering" rule, as a test):
//   shared   → nothing but shared (pure: no Node built-ins, no DOM, no packages)
//   renderer → shared, browser packages; never main or Node
//   preload  → shared (and electron for the Electron preload)
//   main     → shared, Node, packages; never renderer
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const appDir = path.dirname(fileURLToPath(import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(ts|tsx)$/.test(name) && !/\.test\.tsx?$/.test(name) ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] ?? m[2]!);
}

/** Which layer a resolved import lands in, or the kind of module it is. */
function target(file: string, spec: string): string {
  if (spec.startsWith('.')) {
    const rel = path.relative(appDir, path.resolve(path.dirname(file), spec));
    return rel.startsWith('..') ? 'outside-app' : rel.split(path.sep)[0]!;
  }
  if (spec.startsWith('node:')) return 'node';
  return `package:${spec}`;
}

const violations = (layer: string, allowed: (t: string, file: string) => boolean): string[] =>
  sources(path.join(appDir, layer)).flatMap((file) =>
    imports(file).map((spec) => ({ spec, t: target(file, spec) })).filter(({ t }) => !allowed(t, file)).map(({ spec }) => `${path.relative(appDir, file)} imports ${spec}`));

describe('app layering', () => {
  it('keeps shared pure: it imports only shared', () => {
    expect(violations('shared', (t) => t === 'shared')).toEqual([]);
  });

  it('keeps the renderer in the browser: no main, no preload, no Node', () => {
    expect(violations('renderer', (t) => t === 'shared' || t === 'renderer' || (t.startsWith('package:') && !/^package:(electron|ws)$/.test(t)))).toEqual([]);
  });

  it('keeps preload to the contract', () => {
    expect(violations('preload', (t, file) => t === 'shared' || (t === 'package:electron' && file.endsWith('electron-preload.ts')))).toEqual([]);
  });

  it('keeps main out of the renderer and preload', () => {
    expect(violations('main', (t) => t !== 'renderer' && t !== 'preload' && t !== 'outside-app')).toEqual([]);
  });
});
