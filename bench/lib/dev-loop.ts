/**
 * The development loop, two ways, each on a private copy of the repository: the
 * dev stack (docker-compose.yml), whose sources are bind-mounted, and the same
 * stack under Compose Watch (docker-compose.watch.yml), which copies each save
 * into the container. Both time the same edit, the same number of times: from
 * saving a .ts file to the first response through the gateway that shows it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caBundleEnv } from '@stagecraft/testkit/ca-bundle';
import { composeUpWatch, mustCompose, type ComposeProject } from '@stagecraft/testkit/compose';
import { copyRepository } from '@stagecraft/testkit/repository';
import { median } from '@stagecraft/testkit/stats';
import { poll, sleep } from '@stagecraft/testkit/wait';
import { log } from './log.js';

export interface DevLoopFigures {
  medianMs: number;
  edits: number;
  allMs: number[];
  /**
   * Bind mounts only: seconds from the README's quick-start command
   * (`./stagecraft up`, here with `-d --wait`) to every container healthy, on
   * this machine as it is (engine, base images and build cache warm).
   */
  quickStartSeconds?: number;
}

/** Each loop's project and ports: its own, so neither can answer for the other. */
const LOOPS = {
  'bind mounts': {
    project: 'stagecraft-bench-dev',
    files: ['docker-compose.yml'],
    ports: [18194, 18195, 18196],
  },
  'Compose Watch': {
    project: 'stagecraft-bench-watch',
    files: ['docker-compose.yml', 'docker-compose.watch.yml'],
    ports: [18197, 18198, 18199],
  },
};
type Loop = keyof typeof LOOPS;

function projectFor(loop: Loop, copy: string): ComposeProject {
  const { project, files, ports } = LOOPS[loop];
  const [gateway, prometheus, inspect] = ports.map(String);
  return {
    project,
    files,
    cwd: copy,
    env: { ...caBundleEnv(), GATEWAY_PORT: gateway!, PROMETHEUS_PORT: prometheus!, INSPECT_PORT: inspect! },
  };
}

/** Saves the edit `edits` times in the running stack, timing each save to the response that shows it. */
async function timeEdits(loop: Loop, copy: string, quick: boolean): Promise<DevLoopFigures> {
  const gateway = LOOPS[loop].ports[0];
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
        (await fetch(`http://127.0.0.1:${gateway}/healthz`).then((r) => r.text())).includes(marker) ||
        undefined,
      60_000,
      20,
    );
    times.push(performance.now() - saved);
    log(`dev loop (${loop}): edit ${i + 1}/${edits} showed after ${times.at(-1)!.toFixed(0)} ms`);
    await sleep(1_500); // let the restarted process settle before the next save
  }
  return { medianMs: median(times), edits, allMs: times.map((t) => Math.round(t)) };
}

/** The bind-mount loop: `up -d --build --wait`, the edits, `down -v`. */
async function measureBindMounts(quick: boolean): Promise<DevLoopFigures> {
  const copy = copyRepository('stagecraft-bench-dev-');
  const project = projectFor('bind mounts', copy);
  const compose = (...args: string[]) => mustCompose(project, ...args);
  try {
    compose('down', '-v', '--remove-orphans');
    log('dev loop (bind mounts): starting the development stack with ./stagecraft up, as the README says');
    const started = performance.now();
    // The quick-start command itself; COMPOSE_PROJECT_NAME keeps it on this loop's project.
    execFileSync(join(copy, 'stagecraft'), ['up', '-d', '--wait', '--wait-timeout', '240'], {
      cwd: copy,
      env: { ...process.env, ...project.env, COMPOSE_PROJECT_NAME: project.project },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const quickStartSeconds = (performance.now() - started) / 1000;
    log(`dev loop (bind mounts): ./stagecraft up healthy after ${quickStartSeconds.toFixed(1)} s`);
    return { ...(await timeEdits('bind mounts', copy, quick)), quickStartSeconds };
  } finally {
    try {
      compose('down', '-v', '--remove-orphans');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
}

/** The watch loop: `up --build --watch` in the background until it answers and watches, the edits, Ctrl-C, `down -v`. */
async function measureWatch(quick: boolean): Promise<DevLoopFigures> {
  const copy = copyRepository('stagecraft-bench-watch-');
  const project = projectFor('Compose Watch', copy);
  const gateway = LOOPS['Compose Watch'].ports[0];
  mustCompose(project, 'down', '-v', '--remove-orphans');
  log('dev loop (Compose Watch): starting the development stack with the watch overlay');
  const watch = composeUpWatch(project, '--build');
  let ended: number | undefined;
  void watch.exited.then((code) => (ended = code));
  try {
    const outcome = await poll(
      'the watch stack to answer and watch',
      async () => {
        if (ended !== undefined) return `exited ${ended}`;
        if (!watch.output().includes('Watch enabled')) return undefined;
        return (await fetch(`http://127.0.0.1:${gateway}/healthz`)).ok ? 'ready' : undefined;
      },
      300_000,
      250,
    );
    if (outcome !== 'ready')
      throw new Error(`docker compose up --watch ${outcome}:\n${watch.output().slice(-4000)}`);
    return await timeEdits('Compose Watch', copy, quick);
  } finally {
    try {
      await watch.stop(60_000);
      mustCompose(project, 'down', '-v', '--remove-orphans');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
}

/** Both loops, one after the other (never side by side on the same cores), under the report's names. */
export async function measureDevLoops(
  quick: boolean,
): Promise<{ devLoop: DevLoopFigures; watchLoop: DevLoopFigures }> {
  const devLoop = await measureBindMounts(quick);
  const watchLoop = await measureWatch(quick);
  return { devLoop, watchLoop };
}
