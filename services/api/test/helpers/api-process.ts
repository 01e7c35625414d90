/**
 * The API as a real process (src/main.ts under tsx) for tests of what only the
 * process has: its two ports, its server timeouts, its signals, its start-up
 * failures. Raw requests to it go through @stagecraft/testkit/raw-http.
 */
import { spawnSync, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startNodeProcess, type NodeProcess } from '@stagecraft/testkit/node-process';

export const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface ApiProcess extends Omit<NodeProcess, 'ready'> {
  port: number;
  metricsPort: number;
}

/** Starts the API on 127.0.0.1 (ports 0 unless given) and waits for its "api listening" line. */
export async function startApiProcess(
  env: Record<string, string>,
  { nodeArgs = [], ...options }: Pick<SpawnOptions, 'uid' | 'gid'> & { nodeArgs?: string[] } = {},
): Promise<ApiProcess> {
  const { ready, ...started } = await startNodeProcess([...nodeArgs, '--import', 'tsx', MAIN], {
    env: { HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'info', ...env },
    // metricsPort is NaN for a build without a metrics port: its tests then fail on their own.
    ready: /"port":(\d+)(?:,"metricsPort":(\d+))?.*"msg":"api listening"/,
    ...options,
  });
  return { ...started, port: Number(ready[1]), metricsPort: Number(ready[2]) };
}

/** Runs the API to its exit (it must fail to start) and returns its exit code and stderr. */
export function runApiToExit(
  env: Record<string, string>,
  options: Pick<SpawnOptions, 'uid' | 'gid'> = {},
): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 20_000,
    ...options,
  });
  return { status: result.status, stderr: result.stderr };
}
