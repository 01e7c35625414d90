import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Vite resolves @stagecraft/contract to its TypeScript sources (the package's
    // "development" export); the processes the tests start (src/main.ts under tsx)
    // are told the same condition, so no test needs the package built first.
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --conditions=development`.trim() },
    // Real upstream servers, 50 MB bodies and 10,000-request loops on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 20_000,
    // The JSON report feeds the one-line summary .ci/run prints (scripts/test-summary.mjs).
    reporters: ['default', ['json', { outputFile: '../../test-results/sidecar.json' }]],
  },
});
