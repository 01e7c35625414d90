import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Child processes (the health check, the OpenAPI linter) on slow machines.
    testTimeout: 60_000,
    hookTimeout: 20_000,
    // The JSON report feeds the one-line summary .ci/run prints (scripts/test-summary.mjs).
    reporters: ['default', ['json', { outputFile: '../../test-results/contract.json' }]],
  },
});
