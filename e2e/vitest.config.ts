import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('.', import.meta.url).pathname,
    include: ['**/*.test.ts'],
    // Image builds and container start-ups on a 2-core machine.
    testTimeout: 600_000,
    hookTimeout: 900_000,
    // One Docker engine: files run one after another.
    fileParallelism: false,
    // Each suite names its own JSON report (package.json scripts), so none overwrites another.
    reporters: ['default', 'json'],
    outputFile: { json: '../test-results/e2e.json' },
  },
});
