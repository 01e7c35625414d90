/**
 * Who logs what: the gateway writes every request's access line, so the API logs
 * an ordinary request at debug, a refusal or a slow one at info and a 5xx at
 * error - each with its request id, as is every line a handler writes through
 * req.log (made on first use).
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino, type Level } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SLOW_REQUEST_MS } from '@stagecraft/contract';
import { accessLogLevel, requestContext } from '../../src/http/request-context.js';

describe('accessLogLevel', () => {
  it.each([
    [200, 3, 'debug'],
    [201, 3, 'debug'],
    [404, 3, 'debug'],
    [422, 3, 'debug'],
    [401, 3, 'info'],
    [403, 3, 'info'],
    [413, 3, 'info'],
    [429, 3, 'info'],
    [200, SLOW_REQUEST_MS, 'info'],
    [500, 3, 'error'],
    [503, 3, 'error'],
  ] as const)('status %i after %i ms: %s', (status, ms, level) => {
    expect(accessLogLevel(status, ms)).toBe(level);
  });
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function appLoggingAt(level: Level) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const app = express();
  app.use(requestContext(logger));
  app.get('/status/:code', (req, res) => {
    if (req.query.note !== undefined) req.log.info({ note: req.query.note }, 'handler note');
    res.status(Number(req.params.code)).end();
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return async (path: string, id: string) => {
    const response = await fetch(url + path, { headers: { 'x-request-id': id } });
    expect(response.headers.get('x-request-id')).toBe(id);
    await response.text();
    await new Promise((resolve) => setTimeout(resolve, 20));
    return lines.filter((line) => line.requestId === id);
  };
}

describe("the API's line per request", () => {
  it('is off at info for an ordinary answer, and on for a refusal and a 5xx, with the id', async () => {
    const call = await appLoggingAt('info');
    expect(await call('/status/200', 'plain-1')).toEqual([]);
    expect(await call('/status/401', 'refused-1')).toEqual([
      expect.objectContaining({ level: 30, msg: 'request', status: 401, route: '/status/:code' }),
    ]);
    expect(await call('/status/500', 'broken-1')).toEqual([
      expect.objectContaining({ level: 50, msg: 'request', status: 500 }),
    ]);
  });

  it('is written for every request at debug', async () => {
    const call = await appLoggingAt('debug');
    expect(await call('/status/200', 'plain-2')).toEqual([
      expect.objectContaining({ level: 20, msg: 'request', status: 200, path: '/status/200' }),
    ]);
  });

  it("carries the request id in a handler's own line, through a logger made on first use", async () => {
    const call = await appLoggingAt('info');
    expect(await call('/status/200?note=hello', 'noted-1')).toEqual([
      expect.objectContaining({ level: 30, msg: 'handler note', note: 'hello' }),
    ]);
  });
});
