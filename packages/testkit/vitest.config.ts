// The testkit's own unit tests: pure functions, and the clients against servers on 127.0.0.1.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real loopback servers, child processes and timed waits on a shared 2-core machine.
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // The JSON report feeds the one-line summary .ci/run prints (scripts/test-summary.mjs).
    reporters: ['default', ['json', { outputFile: '../../test-results/testkit.json' }]],
  },
});
