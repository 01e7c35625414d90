/**
 * The unit suites (`npm run test:unit`, part of `npm test`): every folder with a
 * vitest.config.ts (the npm workspaces that have tests, test/, scripts/) but
 * e2e/, as vitest projects of one run (scripts/test-suites.mjs finds them). Each
 * project keeps its own configuration (timeouts, environment), and
 * `npm test -w <workspace>` still runs one alone. No Docker: the Docker-backed
 * suites are e2e/'s (e2e/vitest.config.ts).
 *
 * Workers: `npm run test:unit` passes --maxWorkers=200%, two a core. Most unit
 * files wait rather than compute (on the timeouts they prove, on the child
 * processes and loopback servers they start); vitest's default, one worker
 * fewer than the cores, ran them one after another on a 2-core machine (1 min
 * 46 s, against 38 s with four). It is a command-line option because each
 * project resolves its own maxWorkers: a value here would not reach them.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { unitProjects } from './scripts/test-suites.mjs';

export default defineConfig({
  test: {
    projects: unitProjects(fileURLToPath(new URL('.', import.meta.url))),
    // One report for scripts/test-summary.mjs (a projects run uses no project's reporters).
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/unit.json' },
  },
});
