/**
 * The development loop: the dev stack (docker-compose.yml) on a private copy of
 * the repository; time from saving a .ts file in the bind mount to the first
 * response through the gateway that shows the change.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caBundleEnv } from '@stagecraft/testkit/ca-bundle';
import { mustCompose, type ComposeProject } from '@stagecraft/testkit/compose';
import { copyRepository } from '@stagecraft/testkit/repository';
import { median } from '@stagecraft/testkit/stats';
import { poll, sleep } from '@stagecraft/testkit/wait';
import { log } from './log.js';

const PROJECT = 'stagecraft-bench-dev';
const GATEWAY = 18194;

export interface DevLoopFigures {
  medianMs: number;
  edits: number;
  allMs: number[];
}

export async function measureDevLoop(quick: boolean): Promise<DevLoopFigures> {
  const copy = copyRepository('stagecraft-bench-dev-');
  const project: ComposeProject = {
    project: PROJECT,
    files: ['docker-compose.yml'],
    cwd: copy,
    env: { ...caBundleEnv(), GATEWAY_PORT: String(GATEWAY), PROMETHEUS_PORT: '18195', INSPECT_PORT: '18196' },
  };
  const compose = (...args: string[]) => mustCompose(project, ...args);
  try {
    compose('down', '-v', '--remove-orphans');
    log('dev loop: starting the development stack');
    compose('up', '-d', '--build', '--wait', '--wait-timeout', '240');
    const file = join(copy, 'services/api/src/http/ops-routes.ts');
    const original = readFileSync(file, 'utf8');
    const anchor = "res.json({ status: 'ok' });";
    if (!original.includes(anchor)) throw new Error(`${file} no longer holds ${anchor}`);
    const edits = quick ? 3 : 10;
    const times: number[] = [];
    for (let i = 0; i < edits; i++) {
      const marker = `bench-${i}-${Date.now()}`;
      const saved = performance.now();
      writeFileSync(file, original.replace(anchor, `res.json({ status: 'ok', edit: '${marker}' });`));
      await poll(
        `edit ${i + 1} to show through the gateway`,
        async () =>
          (await fetch(`http://127.0.0.1:${GATEWAY}/healthz`).then((r) => r.text())).includes(marker) ||
          undefined,
        60_000,
        20,
      );
      times.push(performance.now() - saved);
      log(`dev loop: edit ${i + 1}/${edits} showed after ${times.at(-1)!.toFixed(0)} ms`);
      await sleep(1_500); // let the restarted process settle before the next save
    }
    return { medianMs: median(times), edits, allMs: times.map((t) => Math.round(t)) };
  } finally {
    try {
      compose('down', '-v', '--remove-orphans');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
}
