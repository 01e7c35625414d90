/**
 * The unit suites (`npm run test:unit`, part of `npm test`): every folder with a
 * vitest.config.ts (the npm workspaces that have tests, test/, scripts/) but
 * e2e/, as vitest projects of one run (scripts/test-suites.mjs finds them). Each
 * project keeps its own configuration (timeouts, environment), and
 * `npm test -w <workspace>` still runs one alone. No Docker: the Docker-backed
 * suites are e2e/'s (e2e/vitest.config.ts).
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
