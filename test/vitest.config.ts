import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('.', import.meta.url).pathname,
    include: ['**/*.test.ts'],
    // The JSON report feeds the one-line summary (scripts/test-summary.mjs).
    reporters: ['default', ['json', { outputFile: '../test-results/repository.json' }]],
  },
});
