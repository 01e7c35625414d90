/** Maps every error a handler can raise to its problem document. */
import type { NextFunction, Request, Response } from 'express';
import { FetchError, type FetchFailure } from '../fetch/fetch-page.js';
import { InvalidCursorError, isStorageUnavailable } from '../storage/reports-store.js';
import { HttpProblem, sendProblem } from './problem.js';

const FETCH_PROBLEMS: Record<FetchFailure, [number, string]> = {
  'invalid-url': [400, 'Invalid URL'],
  'unsupported-scheme': [422, 'Unsupported URL scheme'],
  'forbidden-destination': [403, 'Destination not allowed'],
  'dns-failure': [502, 'Host name does not resolve'],
  'connect-failure': [502, 'Cannot connect to the page'],
  'upstream-reset': [502, 'The page server broke the connection'],
  'tls-failure': [502, 'TLS with the page server failed'],
  'too-many-redirects': [502, 'Too many redirects'],
  'bad-redirect': [502, 'Redirect to an unusable location'],
  'not-html': [422, 'The page is not HTML'],
  'page-too-large': [422, 'The page is too large'],
  timeout: [504, 'The page server did not answer in time'],
};

export function fetchProblem(error: FetchError): HttpProblem {
  const [status, title] = FETCH_PROBLEMS[error.failure];
  return new HttpProblem(status, error.failure, title, error.message);
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
  // The disk or the file cannot take writes: a 503, not a 500.
  if (isStorageUnavailable(error)) {
    return new HttpProblem(
      503,
      'storage-unavailable',
      'Storage unavailable',
      'reports cannot be written right now; reads may still work',
    );
  }
  return null;
}

// Express recognises error middleware by its four parameters.
export function errorHandler(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  const problem = toProblem(error);
  if (problem === null) {
    req.log.error({ err: error }, 'unhandled error');
  } else if (problem.status >= 500) {
    req.log.warn({ problem: problem.slug, detail: problem.message }, 'request failed');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendProblem(req, res, problem ?? new HttpProblem(500, 'internal-error', 'Internal server error'));
}
