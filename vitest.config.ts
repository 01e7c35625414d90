/**
 * The unit suites (`npm run test:unit`, part of `npm test`): every folder with a
 * vitest.config.ts (the npm workspaces that have tests, test/, scripts/) but
 * e2e/, as vitest projects of one run (scripts/test-suites.mjs finds them), but
 * the proofs (*.process.test.ts, *.memory.test.ts: vitest.proofs.config.ts runs
 * them). Each project keeps its own configuration (timeouts, environment), and
 * `npm test -w <workspace>` still runs one whole, proofs included. No Docker:
 * the Docker-backed suites are e2e/'s (e2e/vitest.config.ts).
 *
 * Workers: `npm run test:unit` passes --maxWorkers=4, two a core on the 2-core
 * machines this runs on. Most unit files wait rather than compute (on the
 * timeouts they prove, on the child processes and loopback servers they start).
 * A number, not a share: vitest 5 caps a percentage at the core count
 * (--maxWorkers=200% gave 2). It is a command-line option because each project
 * resolves its own maxWorkers: a value here would not reach them.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { projectConfigs } from './scripts/test-suites.mjs';

/**
 * The longest files first across all projects (by the last run's times; a file
 * never timed first of all). vitest's own order runs the projects one after
 * another, so the sidecar's slow files started when the API's were done and the
 * run ended on them alone.
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const ms = (spec: TestSpecification) =>
      this.ctx.cache.getTestSpecificationResult(spec)?.duration ?? Number.POSITIVE_INFINITY;
    return ordered.sort((a, b) => ms(b) - ms(a) || 0);
  }
}

export default defineConfig({
  test: {
    projects: await projectConfigs(fileURLToPath(new URL('.', import.meta.url)), 'unit'),
    sequence: { sequencer: LongestFirst },
    // One report for scripts/test-summary.mjs (a projects run uses no project's reporters).
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/unit.json' },
  },
});
