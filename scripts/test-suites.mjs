// Which test suites exist, found from the files so that a new one cannot be left
// out: read by vitest.config.ts (the unit run) and scripts/test-summary.mjs (which
// checks that each ran). e2e/vitest.config.ts finds the Docker-backed suites by
// the same rule, e2e/*.test.ts.
import { existsSync, globSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The proofs: unit files that prove a whole process holds up (its memory under a
 * 200 MB stream or a 10 MB page, its heap limit, its shutdown past a stalled
 * collector). They need no Docker but take most of the unit run's CPU, so
 * `npm test` leaves them to `npm run test:proofs` (vitest.proofs.config.ts),
 * which `npm run test:all` runs. A file is one by its name, and only by it:
 * test/test-sets.test.ts checks that each runs in exactly one of the two runs.
 */
export const proofSuffixes = ['.process.test.ts', '.memory.test.ts'];

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

/**
 * The proof files of the unit projects (see proofSuffixes).
 * @param {string} root the repository's root folder
 * @returns {string[]} paths relative to root, sorted
 */
export function proofFiles(root) {
  return unitProjects(root)
    .flatMap((folder) =>
      globSync(`${folder}/**/*{${proofSuffixes.join(',')}}`, { cwd: root }).map((f) =>
        f.split('\\').join('/'),
      ),
    )
    .filter((file) => !file.split('/').includes('node_modules'))
    .sort();
}

/**
 * The vitest projects of one run: each unit project's own vitest.config.ts, with
 * the proofs left out ('unit', `npm test`) or alone ('proofs', `npm run
 * test:proofs`). The project's include and exclude are rewritten rather than
 * merged (vitest's `extends` would add to them); its name is its own, or its
 * package's, as when vitest loads the folder.
 * @param {string} root the repository's root folder
 * @param {'unit' | 'proofs'} set which files
 */
export async function projectConfigs(root, set) {
  return Promise.all(
    unitProjects(root).map(async (folder) => {
      const dir = join(root, folder);
      const { default: config } = await import(pathToFileURL(join(dir, 'vitest.config.ts')).href);
      const test = config.test ?? {};
      const manifest = join(dir, 'package.json');
      const name =
        test.name ?? (existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).name : folder);
      const include = test.include ?? ['**/*.test.ts'];
      const exclude = test.exclude ?? ['**/node_modules/**', '**/.git/**'];
      const files =
        set === 'unit'
          ? { include, exclude: [...exclude, ...proofSuffixes.map((suffix) => `**/*${suffix}`)] }
          : {
              include: include.flatMap((p) =>
                proofSuffixes.map((suffix) => p.replace(/\*\.test\.ts$/, `*${suffix}`)),
              ),
              exclude,
            };
      return { ...config, test: { ...test, name, root: dir, ...files } };
    }),
  );
}
