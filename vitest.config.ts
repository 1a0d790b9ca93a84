import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Two cores: real-server tests are I/O bound, so a small fork pool keeps the suite quick without starving timers.
    pool: 'forks',
    maxWorkers: 2,
  },
});
