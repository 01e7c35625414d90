import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fixture servers, child processes and SQLite files: give slow machines room.
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // The JSON report feeds the one-line summary .ci/run prints (scripts/test-summary.mjs).
    reporters: ['default', ['json', { outputFile: '../../test-results/api.json' }]],
  },
});
