/**
 * e2e/vitest.config.ts, as `npm run test:e2e` uses it, without running a suite:
 * every e2e/*.test.ts is found by its name, the Swarm suite only with
 * STAGECRAFT_SWARM=1 and one plain line when it is left out, and inside the dev
 * container nothing but one line saying the suites run on the host.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAsync } from '@stagecraft/testkit/command';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { describe, expect, it } from 'vitest';
import { e2eSuites } from '../test-suites.mjs';

const vitest = join(REPO_ROOT, 'node_modules/.bin/vitest');
const suites = e2eSuites(REPO_ROOT);
const SWARM_LEFT_OUT =
  'Swarm suite not run: it initialises a single-node swarm when none exists; run npm run test:swarm or ./stagecraft test';

const e2e = (args: string[], env: Record<string, string>) =>
  runAsync(vitest, [...args, '--config', 'e2e/vitest.config.ts'], {
    env: { STAGECRAFT_SWARM: '', STAGECRAFT_DEVCONTAINER: '', ...env },
  });

async function listed(env: Record<string, string>) {
  const result = await e2e(['list', '--filesOnly'], env);
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.trim().split('\n').sort();
}

describe('the Docker-backed suites', () => {
  it('are every e2e/*.test.ts, found by name; the Swarm suite only with STAGECRAFT_SWARM=1', async () => {
    expect(suites).toContain('e2e/swarm.test.ts');
    expect(await listed({ STAGECRAFT_SWARM: '1' })).toEqual(suites);
    expect(await listed({})).toEqual(suites.filter((s) => s !== 'e2e/swarm.test.ts'));
  });

  it('end with one plain line when the Swarm suite was left out, and none when it was asked for', async () => {
    const out = mkdtempSync(join(tmpdir(), 'stagecraft-e2e-config-'));
    try {
      // A filter no suite matches: the run ends at once, as a real one ends.
      const args = [
        'run',
        '--passWithNoTests',
        `--outputFile.json=${join(out, 'e2e.json')}`,
        'no-suite-has-this-name',
      ];
      const without = await e2e(args, {});
      expect(without.status, without.stderr).toBe(0);
      expect(without.stdout.trim().split('\n')).toContain(SWARM_LEFT_OUT);
      const asked = await e2e(args, { STAGECRAFT_SWARM: '1' });
      expect(asked.stdout).not.toContain('Swarm suite not run');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('inside the dev container, run nothing and say in one line that they run on the host', async () => {
    const result = await e2e(['run'], { STAGECRAFT_DEVCONTAINER: '1' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      'e2e: the Docker-backed suites run on the host, not in the dev container (it has no Docker engine): run npm run test:e2e in a terminal on the host',
    );
  });
});
