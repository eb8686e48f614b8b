// Bundles berthd (and, as they land, the app's main process and web mode) with esbuild.
// One self-contained file per entry keeps start-up fast and lets the VM image carry berthd as is.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// ESM bundles that contain CommonJS dependencies need a real `require` for Node built-ins.
const banner = { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" };

// berthd is CommonJS: under a VM's emulated CPU, Node's ES module loader alone costs a few tenths of
// a second of its start. In one CommonJS file, esbuild also defers each module reached only through
// import() (berthd's components, loaded once its API listens), with the built-in modules it requires.
const cjs = { banner: { js: "const __berthdUrl = require('node:url').pathToFileURL(__filename).href;" }, define: { 'import.meta.url': '__berthdUrl' } };
const entries = [
  { in: 'daemon/src/main.ts', out: 'dist/berthd.cjs', format: 'cjs', ...cjs },
  { in: 'app/main/web/main.ts', out: 'dist/berth-web.mjs' },
  { in: 'app/main/vm/berth-main.ts', out: 'dist/berth.mjs' },
];

await Promise.all(entries.map((e) => build({
  entryPoints: [path.join(root, e.in)],
  outfile: path.join(root, e.out),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: e.format ?? 'esm',
  sourcemap: 'linked',
  banner: e.banner ?? banner,
  define: e.define,
  logLevel: 'warning',
})));

// The app's renderer, preload and Electron main (browser and CommonJS targets).
await import('../app/build.mjs');
