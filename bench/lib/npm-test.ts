/**
 * How long the day-to-day check takes: `npm test` (lint, types, unit suites; no
 * Docker) in this repository, run once to warm its caches (eslint's,
 * prettier's, tsc's incremental state) and then timed, as a developer runs it
 * again after an edit. CPU is the children's user + system time, read from
 * /proc/self/stat after npm has exited and been waited for.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { log } from './log.js';

export interface NpmTestFigures {
  /** Wall seconds of the timed (warm) run. */
  warmSeconds: number;
  /** CPU seconds of the timed run: every process it started. */
  cpuSeconds: number;
  /** Wall seconds of the first run, whatever the caches held. */
  firstSeconds: number;
}

/** Children's CPU so far (cutime + cstime), in seconds; Linux's clock tick is 100 Hz. */
export function childrenCpuSeconds(stat: string): number {
  // Fields after the command name in parentheses, which may itself hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // cutime and cstime are fields 16 and 17 of the whole line: 14 and 15 here.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function run(): { seconds: number; cpuSeconds: number } {
  const cpuBefore = childrenCpuSeconds(readFileSync('/proc/self/stat', 'utf8'));
  const started = performance.now();
  const result = spawnSync('npm', ['test'], { cwd: REPO_ROOT, stdio: 'ignore' });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`npm test failed (status ${result.status}): run it to see why`);
  return { seconds, cpuSeconds: childrenCpuSeconds(readFileSync('/proc/self/stat', 'utf8')) - cpuBefore };
}

export function measureNpmTest(): NpmTestFigures {
  log('npm test: a first run to warm the caches');
  const first = run();
  log(`npm test: first run ${first.seconds.toFixed(1)} s; now the timed run`);
  const warm = run();
  log(`npm test: ${warm.seconds.toFixed(1)} s (CPU ${warm.cpuSeconds.toFixed(1)} s)`);
  return { warmSeconds: warm.seconds, cpuSeconds: warm.cpuSeconds, firstSeconds: first.seconds };
}
