/**
 * The unit suites (`npm run test:unit`, part of `npm test`): every folder with a
 * vitest.config.ts (the npm workspaces that have tests, test/, scripts/) but
 * e2e/, as vitest projects of one run (scripts/test-suites.mjs finds them). Each
 * project keeps its own configuration (timeouts, environment), and
 * `npm test -w <workspace>` still runs one alone. No Docker: the Docker-backed
 * suites are e2e/'s (e2e/vitest.config.ts).
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { unitProjects } from './scripts/test-suites.mjs';

export default defineConfig({
  test: {
    projects: unitProjects(fileURLToPath(new URL('.', import.meta.url))),
    // Most unit files wait, not compute: on timeouts they prove, on the child
    // processes and loopback servers they start. Vitest's default (one worker
    // fewer than the cores: one on a 2-core machine) ran them one after another
    // in 1 min 46 s; two workers a core overlap the waits (38 s on the same machine).
    maxWorkers: Math.max(4, 2 * availableParallelism()),
    // One report for scripts/test-summary.mjs (a projects run uses no project's reporters).
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/unit.json' },
  },
});
