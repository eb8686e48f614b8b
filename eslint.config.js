// Lint keeps the layers of DESIGN.md pointing one way:
//   app: renderer → (preload API) → main; renderer and main share only app/shared.
//   berthd: api → engine → {graph, container, distribution, drivers}; drivers never import api.
import tseslint from 'typescript-eslint';

const notDaemon = { group: ['**/daemon/**'], message: 'The app talks to berthd over the Engine API, never by importing it.' };
const notApp = { group: ['**/app/**'], message: 'berthd does not import the app.' };

const restrict = (files, patterns) => ({
  files,
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'vm-image/out/**', 'test-artifacts/**', '**/*.generated.ts', '**/*.d.ts'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Each file matches one block only: a later block would replace an earlier one's patterns.
  restrict(['app/renderer/**'], [
    { group: ['**/main/**', '**/main', '**/preload/**', 'electron', 'node:*'], message: 'The renderer reaches main only through window.berth (app/shared types).' },
    notDaemon,
  ]),
  restrict(['app/main/**'], [{ group: ['**/renderer/**', '**/renderer'], message: 'Main never imports renderer code; share types through app/shared.' }, notDaemon]),
  restrict(['app/shared/**'], [{ group: ['**/main/**', '**/renderer/**', '**/preload/**', 'electron', 'node:*'], message: 'app/shared is pure: types and helpers usable by every layer.' }, notDaemon]),
  restrict(['app/preload/**'], [{ group: ['**/renderer/**', '**/main/**'], message: 'Preload exposes app/shared\'s contract; it imports neither main nor renderer.' }, notDaemon]),
  restrict(['daemon/src/drivers/**', 'daemon/src/graph/**', 'daemon/src/container/**', 'daemon/src/distribution/**', 'daemon/src/builder/**'], [
    { group: ['**/api/**', '**/api'], message: 'Components and drivers never import the API layer: the API calls the Engine, the Engine calls them.' },
    notApp,
  ]),
  restrict(['daemon/src/engine/**'], [{ group: ['**/api/**', '**/api'], message: 'The Engine does not know HTTP: it runs jobs for the API layer.' }, notApp]),
  restrict(['daemon/src/api/**', 'daemon/src/*.ts'], [notApp]),
);
