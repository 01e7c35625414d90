// Which test suites exist, found from the files so that a new one cannot be left
// out: read by vitest.config.ts (the unit run) and scripts/test-summary.mjs (which
// checks that each ran). e2e/vitest.config.ts finds the Docker-backed suites by
// the same rule, e2e/*.test.ts.
import { globSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The unit projects: every folder one or two levels down holding a vitest.config.ts
 * (the workspaces, test/, scripts/), but e2e/, whose suites need Docker.
 * @param {string} root the repository's root folder
 * @returns {string[]} folders relative to root, sorted
 */
export function unitProjects(root) {
  return globSync('{*,*/*}/vitest.config.ts', { cwd: root })
    .map((file) => dirname(file).split('\\').join('/'))
    .filter((folder) => folder !== 'e2e' && !folder.split('/').includes('node_modules'))
    .sort();
}

/**
 * The Docker-backed suites: e2e/*.test.ts.
 * @param {string} root the repository's root folder
 * @returns {string[]} paths relative to root, sorted
 */
export function e2eSuites(root) {
  return readdirSync(join(root, 'e2e'))
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => `e2e/${file}`)
    .sort();
}
