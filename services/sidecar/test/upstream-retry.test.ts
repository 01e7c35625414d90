/**
 * The retry rule as tables: from one failure that is re-sent, each row changes
 * one fact and says whether the request still goes again and after how long;
 * then the two inputs the proxy derives (does a body follow, what kind of
 * failure an error is). The proxy tests cover the rule acting on real sockets.
 */
import { describe, expect, it } from 'vitest';
import { classifyUpstreamError } from '../src/upstream-failure.js';
import { RETRY_DELAY_MS, hasBody, shouldRetry, type FailedAttempt } from '../src/upstream-retry.js';

/** A GET reset before any answer, first attempt, two retries allowed: re-sent. */
const RESET_GET: FailedAttempt = {
  kind: 'reset',
  method: 'GET',
  hasBody: false,
  retries: 0,
  maxRetries: 2,
  responseStarted: false,
  clientGone: false,
};

describe('shouldRetry', () => {
  it.each<[string, Partial<FailedAttempt>, number | null]>([
    ['a reset GET, first failure', {}, RETRY_DELAY_MS],
    ['a refused GET', { kind: 'refused' }, RETRY_DELAY_MS],
    ['the second re-send waits twice as long', { retries: 1 }, 2 * RETRY_DELAY_MS],
    ['the third, with three allowed, three times', { retries: 2, maxRetries: 3 }, 3 * RETRY_DELAY_MS],
    ['retries spent', { retries: 2 }, null],
    ['retries turned off', { maxRetries: 0 }, null],
    ['a timeout (the API may still be working on it)', { kind: 'timeout' }, null],
    ['a protocol failure', { kind: 'protocol' }, null],
    ['another failure', { kind: 'other' }, null],
    ['HEAD', { method: 'HEAD' }, RETRY_DELAY_MS],
    ['OPTIONS', { method: 'OPTIONS' }, RETRY_DELAY_MS],
    ['PUT (idempotent)', { method: 'PUT' }, RETRY_DELAY_MS],
    ['DELETE (idempotent)', { method: 'DELETE' }, RETRY_DELAY_MS],
    ['TRACE', { method: 'TRACE' }, RETRY_DELAY_MS],
    ['POST', { method: 'POST' }, null],
    ['PATCH', { method: 'PATCH' }, null],
    ['an unknown method', { method: 'PURGE' }, null],
    ['a GET with a body (streamed once, never buffered)', { hasBody: true }, null],
    ['a PUT with a body', { method: 'PUT', hasBody: true }, null],
    ['after response headers reached the client', { responseStarted: true }, null],
    ['after the client hung up', { clientGone: true }, null],
  ])('%s', (_case, change, delayMs) => {
    expect(shouldRetry({ ...RESET_GET, ...change })).toEqual(
      delayMs === null ? { retry: false } : { retry: true, delayMs },
    );
  });
});

describe('hasBody', () => {
  it.each<[string, Record<string, string>, boolean]>([
    ['no framing header', {}, false],
    ['Content-Length: 0', { 'content-length': '0' }, false],
    ['Content-Length: 5', { 'content-length': '5' }, true],
    ['Transfer-Encoding: chunked', { 'transfer-encoding': 'chunked' }, true],
    [
      'Transfer-Encoding with Content-Length: 0',
      { 'transfer-encoding': 'chunked', 'content-length': '0' },
      true,
    ],
  ])('%s', (_case, headers, expected) => {
    expect(hasBody(headers)).toBe(expected);
  });
});

describe('classifyUpstreamError', () => {
  const error = (code: string | undefined, message = 'failed') => Object.assign(new Error(message), { code });

  it.each<[string | undefined, string, string]>([
    ['ECONNREFUSED', 'failed', 'refused'],
    ['EHOSTUNREACH', 'failed', 'refused'],
    ['ENOTFOUND', 'failed', 'refused'],
    ['EAI_AGAIN', 'failed', 'refused'],
    ['ECONNRESET', 'failed', 'reset'],
    ['EPIPE', 'failed', 'reset'],
    [undefined, 'socket hang up', 'reset'],
    ['ETIMEDOUT', 'failed', 'timeout'],
    ['EPROTO', 'failed', 'protocol'],
    ['HPE_INVALID_CONSTANT', 'failed', 'protocol'],
    ['EWHATEVER', 'failed', 'other'],
  ])('%s (%s) is %s', (code, message, kind) => {
    expect(classifyUpstreamError(error(code, message), false)).toBe(kind);
  });

  it('calls anything after the proxy’s own deadline a timeout, whatever the socket said', () => {
    expect(classifyUpstreamError(error('ECONNRESET'), true)).toBe('timeout');
    expect(classifyUpstreamError(error('ECONNREFUSED'), true)).toBe('timeout');
  });
});
