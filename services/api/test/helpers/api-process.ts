/**
 * The API as a real process (src/main.ts under tsx) for tests of what only the
 * process has: its two ports, its server timeouts, its start-up failures. Also a
 * raw-socket client, so requests go out byte for byte as written.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface ApiProcess {
  child: ChildProcess;
  port: number;
  metricsPort: number;
  exited: Promise<number | null>;
  /** The end of the child's stderr (V8's out-of-memory report, when it died of one). */
  stderr: () => string;
  stop: () => Promise<void>;
}

/** Starts the API on 127.0.0.1 (ports 0 unless given) and waits for its "api listening" line. */
export async function startApiProcess(
  env: Record<string, string>,
  { nodeArgs = [], ...options }: Pick<SpawnOptions, 'uid' | 'gid'> & { nodeArgs?: string[] } = {},
): Promise<ApiProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', MAIN], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => (stderr = (stderr + data.toString()).slice(-8000)));
  const ports = await new Promise<{ port: number; metricsPort: number }>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (data: Buffer) => {
      buffer += data.toString();
      // metricsPort is NaN for a build without a metrics port: its tests then fail on their own.
      const m = /"port":(\d+)(?:,"metricsPort":(\d+))?.*"msg":"api listening"/.exec(buffer);
      if (m) resolve({ port: Number(m[1]), metricsPort: Number(m[2]) });
    });
    child.once('exit', (code) => reject(new Error(`api exited with ${code} before listening: ${stderr}`)));
  });
  return {
    child,
    ...ports,
    exited,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
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

export interface RawAnswer {
  /** Everything the server sent before it closed, or before `waitMs` passed. */
  text: string;
  status: number;
  head: string;
  body: string;
  /** Milliseconds from connecting to the server closing the connection (or giving up). */
  elapsedMs: number;
  closedByServer: boolean;
}

/**
 * Sends `chunks` to 127.0.0.1:port (each after its delay, in milliseconds from the
 * previous one) and collects the answer until the server closes or `waitMs` passes.
 * The client never half-closes, so a server that waits for more waits visibly.
 */
export function rawExchange(
  port: number,
  chunks: (string | [delayMs: number, data: string])[],
  waitMs = 5_000,
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const timers: NodeJS.Timeout[] = [];
    let closedByServer = false;
    const finish = () => {
      for (const timer of timers) clearTimeout(timer);
      const text = Buffer.concat(received).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      resolve({
        text,
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0),
        head,
        body: split < 0 ? '' : text.slice(split + 4),
        elapsedMs: Date.now() - started,
        closedByServer,
      });
    };
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('error', () => undefined);
    socket.on('close', finish);
    socket.on('end', () => {
      closedByServer = true;
      socket.destroy();
    });
    let at = 0;
    for (const chunk of chunks) {
      const [delay, data] = typeof chunk === 'string' ? [0, chunk] : chunk;
      at += delay;
      timers.push(setTimeout(() => socket.writable && socket.write(Buffer.from(data, 'latin1')), at));
    }
    timers.push(setTimeout(() => socket.destroy(), waitMs));
  });
}

/** A problem document's JSON, from a raw answer's body (Content-Length framed). */
export function problemOf(answer: RawAnswer): { type: string; status: number; detail?: string } {
  expect(answer.head).toMatch(/\r\ncontent-type: application\/problem\+json/i);
  return JSON.parse(answer.body) as { type: string; status: number; detail?: string };
}
