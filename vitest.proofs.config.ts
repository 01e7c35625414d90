/**
 * The proofs (`npm run test:proofs`, part of `npm run test:all`, not of
 * `npm test`): the unit projects' *.process.test.ts and *.memory.test.ts files
 * (scripts/test-suites.mjs says why), each in its own project's configuration.
 * Whole processes streaming hundreds of megabytes, counting 10 MB pages under a
 * heap limit, shutting down past a stalled collector: CPU-heavy, so they run
 * two at a time (--maxWorkers=2 in the npm script), after `npm test`.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { projectConfigs } from './scripts/test-suites.mjs';

export default defineConfig({
  test: {
    projects: await projectConfigs(fileURLToPath(new URL('.', import.meta.url)), 'proofs'),
    // Its own report for scripts/test-summary.mjs.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/proofs.json' },
  },
});
