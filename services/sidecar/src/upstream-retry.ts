/**
 * When the proxy sends a request upstream again on its own after an attempt
 * failed. The whole rule is one pure function of facts about the failure, so it
 * reads (and is tested) as a table; proxy-app.ts gathers the facts and acts.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { UpstreamFailure } from './red-metrics.js';

/** RFC 9110 idempotent methods; only these may be re-sent without the client asking. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/**
 * Pause before a re-send, times its number (50, 100, ... ms): long enough for a
 * restarting peer's address to leave DNS, short next to any timeout.
 */
export const RETRY_DELAY_MS = 50;

export interface FailedAttempt {
  kind: UpstreamFailure;
  /** The request's method, as Node parsed it (upper case). */
  method: string;
  /** The request has a body: it streams through once and is never buffered, so it cannot go twice. */
  hasBody: boolean;
  /** Re-sends already made for this request: 0 when its first attempt fails. */
  retries: number;
  /** UPSTREAM_RETRIES. */
  maxRetries: number;
  /** Response headers already went to the client: a second answer cannot follow them. */
  responseStarted: boolean;
  /** The client hung up: nobody is waiting for a re-send. */
  clientGone: boolean;
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

const NO_RETRY: RetryDecision = { retry: false };

/**
 * Re-send only what failed before anything reached the client - refused (no
 * connection) or reset (a replica restarting, a pooled keep-alive socket closed
 * under us) - and only an idempotent request without a body, while retries are
 * left. A timeout is never re-sent: the API may still be working on the first.
 */
export function shouldRetry(failure: FailedAttempt): RetryDecision {
  if (failure.kind !== 'refused' && failure.kind !== 'reset') return NO_RETRY;
  if (failure.responseStarted || failure.clientGone) return NO_RETRY;
  if (!IDEMPOTENT.has(failure.method) || failure.hasBody) return NO_RETRY;
  if (failure.retries >= failure.maxRetries) return NO_RETRY;
  return { retry: true, delayMs: RETRY_DELAY_MS * (failure.retries + 1) };
}

/** Whether a request's framing says a body follows (any Transfer-Encoding, or a Content-Length other than 0). */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
