/** Maps every error a handler can raise to its problem document. */
import type { NextFunction, Request, Response } from 'express';
import { FetchError, type FetchFailure } from '../fetch/fetch-page.js';
import { InvalidCursorError, isStorageUnavailable } from '../storage/reports-store.js';
import { HttpProblem, sendProblem } from './problem.js';

/**
 * Status, slug and title per fetch failure. A name that does not resolve is
 * answered exactly like a refused destination: were it a 502, the difference from
 * a 403 would tell a client which internal names exist (`vm` resolves to a
 * private address: 403; `nope` does not: 502).
 */
const FETCH_PROBLEMS: Record<FetchFailure, [number, string, string]> = {
  'invalid-url': [400, 'invalid-url', 'Invalid URL'],
  'unsupported-scheme': [422, 'unsupported-scheme', 'Unsupported URL scheme'],
  'forbidden-destination': [403, 'forbidden-destination', 'Destination not allowed or unknown'],
  'dns-failure': [403, 'forbidden-destination', 'Destination not allowed or unknown'],
  'connect-failure': [502, 'connect-failure', 'Cannot connect to the page'],
  'upstream-reset': [502, 'upstream-reset', 'The page server broke the connection'],
  'tls-failure': [502, 'tls-failure', 'TLS with the page server failed'],
  'too-many-redirects': [502, 'too-many-redirects', 'Too many redirects'],
  'bad-redirect': [502, 'bad-redirect', 'Redirect to an unusable location'],
  'not-html': [422, 'not-html', 'The page is not HTML'],
  'page-too-large': [422, 'page-too-large', 'The page is too large'],
  timeout: [504, 'timeout', 'The page server did not answer in time'],
  'fetch-capacity': [503, 'fetch-capacity', 'Too many pages being fetched'],
};

/** Failures whose detail would say where a name resolves or that it exists: the client gets a fixed one. */
const UNDISCLOSED: ReadonlySet<FetchFailure> = new Set(['forbidden-destination', 'dns-failure']);

/** Seconds a client should wait before retrying after fetch-capacity: a fetch usually takes well under one. */
export const FETCH_CAPACITY_RETRY_AFTER_S = 1;

export function fetchProblem(error: FetchError): HttpProblem {
  const [status, slug, title] = FETCH_PROBLEMS[error.failure];
  const detail = UNDISCLOSED.has(error.failure)
    ? 'the destination does not resolve or is not allowed (the two are not told apart)'
    : error.message;
  return new HttpProblem(status, slug, title, detail);
}

export function toProblem(error: unknown): HttpProblem | null {
  if (error instanceof HttpProblem) return error;
  if (error instanceof FetchError) return fetchProblem(error);
  // Express could not percent-decode a path parameter (e.g. %c0%ae, %ff).
  if (error instanceof URIError)
    return new HttpProblem(
      400,
      'malformed-path',
      'Malformed path',
      'the path holds an invalid percent-encoding',
    );
  if (error instanceof InvalidCursorError)
    return new HttpProblem(400, 'invalid-cursor', 'Invalid cursor', error.message);
  const bodyError = error as { type?: string; status?: number; message?: string };
  if (bodyError.type === 'entity.parse.failed') {
    return new HttpProblem(400, 'malformed-json', 'Malformed JSON body', bodyError.message);
  }
  if (bodyError.type === 'entity.too.large') {
    return new HttpProblem(413, 'body-too-large', 'Request body too large', bodyError.message);
  }
  if (
    typeof bodyError.type === 'string' &&
    bodyError.status !== undefined &&
    bodyError.status >= 400 &&
    bodyError.status < 500
  ) {
    return new HttpProblem(
      bodyError.status,
      'bad-request-body',
      'Unreadable request body',
      bodyError.message,
    );
  }
  // The store cannot serve this call now (a full or read-only disk for SQLite, a
  // database down or too slow for PostgreSQL): a 503, not a 500. The detail
  // promises nothing about other calls: with SQLite reads still work, with a
  // database down they do not.
  if (isStorageUnavailable(error)) {
    return new HttpProblem(
      503,
      'storage-unavailable',
      'Storage unavailable',
      'the reports store cannot serve this request right now; try again shortly',
    );
  }
  return null;
}

// Express recognises error middleware by its four parameters.
export function errorHandler(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  const problem = toProblem(error);
  if (problem === null) {
    req.log.error({ err: error }, 'unhandled error');
  } else if (error instanceof FetchError) {
    // The whole reason (where the name resolved, which range) goes to the log only.
    req.log[problem.status >= 500 ? 'warn' : 'info'](
      { problem: problem.slug, failure: error.failure, reason: error.message },
      'fetch failed',
    );
    if (error.failure === 'fetch-capacity')
      res.setHeader('retry-after', String(FETCH_CAPACITY_RETRY_AFTER_S));
  } else if (problem.status >= 500) {
    req.log.warn({ problem: problem.slug, detail: problem.message }, 'request failed');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendProblem(req, res, problem ?? new HttpProblem(500, 'internal-error', 'Internal server error'));
}
