import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // PostgreSQL's own tests need a database server: vitest.postgres.config.ts runs them.
    exclude: ['test/storage/postgres-*.test.ts'],
    // Vite resolves @stagecraft/contract to its TypeScript sources (the package's
    // "development" export); the processes the tests start (src/main.ts under tsx)
    // are told the same condition, so no test needs the package built first.
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --conditions=development`.trim() },
    // Fixture servers, child processes and SQLite files: give slow machines room.
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // The JSON report feeds the one-line summary .ci/run prints (scripts/test-summary.mjs).
    reporters: ['default', ['json', { outputFile: '../../test-results/api.json' }]],
  },
});
