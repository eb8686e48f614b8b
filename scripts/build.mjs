// Bundles berthd (and, as they land, the app's main process and web mode) with esbuild.
// One self-contained file per entry keeps start-up fast and lets the VM image carry berthd as is.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// ESM bundles that contain CommonJS dependencies need a real `require` for Node built-ins.
const banner = { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" };

const entries = [
  { in: 'daemon/src/main.ts', out: 'dist/berthd.mjs' },
  { in: 'app/main/web/main.ts', out: 'dist/berth-web.mjs' },
  { in: 'app/main/vm/berth-main.ts', out: 'dist/berth.mjs' },
];

await Promise.all(entries.map((e) => build({
  entryPoints: [path.join(root, e.in)],
  outfile: path.join(root, e.out),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  banner,
  logLevel: 'warning',
})));

// The app's renderer, preload and Electron main (browser and CommonJS targets).
await import('../app/build.mjs');
