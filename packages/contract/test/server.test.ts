/** Building, binding and draining a server the way both services do. */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { drain, listen, serverOptions } from '../src/server.js';
import { TIMEOUTS, exchange, startServer, stopServer } from './raw-http.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers
      .splice(0)
      .filter((s) => s.listening)
      .map(stopServer),
  );
});

describe('serverOptions', () => {
  it('passes the timeouts on, checks them at least every second, and leaves Host to refuseAmbiguousRequest', () => {
    expect(
      serverOptions({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 65_000 }),
    ).toEqual({
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 65_000,
      connectionsCheckingInterval: 1_000,
      requireHostHeader: false,
    });
    // A short headersTimeout is checked often enough to fire on time, but not in a busy loop.
    expect(serverOptions({ ...TIMEOUTS, headersTimeoutMs: 400 }).connectionsCheckingInterval).toBe(100);
    expect(serverOptions({ ...TIMEOUTS, headersTimeoutMs: 100 }).connectionsCheckingInterval).toBe(50);
  });
});

describe('listen', () => {
  it('resolves with the port the system gave for port 0', async () => {
    const server = createServer((_req, res) => res.end('up'));
    servers.push(server);
    const port = await listen(server, { service: 'test', host: '127.0.0.1', port: 0, variable: 'PORT' });
    expect(port).toBe((server.address() as AddressInfo).port);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('up');
  });
});

/** Sends one GET on a keep-alive connection; resolves with the response body. */
function get(port: number, agentless = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/', agent: agentless ? false : undefined },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('drain', () => {
  it('lets a request in flight finish, closes idle keep-alive connections, and resolves true', async () => {
    let release: () => void = () => undefined;
    const { server, port } = await startServer((req, res) => {
      if (req.url === '/idle') res.end('idle');
      else release = () => res.end('finished');
    });
    servers.push(server);
    // An idle keep-alive connection: it alone would hold close() until keepAliveTimeout (5 s).
    const idle = await exchange(port, 'GET /idle HTTP/1.1\r\nHost: a\r\n\r\n', 200);
    expect(idle.status).toBe(200);
    const inFlight = get(port);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    const drained = drain(server, 5_000);
    setTimeout(() => release(), 200);
    expect(await inFlight).toBe('finished');
    expect(await drained).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(server.listening).toBe(false);
  });

  it('cuts what is still running at the deadline and resolves false', async () => {
    const { server, port } = await startServer(() => undefined); // never answers
    servers.push(server);
    const stuck = get(port, true).then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    expect(await drain(server, 300)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(await stuck).toBe('ECONNRESET');
  });
});
