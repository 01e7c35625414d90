/**
 * What the README promises of the package as a whole: one entry point a module,
 * no test framework inside, every module opening with what it is for, and no
 * service or contract source importing it (their images never ship it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/repository.js';

const SRC = new URL('../src/', import.meta.url).pathname;
const modules = readdirSync(SRC).filter((f) => f.endsWith('.ts'));

/** Every .ts file below `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

describe('@stagecraft/testkit', () => {
  it('resolves each module by its own name to its TypeScript source', async () => {
    expect(modules.length).toBeGreaterThan(5);
    for (const file of modules) {
      const name = file.replace(/\.ts$/, '');
      expect(import.meta.resolve(`@stagecraft/testkit/${name}`), name).toBe(`file://${join(SRC, file)}`);
    }
  });

  it('has no module that imports vitest, and none without a header comment', () => {
    for (const file of modules) {
      const text = readFileSync(join(SRC, file), 'utf8');
      expect(text, file).not.toMatch(/from ['"]vitest/);
      expect(text.startsWith('/**'), `${file} opens with a comment`).toBe(true);
    }
  });

  it('is imported by no source of a service or of a package the services ship', () => {
    const roots = [
      'services/api/src',
      'services/sidecar/src',
      'packages/contract/src',
      'packages/telemetry/src',
    ];
    const importers = roots
      .flatMap((root) => sources(join(REPO_ROOT, root)))
      .filter((file) => readFileSync(file, 'utf8').includes('@stagecraft/testkit'));
    expect(importers).toEqual([]);
  });
});
