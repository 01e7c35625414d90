/**
 * The Docker-backed suites (`npm run test:e2e`): every e2e/*.test.ts, found by
 * its name, so a new suite cannot be left out. One exception: the Swarm suite
 * (swarm.test.ts) initialises a single-node swarm when this machine is in none,
 * so it runs only when asked for with STAGECRAFT_SWARM=1 (`npm run test:swarm`,
 * `npm run test:all`, `./stagecraft test`); otherwise one line at the end says
 * it was not run. Inside the dev container (no Docker engine) nothing runs: one
 * line says to run them on the host.
 */
import { defineConfig } from 'vitest/config';

const SWARM_SUITE = 'swarm.test.ts';
const swarm = process.env.STAGECRAFT_SWARM === '1';

if (process.env.STAGECRAFT_DEVCONTAINER === '1') {
  console.error(
    'e2e: the Docker-backed suites run on the host, not in the dev container (it has no Docker engine): run npm run test:e2e in a terminal on the host',
  );
  process.exit(1);
}

export default defineConfig({
  test: {
    root: new URL('.', import.meta.url).pathname,
    include: ['*.test.ts'],
    exclude: swarm ? [] : [SWARM_SUITE],
    // Image builds and container start-ups on a 2-core machine.
    testTimeout: 600_000,
    hookTimeout: 900_000,
    // One Docker engine: files run one after another. A failing file does not
    // stop the next: every suite runs, and the run fails if any failed.
    fileParallelism: false,
    // One report for every suite, read by scripts/test-summary.mjs.
    reporters: [
      'default',
      'json',
      {
        onTestRunEnd: () => {
          if (!swarm)
            console.log(
              'Swarm suite not run: it initialises a single-node swarm when none exists; run npm run test:swarm or ./stagecraft test',
            );
        },
      },
    ],
    outputFile: { json: '../test-results/e2e.json' },
  },
});
