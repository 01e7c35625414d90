/** Drives a compose project for the end-to-end tests: its own project name, ports and, when asked, a copy of the repository. */
import { existsSync } from 'node:fs';
import { API_TOKEN_FILE } from './api-token.js';
import { run, type Run } from './docker.js';

export interface ComposeProject {
  project: string;
  files: string[];
  cwd: string;
  env: Record<string, string>;
}

export function compose(p: ComposeProject, ...args: string[]): Run {
  const fileArgs = p.files.flatMap((f) => ['-f', f]);
  return run('docker', ['compose', '-p', p.project, ...fileArgs, ...args], { cwd: p.cwd, env: p.env });
}

export function mustCompose(p: ComposeProject, ...args: string[]): string {
  const result = compose(p, ...args);
  if (result.status !== 0) {
    throw new Error(
      `docker compose ${args.join(' ')} exited ${result.status}\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-6000)}`,
    );
  }
  return result.stdout;
}

export function composeEnv(ports: {
  gateway: number;
  prometheus: number;
  inspect?: number;
}): Record<string, string> {
  const bundle = process.env.STAGECRAFT_CA_BUNDLE ?? '/etc/ssl/certs/ca-certificates.crt';
  return {
    GATEWAY_PORT: String(ports.gateway),
    PROMETHEUS_PORT: String(ports.prometheus),
    INSPECT_PORT: String(ports.inspect ?? 19229),
    STAGECRAFT_API_TOKEN_FILE: API_TOKEN_FILE,
    ...(existsSync(bundle) ? { STAGECRAFT_CA_BUNDLE: bundle } : {}),
  };
}

/** Container ids of the project's services, by service name. */
export function containerIds(p: ComposeProject): Record<string, string> {
  const out = mustCompose(p, 'ps', '--all', '--format', '{{.Service}} {{.ID}}');
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ') as [string, string]),
  );
}

export async function poll<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
