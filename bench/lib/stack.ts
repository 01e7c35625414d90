/**
 * The production stack (docker-compose.prod.yml plus bench/compose.bench.yml,
 * its own project name and ports): time from `up -d` to all healthy, each
 * container from start to healthy, memory idle and under load.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { caBundleEnv } from '@stagecraft/testkit/ca-bundle';
import { docker, shAsync } from '@stagecraft/testkit/command';
import { containerIds, mustCompose, type ComposeProject } from '@stagecraft/testkit/compose';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { median } from '@stagecraft/testkit/stats';
import { sleep } from '@stagecraft/testkit/wait';
import { log } from './log.js';

export const PORTS = {
  gateway: 18189,
  api: 18190,
  sidecar: 18191,
  gatewayToApi: 18192,
  gatewayToSidecar: 18193,
};
// The production stack hands the API its bearer token as a secret: the user's
// token file (made once by scripts/api-token.sh, kept if it exists).
const TOKEN_FILE = execFileSync(join(REPO_ROOT, 'scripts/api-token.sh'), { encoding: 'utf8' }).trim();
const STACK: ComposeProject = {
  project: 'stagecraft-bench',
  files: ['docker-compose.prod.yml', 'bench/compose.bench.yml'],
  cwd: REPO_ROOT,
  env: {
    ...caBundleEnv(),
    STAGECRAFT_API_TOKEN_FILE: TOKEN_FILE,
    GATEWAY_PORT: String(PORTS.gateway),
    BENCH_API_PORT: String(PORTS.api),
    BENCH_SIDECAR_PORT: String(PORTS.sidecar),
    BENCH_GATEWAY_API_PORT: String(PORTS.gatewayToApi),
    BENCH_GATEWAY_SIDECAR_PORT: String(PORTS.gatewayToSidecar),
  },
};

const compose = (...args: string[]) => mustCompose(STACK, ...args);

/** The running stack's containers by service name (the bench overlay runs one API replica). */
export const stackContainers = (): Record<string, string> => containerIds(STACK);

export interface StartupFigures {
  upToHealthySeconds: number;
  runs: number;
  containerStartToHealthySeconds: Record<string, number>;
}

/** Seconds from a container's start to its first passing health check. */
function startToHealthy(id: string): number {
  const state = JSON.parse(docker('inspect', id, '--format', '{{json .State}}')) as {
    StartedAt: string;
    Health?: { Log: { Start: string; End: string; ExitCode: number }[] };
  };
  const first = state.Health?.Log.find((entry) => entry.ExitCode === 0);
  if (first === undefined) return NaN;
  return (Date.parse(first.End) - Date.parse(state.StartedAt)) / 1000;
}

export function startStack(quick: boolean): StartupFigures {
  // The images are the ones measureImages() just built under the stack's names.
  const runs = quick ? 1 : 3;
  const ups: number[] = [];
  const perContainer: Record<string, number[]> = {};
  for (let i = 0; i < runs; i++) {
    compose('down', '-v', '--remove-orphans');
    const started = performance.now();
    compose('up', '-d', '--no-build', '--wait', '--wait-timeout', '120');
    ups.push((performance.now() - started) / 1000);
    for (const [service, id] of Object.entries(containerIds(STACK)))
      (perContainer[service] ??= []).push(startToHealthy(id));
    log(`stack: up to healthy in ${ups.at(-1)!.toFixed(1)} s`);
  }
  return {
    upToHealthySeconds: median(ups),
    runs,
    containerStartToHealthySeconds: Object.fromEntries(
      Object.entries(perContainer).map(([s, v]) => [s, median(v)]),
    ),
  };
}

export function stopStack(): void {
  compose('down', '-v', '--remove-orphans');
}

/** Memory of each container as `docker stats` reports it (cgroup usage less page cache), MB. */
export async function memoryNow(): Promise<Record<string, number>> {
  const ids = containerIds(STACK);
  const out = await shAsync('docker', [
    'stats',
    '--no-stream',
    '--format',
    '{{.ID}} {{.MemUsage}}',
    ...Object.values(ids),
  ]);
  const byId = new Map(
    out.split('\n').map((line) => {
      const [id, usage] = [line.split(' ')[0]!, line.split(' ')[1]!];
      const m = /^([\d.]+)([KMG]i?B)$/.exec(usage);
      const unit =
        { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, KB: 1e3, MB: 1e6, GB: 1e9 }[m?.[2] ?? 'MiB'] ?? 1;
      return [id, m ? (Number(m[1]) * unit) / 1e6 : NaN];
    }),
  );
  return Object.fromEntries(
    Object.entries(ids).map(([service, id]) => [service, byId.get(id.slice(0, 12)) ?? NaN]),
  );
}

/** Samples memory until stopped; returns the peak of each container. */
export function sampleMemory(): { stop: () => Promise<Record<string, number>> } {
  const peak: Record<string, number> = {};
  let running = true;
  const loop = (async () => {
    while (running) {
      const now = await memoryNow().catch(() => ({}) as Record<string, number>);
      for (const [service, mb] of Object.entries(now)) if (!(mb <= (peak[service] ?? 0))) peak[service] = mb;
      await sleep(500);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return peak;
    },
  };
}
