/**
 * The listeners the proxy no longer makes per request (proxy-exchange.ts): the
 * client connection's hang-up listeners go on once per connection, not once per
 * request, and still reach every exchange whose answer is open on it (two when
 * pipelined) and none whose answer has ended; an attempt upstream and its answer
 * lead back to their exchange. Sockets, requests and attempts are stand-ins: the
 * record does no I/O on them.
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  attemptOf,
  exchangeOfAttempt,
  openExchange,
  tagAttempt,
  unwatchClient,
  watchClient,
} from '../src/proxy-exchange.js';

const exchange = () =>
  openExchange({} as IncomingMessage, {} as ServerResponse, 'id', 'GET', '/healthz', 'http');

describe('the client connection watch', () => {
  it('adds its two listeners once for a connection, however many requests it carries', () => {
    const socket = new Socket();
    // A net.Socket listens to its own 'end' already: count what watching adds.
    const [ends, errors] = [socket.listenerCount('end'), socket.listenerCount('error')];
    for (let i = 0; i < 100; i++) {
      const e = exchange();
      watchClient(socket, e);
      unwatchClient(e);
    }
    expect(socket.listenerCount('end') - ends).toBe(1);
    expect(socket.listenerCount('error') - errors).toBe(1);
  });

  it('marks every exchange still open on the connection when the client hangs up, and no ended one', () => {
    const socket = new Socket();
    const [ended, first, pipelined] = [exchange(), exchange(), exchange()];
    for (const e of [ended, first, pipelined]) watchClient(socket, e);
    unwatchClient(ended);
    socket.emit('end');
    expect([ended.clientGone, first.clientGone, pipelined.clientGone]).toEqual([false, true, true]);
  });

  it('hears an error on the connection as a hang-up, and keeps connections apart', () => {
    const [a, b] = [new Socket(), new Socket()];
    const [onA, onB] = [exchange(), exchange()];
    watchClient(a, onA);
    watchClient(b, onB);
    a.emit('error', new Error('read ECONNRESET'));
    expect([onA.clientGone, onB.clientGone]).toEqual([true, false]);
  });
});

describe('an attempt upstream', () => {
  it('leads back to its exchange, and so does its answer', () => {
    const e = exchange();
    const attempt = {} as ClientRequest;
    tagAttempt(attempt, e);
    expect(exchangeOfAttempt(attempt)).toBe(e);
    const answer = { req: attempt } as unknown as IncomingMessage;
    expect(exchangeOfAttempt(attemptOf(answer))).toBe(e);
    expect(() => exchangeOfAttempt({} as ClientRequest)).toThrow(/without an exchange record/);
  });
});
