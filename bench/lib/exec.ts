/** Running commands for the benchmark: synchronous where nothing else is measured, asynchronous during load. */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundle = process.env.STAGECRAFT_CA_BUNDLE ?? '/etc/ssl/certs/ca-certificates.crt';
/** The optional CA bundle for npm inside builds, as the tests pass it. */
export const CA_SECRET = existsSync(bundle) ? ['--secret', `id=ca_bundle,src=${bundle}`] : [];
export const CA_ENV: Record<string, string> = existsSync(bundle) ? { STAGECRAFT_CA_BUNDLE: bundle } : {};

export function sh(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): string {
  try {
    return execFileSync(command, args, {
      cwd: options.cwd ?? ROOT,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DOCKER_BUILDKIT: '1', ...options.env },
    }).trim();
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed:\n${(e.stderr ?? '').slice(-3000)}${(e.stdout ?? '').slice(-1000)}`,
      { cause: error },
    );
  }
}

export const docker = (...args: string[]): string => sh('docker', args);

/** Seconds a command takes. */
export function timed(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): number {
  const started = performance.now();
  sh(command, args, options);
  return (performance.now() - started) / 1000;
}

export function shAsync(command: string, args: string[], cwd = ROOT): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, DOCKER_BUILDKIT: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`${command} ${args.join(' ')}: ${err}`)),
    );
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function log(message: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** A copy of the repository's tracked files in a fresh temporary folder: benchmarks edit and build it, never the working tree. */
export function copyOfRepository(prefix: string): string {
  const copy = mkdtempSync(join(tmpdir(), prefix));
  for (const file of sh('git', ['ls-files', '-z']).split('\0').filter(Boolean))
    cpSync(join(ROOT, file), join(copy, file), { recursive: true });
  return copy;
}
