/** A Compose project driven from a test or a benchmark: its own project name, files, folder and environment. */
import { run, type Run } from './command.js';

export interface ComposeProject {
  project: string;
  files: string[];
  cwd: string;
  env: Record<string, string>;
}

/** `docker compose` on the project, whatever its exit status. */
export function compose(p: ComposeProject, ...args: string[]): Run {
  const fileArgs = p.files.flatMap((f) => ['-f', f]);
  return run('docker', ['compose', '-p', p.project, ...fileArgs, ...args], { cwd: p.cwd, env: p.env });
}

/**
 * `docker compose` on the project, which must exit 0; its standard output as
 * printed (not trimmed: tests count log lines). Throws with its output otherwise.
 */
export function mustCompose(p: ComposeProject, ...args: string[]): string {
  const result = compose(p, ...args);
  if (result.status !== 0) {
    throw new Error(
      `docker compose ${args.join(' ')} exited ${result.status}\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-6000)}`,
    );
  }
  return result.stdout;
}

/** Container ids of the project's services (stopped ones too), by service name. */
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
