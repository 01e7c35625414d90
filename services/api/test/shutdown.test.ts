/** The real API process: SIGTERM fails readiness, lets in-flight requests finish, closes the database and exits 0. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.js';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let slow: FixtureServer | undefined;
let dir: string | undefined;
afterAll(async () => {
  await slow?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function waitForLog(child: ChildProcess, message: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (data: Buffer) => {
      buffer += data.toString();
      for (const line of buffer.split('\n')) {
        if (line.includes(`"msg":"${message}"`)) {
          child.stdout?.off('data', onData);
          resolve(JSON.parse(line) as Record<string, unknown>);
        }
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before logging ${message}`)));
  });
}

describe('graceful shutdown', () => {
  it('finishes an in-flight request after SIGTERM and exits 0', async () => {
    slow = await startFixtureServer({
      '/slow': (_req, res) =>
        setTimeout(() => res.writeHead(200, { 'content-type': 'text/html' }).end('<a href="/x">'), 800),
    });
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-shutdown-'));
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: {
        ...process.env,
        PORT: '0',
        METRICS_PORT: '0', // a dev API may already hold 9464 (inside the dev container)
        HOST: '127.0.0.1',
        DATA_DIR: dir,
        FETCH_ALLOW_HOSTS: '127.0.0.1',
        SHUTDOWN_TIMEOUT_MS: '5000',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const { port } = (await waitForLog(child, 'api listening')) as { port: number };
    const base = `http://127.0.0.1:${port}`;

    const inFlight = fetch(`${base}/api/v1/count?url=${encodeURIComponent(slow.url('/slow'))}`);
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ internal: 1, external: 0 });
    expect(await exited).toBe(0);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
