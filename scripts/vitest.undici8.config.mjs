// Runs the undici adapter tests with `undici` resolved to undici 8 (see scripts/test-undici8.mjs).
import { defineConfig } from 'vitest/config';

const undiciPath = process.env.SWITCHYARD_UNDICI8_PATH;
if (!undiciPath) throw new Error('SWITCHYARD_UNDICI8_PATH is not set: run scripts/test-undici8.mjs');

export default defineConfig({
  resolve: { alias: [{ find: /^undici$/, replacement: undiciPath }] },
  test: {
    include: ['test/undici/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
