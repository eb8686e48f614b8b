// The packaging config (electron-builder.yml) checked the way CI can: `electron-builder --linux dir`
// with a stub Electron, since the Electron binary cannot be downloaded here. What must be in the
// package: the app's bundles in app.asar (and no node_modules: everything is bundled), berthd and
// the shim, and the VM image.
import { beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from './berthd';

const out = path.join(repoRoot, 'out', 'package', 'linux-unpacked');

/** The file names inside an asar archive (its header is JSON after a 16-byte prefix). */
function asarFiles(file: string): string[] {
  const buf = readFileSync(file);
  const header = JSON.parse(buf.subarray(16, 16 + buf.readUInt32LE(12)).toString()) as { files: Record<string, unknown> };
  const names: string[] = [];
  const walk = (node: { files?: Record<string, unknown> }, prefix: string) => {
    for (const [name, child] of Object.entries(node.files ?? {})) {
      const p = `${prefix}/${name}`;
      if ((child as { files?: unknown }).files) walk(child as { files: Record<string, unknown> }, p);
      else names.push(p);
    }
  };
  walk(header, '');
  return names;
}

beforeAll(() => {
  // The VM image is an extra resource: build it (cached; serialised with the VM test's build).
  execFileSync('bash', [path.join(repoRoot, 'vm-image', 'build.sh')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 280_000 });
  const stub = mkdtempSync(path.join(tmpdir(), 'berth-electron-stub-'));
  writeFileSync(path.join(stub, 'electron'), '#!/bin/sh\necho stub electron\n');
  chmodSync(path.join(stub, 'electron'), 0o755);
  mkdirSync(path.join(stub, 'resources'));
  rmSync(out, { recursive: true, force: true });
  try {
    execFileSync(path.join(repoRoot, 'node_modules', '.bin', 'electron-builder'), ['--linux', 'dir', `-c.electronDist=${stub}`, '-c.electronVersion=41.10.0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], timeout: 280_000, env: { ...process.env, CI: 'true' } });
  } finally {
    rmSync(stub, { recursive: true, force: true });
  }
}, 600_000);

it('packages the Electron bundles, and no node_modules, in app.asar', () => {
  const files = asarFiles(path.join(out, 'resources', 'app.asar'));
  for (const f of ['/package.json', '/dist/app/main.mjs', '/dist/app/preload.cjs', '/dist/renderer/index.html', '/dist/renderer/app.js']) expect(files).toContain(f);
  expect(files.filter((f) => f.startsWith('/node_modules/'))).toEqual([]);
  expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
  expect(JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).main).toBe('dist/app/main.mjs');
});

it('carries berthd, the shim and the VM image as extra resources', () => {
  const res = path.join(out, 'resources');
  for (const f of ['berthd/berthd.cjs', 'berthd/berth-shim', 'vm/vmlinux', 'vm/initrd.img', 'vm/rootfs.img', 'vm/manifest.json']) {
    expect(existsSync(path.join(res, f)), f).toBe(true);
  }
  expect(readFileSync(path.join(res, 'berthd', 'berthd.cjs'), 'utf8')).toContain('berthd has completed initialization');
});

it('names the executable after the product', () => {
  expect(existsSync(path.join(out, 'berth'))).toBe(true);
});
