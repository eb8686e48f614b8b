import { defineConfig } from 'vitest/config';

// Unit tests sit beside their code; end-to-end tests (real berthd, docker CLI, Chromium) live in e2e/.
// Two cores here: e2e files start daemons and containers, so they run at most two at a time.
export default defineConfig({
  test: {
    include: ['daemon/**/*.test.ts', 'app/**/*.test.ts', 'e2e/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
