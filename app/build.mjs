// Builds the app's browser and Electron bundles (called from scripts/build.mjs, which builds the
// Node entries such as `berth web`):
//   dist/renderer/   index.html (Electron), web.html (web mode), app.js, app.css, web-bridge.js
//   dist/app/        main.mjs (Electron main), preload.cjs (sandboxed preload: CommonJS)
import { build } from 'esbuild';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = (p) => path.join(root, 'dist', p);
const common = { bundle: true, sourcemap: 'linked', logLevel: 'warning', legalComments: 'none' };

const page = (title, scripts) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'">
<title>${title}</title>
<link rel="stylesheet" href="app.css">
</head>
<body>
<div id="root"></div>
${scripts.map((s) => `<script src="${s}"></script>`).join('\n')}
</body>
</html>
`;

await mkdir(out('renderer'), { recursive: true });
await Promise.all([
  build({
    ...common,
    entryPoints: { app: path.join(root, 'app/renderer/main.tsx'), 'web-bridge': path.join(root, 'app/preload/web-bridge.ts') },
    outdir: out('renderer'),
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    jsx: 'automatic',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.woff2': 'file', '.svg': 'file' },
  }),
  build({
    ...common,
    entryPoints: [path.join(root, 'app/main/electron.ts')],
    outfile: out('app/main.mjs'),
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: ['electron'],
    banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
  }),
  build({
    ...common,
    entryPoints: [path.join(root, 'app/preload/electron-preload.ts')],
    outfile: out('app/preload.cjs'),
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['electron'],
  }),
  writeFile(out('renderer/index.html'), page('Berth', ['app.js'])),
  writeFile(out('renderer/web.html'), page('Berth', ['web-bridge.js', 'app.js'])),
]);
