/**
 * The API's storage and HTTP tests again, on PostgreSQL (`npm run test:postgres`,
 * part of `npm run test:all` through e2e/api-postgres.test.ts): one throw-away
 * cluster on 127.0.0.1 from Debian's postgresql binaries for the run
 * (test/helpers/postgres-setup.ts), a database per store a test opens. Not part
 * of `npm test` (vitest.config.ts): that needs nothing but Node, in the dev
 * container and the image's test stage too, while this needs a database server.
 * The files that test SQLite's own behaviour (a full disk, WAL, two processes on
 * one file, the volume's free space) stay SQLite's; test/storage/postgres-*
 * test PostgreSQL's own (restarts, timeouts, two replicas migrating at once).
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/storage/store-contract.test.ts',
      'test/storage/postgres-*.test.ts',
      'test/http/**/*.test.ts',
    ],
    exclude: ['test/http/readiness-metrics.test.ts'],
    globalSetup: ['test/helpers/postgres-setup.ts'],
    env: {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --conditions=development`.trim(),
      STAGECRAFT_TEST_STORE: 'postgres',
    },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: '../../test-results/api-postgres.json' }]],
  },
});
