/**
 * The per-request record: found again from its request (and only from the one it
 * was opened for), starting from a clean slate, and its timers cancelled so that
 * they never fire. Requests and responses are stand-in objects: the record does
 * no I/O on them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { exchangeOf, openExchange } from '../src/proxy-exchange.js';

const request = () => ({}) as IncomingMessage;
const response = () => ({}) as ServerResponse;

describe('ProxyExchange', () => {
  it('is found from the request it was opened for, and from no other', () => {
    const [a, b] = [request(), request()];
    const first = openExchange(a, response(), 'id-a', 'GET', '/healthz', 'http');
    const second = openExchange(b, response(), 'id-b', 'POST', '/api/v1/count', 'https');
    expect(exchangeOf(a)).toBe(first);
    expect(exchangeOf(b)).toBe(second);
    expect(exchangeOf(a)).toMatchObject({ req: a, id: 'id-a', method: 'GET', route: '/healthz' });
    expect(() => exchangeOf(request())).toThrow(/without an exchange record/);
  });

  it('starts with nothing sent, counted or cut', () => {
    const before = Date.now();
    const exchange = openExchange(request(), response(), 'id', 'GET', '/healthz', 'http');
    expect(exchange).toMatchObject({
      requestBytes: 0,
      responseBytes: 0,
      retries: 0,
      attempt: undefined,
      deadline: undefined,
      retryTimer: undefined,
      timedOut: false,
      clientGone: false,
      failureCounted: false,
      piped: false,
    });
    expect(exchange.lastProgress).toBeGreaterThanOrEqual(before);
    expect(typeof exchange.started).toBe('bigint');
  });

  it('cancels its deadline and a waiting re-send so that neither fires', async () => {
    const exchange = openExchange(request(), response(), 'id', 'GET', '/healthz', 'http');
    const fired: string[] = [];
    exchange.deadline = setTimeout(() => fired.push('deadline'), 5);
    exchange.retryTimer = setTimeout(() => fired.push('retry'), 5);
    exchange.clearDeadline();
    exchange.cancelRetry();
    expect([exchange.deadline, exchange.retryTimer]).toEqual([undefined, undefined]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fired).toEqual([]);
  });
});
