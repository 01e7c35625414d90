/**
 * Running commands from tests and benchmarks. `run` reports whatever happened;
 * `sh` wants exit 0 and throws with the command's output otherwise. Each has an
 * asynchronous twin for commands issued while a load generator in the same
 * process is sending requests (a blocked event loop would show up as server
 * latency). Commands start in the repository's root unless told otherwise.
 */
import { spawn, spawnSync } from 'node:child_process';
import { REPO_ROOT } from './repository.js';

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Written to the command's standard input (synchronous forms only). */
  input?: string;
}

// Every image these tools build, directly or through a script or Compose, is
// built with BuildKit (the Dockerfiles use its cache and secret mounts).
const environment = (env: Record<string, string> | undefined) => ({
  ...process.env,
  DOCKER_BUILDKIT: '1',
  ...env,
});

// Test runners inside builds colour their output; callers read plain text.
const COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const plain = (text: string) => text.replace(COLOUR, '');

function failure(command: string, args: string[], result: Run): Error {
  return new Error(
    `${command} ${args.join(' ')} exited ${result.status}\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-6000)}`,
  );
}

/** Runs a command to its end; its exit status (-1 when killed by a signal) and plain-text output. */
export function run(command: string, args: string[], options: CommandOptions = {}): Run {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: environment(options.env),
    encoding: 'utf8',
    input: options.input,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: plain(result.stdout), stderr: plain(result.stderr) };
}

/** Runs a command that must exit 0; its standard output, trimmed. Throws with its output otherwise. */
export function sh(command: string, args: string[], options: CommandOptions = {}): string {
  const result = run(command, args, options);
  if (result.status !== 0) throw failure(command, args, result);
  return result.stdout.trim();
}

/** run(), without blocking the event loop. */
export function runAsync(
  command: string,
  args: string[],
  options: Omit<CommandOptions, 'input'> = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? REPO_ROOT, env: environment(options.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ status: code ?? -1, stdout: plain(stdout), stderr: plain(stderr) }),
    );
  });
}

/** sh(), without blocking the event loop. */
export async function shAsync(
  command: string,
  args: string[],
  options: Omit<CommandOptions, 'input'> = {},
): Promise<string> {
  const result = await runAsync(command, args, options);
  if (result.status !== 0) throw failure(command, args, result);
  return result.stdout.trim();
}

/** docker, which must exit 0: its output, trimmed. */
export const docker = (...args: string[]): string => sh('docker', args);

/** docker without blocking the event loop. */
export const dockerAsync = (...args: string[]): Promise<string> => shAsync('docker', args);
