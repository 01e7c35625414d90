/**
 * GET /api/v1/count (fetch and count) and POST /api/v1/count (count an HTML body):
 * requests in, answers out; the counting itself is count-page.ts's.
 */
import { Router, type Request, type Response } from 'express';
import { metricsRecorder } from '../count/count-metrics.js';
import { BodyTooLargeError, countBody, countPage } from '../count/count-page.js';
import { parsePageUrl, type PageUrl } from '../count/page-url.js';
import type { AppDeps } from './app.js';
import { fetchProblem } from './errors.js';
import { closeAfterAnswer } from './lingering-close.js';
import { HttpProblem } from './problem.js';
import { MAX_URL_LENGTH, queryString } from './params.js';
import { FetchError } from '../fetch/fetch-page.js';

const HTML_BODY_TYPES = ['text/html', 'application/xhtml+xml'];

/**
 * The base URL of a posted page. A bad one becomes its problem document here:
 * the error handler would log it as a failed fetch, and nothing was fetched.
 */
function parseBase(raw: string): PageUrl {
  try {
    return parsePageUrl(raw);
  } catch (error) {
    throw error instanceof FetchError ? fetchProblem(error) : error;
  }
}

export function countRoutes(deps: AppDeps): Router {
  const router = Router();
  const record = metricsRecorder(deps.metrics);

  router.get('/api/v1/count', async (req: Request, res: Response) => {
    // Express answers HEAD with the GET handler, which would run a whole fetch for
    // an answer without a body: HEAD is refused instead, before any work.
    if (req.method === 'HEAD') {
      res.setHeader('allow', 'GET, POST');
      throw new HttpProblem(405, 'method-not-allowed', 'Method not allowed', 'HEAD is not one of GET, POST');
    }
    const url = queryString(req, 'url', { required: true, maxLength: MAX_URL_LENGTH });
    res.json(await countPage(url, { fetchOptions: deps.fetchOptions(req.id), record }));
  });

  router.post('/api/v1/count', async (req: Request, res: Response) => {
    const base = parseBase(queryString(req, 'base', { required: true, maxLength: MAX_URL_LENGTH }));
    if (req.is(HTML_BODY_TYPES) === false || req.get('content-type') === undefined) {
      throw new HttpProblem(
        415,
        'unsupported-media-type',
        'Unsupported media type',
        `send the page as ${HTML_BODY_TYPES.join(' or ')}`,
      );
    }
    // A coded body (gzip, ...) would be counted as its compressed bytes, and its
    // decoded size is unknown until decoded: only identity is read.
    const codings = (req.get('content-encoding') ?? '')
      .split(',')
      .map((coding) => coding.trim().toLowerCase())
      .filter((coding) => coding !== '' && coding !== 'identity');
    if (codings.length > 0) {
      res.setHeader('accept-encoding', 'identity');
      throw new HttpProblem(
        415,
        'unsupported-content-encoding',
        'Unsupported content encoding',
        `send the page without a content coding, not ${codings.join(', ')}`,
      );
    }
    try {
      res.json(
        // Stopping early must not destroy the request: its socket still carries the 413.
        await countBody(base, req.iterator({ destroyOnReturn: false }), {
          maxBytes: deps.config.fetchMaxBytes,
          declaredBytes: Number(req.get('content-length') ?? 0),
          record,
        }),
      );
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      // The rest of the body is not read: close the connection after answering.
      closeAfterAnswer(req, res);
      throw new HttpProblem(413, 'body-too-large', 'Request body too large', error.message);
    }
  });

  return router;
}
