/** The real API process: SIGTERM fails readiness, lets in-flight requests finish, closes the database and exits 0. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startApiProcess, type ApiProcess } from './helpers/api-process.js';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.js';

let slow: FixtureServer | undefined;
let api: ApiProcess | undefined;
let dir: string | undefined;
afterAll(async () => {
  await api?.stop();
  await slow?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('graceful shutdown', () => {
  it('finishes an in-flight request after SIGTERM and exits 0', async () => {
    slow = await startFixtureServer({
      '/slow': (_req, res) =>
        setTimeout(() => res.writeHead(200, { 'content-type': 'text/html' }).end('<a href="/x">'), 800),
    });
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-shutdown-'));
    api = await startApiProcess({
      DATA_DIR: dir,
      FETCH_ALLOW_HOSTS: '127.0.0.1',
      // A shorter drain than the default needs a fetch timeout at least 1 s shorter (limits.ts).
      FETCH_TIMEOUT_MS: '4000',
      SHUTDOWN_TIMEOUT_MS: '5000',
    });
    const base = `http://127.0.0.1:${api.port}`;

    const inFlight = fetch(`${base}/api/v1/count?url=${encodeURIComponent(slow.url('/slow'))}`);
    await new Promise((r) => setTimeout(r, 200));
    api.child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ internal: 1, external: 0 });
    expect(await api.exited, api.stderr()).toBe(0);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
