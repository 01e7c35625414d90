/**
 * Who logs what: the gateway writes every request's access line, so the sidecar
 * logs an ordinary request at debug and only the unusual at info (a 5xx, a
 * refusal, a slow answer, a cut or re-sent one), each with its request id.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Level } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { SLOW_REQUEST_MS } from '@stagecraft/contract';
import { accessLogLevel } from '../src/proxy-app.js';
import { createRedMetrics } from '../src/red-metrics.js';
import { RouteLabels } from '../src/route-labels.js';
import { createServers } from '../src/servers.js';

describe('accessLogLevel', () => {
  it.each([
    [200, 3, false, 'debug'],
    [404, 3, false, 'debug'],
    [304, 3, false, 'debug'],
    [500, 3, false, 'info'],
    [502, 3, false, 'info'],
    [401, 3, false, 'info'],
    [403, 3, false, 'info'],
    [413, 3, false, 'info'],
    [429, 3, false, 'info'],
    [200, SLOW_REQUEST_MS, false, 'info'],
    [200, 3, true, 'info'],
  ] as const)('status %i after %i ms (cut or re-sent: %s): %s', (status, ms, troubled, level) => {
    expect(accessLogLevel(status, ms, troubled)).toBe(level);
  });
});

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listening(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A sidecar in front of an upstream that answers with the status its path names (/status/503). */
async function sidecarLoggingAt(level: Level) {
  const upstream = await listening(
    createServer((req, res) => {
      req.resume();
      res.writeHead(Number(/\/status\/(\d+)/.exec(req.url ?? '')?.[1] ?? 200)).end('x');
    }),
  );
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const { proxy } = createServers({
    config: loadConfig({ UPSTREAM_URL: upstream, PORT: '0', METRICS_PORT: '0' }),
    metrics: createRedMetrics(),
    labels: new RouteLabels(),
    logger,
    draining: () => false,
  });
  const url = await listening(proxy);
  const call = async (path: string, id: string) => {
    const response = await fetch(url + path, { headers: { 'x-request-id': id } });
    await response.text();
    // The line is written when the answer closes, a tick after the client has it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return lines.filter((line) => line.msg === 'proxied' && line.requestId === id);
  };
  return call;
}

describe("the sidecar's line per request", () => {
  it('is off at info for an ordinary answer, and on for a 5xx and a refusal, with the id', async () => {
    const call = await sidecarLoggingAt('info');
    expect(await call('/status/200', 'plain-1')).toEqual([]);
    expect(await call('/status/404', 'missing-1')).toEqual([]);
    expect(await call('/status/503', 'down-1')).toEqual([
      expect.objectContaining({ level: 30, requestId: 'down-1', status: 503, aborted: false }),
    ]);
    expect(await call('/status/401', 'refused-1')).toEqual([
      expect.objectContaining({ level: 30, requestId: 'refused-1', status: 401 }),
    ]);
  });

  it('is written for every request at debug', async () => {
    const call = await sidecarLoggingAt('debug');
    expect(await call('/status/200', 'plain-2')).toEqual([
      expect.objectContaining({ level: 20, requestId: 'plain-2', status: 200, route: 'unmatched' }),
    ]);
  });
});
