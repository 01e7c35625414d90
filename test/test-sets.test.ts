/**
 * No proof is dropped from `npm run test:all`: every *.process.test.ts and
 * *.memory.test.ts runs in `npm run test:proofs` (vitest.proofs.config.ts), and
 * none in `npm test`'s unit run (vitest.config.ts), so that `npm test` stays
 * fast. (That every unit project ran at all, scripts/test-summary.mjs checks.) The file lists are vitest's own (`vitest list`), not a
 * copy of the configurations' rules.
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// The rule itself, from where the configurations read it (a JavaScript module without types).
const suites: string = new URL('../scripts/test-suites.mjs', import.meta.url).href;
const { proofSuffixes } = (await import(suites)) as { proofSuffixes: string[] };

/** The files one root configuration runs, relative to the repository. */
function listed(config: string): string[] {
  const result = spawnSync(
    join(ROOT, 'node_modules/.bin/vitest'),
    ['list', '--filesOnly', '--json', '--config', config],
    { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
  );
  if (result.status !== 0) throw new Error(`vitest list --config ${config}: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { file: string }[]).map((f) => relative(ROOT, f.file)).sort();
}

const unit = listed('vitest.config.ts');
const proofs = listed('vitest.proofs.config.ts');
// Every *.process.test.ts and *.memory.test.ts on disk, found here on its own.
const proofsOnDisk = globSync('**/*.{process,memory}.test.ts', {
  cwd: ROOT,
  exclude: (path) => path === 'node_modules' || path === 'e2e' || path === '.git',
}).sort();

describe('the two unit runs', () => {
  it('run every *.process.test.ts and *.memory.test.ts, in `npm run test:proofs`', () => {
    expect(proofsOnDisk.length).toBeGreaterThan(0);
    expect(proofsOnDisk.every((f) => proofSuffixes.some((s) => f.endsWith(s)))).toBe(true);
    expect(proofs).toEqual(proofsOnDisk);
  });

  it('leave them out of `npm test`, and share no file', () => {
    expect(unit.filter((f) => proofs.includes(f))).toEqual([]);
    expect(unit.filter((f) => proofSuffixes.some((s) => f.endsWith(s)))).toEqual([]);
  });
});
