/**
 * The health check script both production images run: its exit code for a
 * healthy, an unhealthy and an absent service, the port read from the service's
 * own variable at run time, and refusals of arguments it cannot use.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../src/healthcheck.ts', import.meta.url));

/**
 * Runs the script as Docker would (no shell), with only the given environment.
 * Asynchronously: the server it checks runs in this process and must answer.
 */
function check(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stderr })));
}

let server: Server;
let port: number;
let freePort: number;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(req.url === '/healthz' || req.url === '/live' ? 200 : 503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  // A port nothing listens on: bound, read, released.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  freePort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('healthcheck', () => {
  it('exits 0 when the path answers 200, asking 127.0.0.1 for /healthz by default', async () => {
    seen.length = 0;
    expect((await check(['--port', String(port)])).status).toBe(0);
    expect(seen).toEqual(['/healthz']);
    expect((await check(['--port', String(port), '--path', '/live'])).status).toBe(0);
  });

  it('exits 1 and says why when the path answers anything else', async () => {
    const result = await check(['--port', String(port), '--path', '/readyz']);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`healthcheck: GET /readyz on port ${port} answered 503\n`);
  });

  it('exits 1 when nothing listens', async () => {
    const result = await check(['--port', String(freePort)]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/ECONNREFUSED/);
  });

  it("follows the service's port variable, its default when the variable is unset or empty", async () => {
    const args = ['--port-variable', 'PORT', '--port', String(freePort)];
    expect((await check(args, { PORT: String(port) })).status).toBe(0);
    expect((await check(args, { PORT: ' ' })).status).toBe(1); // the default: nothing listens there
    expect((await check(args)).status).toBe(1);
    expect((await check(['--port-variable', 'METRICS_PORT'], { METRICS_PORT: String(port) })).status).toBe(0);
  });

  it.each([
    [[], /give --port/],
    [['--port', 'http'], /not a port: "http"/],
    [['--port', '70000'], /not a port/],
    [['--port', '3000', '--path', 'healthz'], /not a path/],
    [['--port', '3000', '--verbose'], /Unknown option/],
  ])('refuses %j with exit 1 and one line', async (args, message) => {
    const result = await check(args);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
