/** GET /api/v1/count (fetch and count) and POST /api/v1/count (count an HTML body). */
import { Router, type Request, type Response } from 'express';
import { checkPageUrl, countPage } from '../count/count-page.js';
import { LinkCounter } from '../count/count-links.js';
import type { AppDeps } from './app.js';
import { fetchProblem } from './errors.js';
import { HttpProblem } from './problem.js';
import { MAX_URL_LENGTH, queryString } from './params.js';
import { FetchError } from '../fetch/fetch-page.js';

const HTML_BODY_TYPES = ['text/html', 'application/xhtml+xml'];

/** Fetches and counts, recording the outcome in the API's metrics. */
export async function countWithMetrics(deps: AppDeps, url: string, req: Request) {
  const started = performance.now();
  try {
    const result = await countPage(url, deps.fetchOptions(req.id));
    deps.metrics.counts.inc({ source: 'fetch', outcome: 'ok' });
    deps.metrics.links.inc({ kind: 'internal' }, result.internal);
    deps.metrics.links.inc({ kind: 'external' }, result.external);
    deps.metrics.fetchedBytes.inc(result.fetch.bytes);
    deps.metrics.fetchDuration.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
    return result;
  } catch (error) {
    const outcome = error instanceof FetchError ? error.failure : 'error';
    deps.metrics.counts.inc({ source: 'fetch', outcome });
    deps.metrics.fetchDuration.observe({ outcome }, (performance.now() - started) / 1000);
    throw error;
  }
}

export function countRoutes(deps: AppDeps): Router {
  const router = Router();

  router.get('/api/v1/count', async (req: Request, res: Response) => {
    // Express answers HEAD with the GET handler, which would run a whole fetch for
    // an answer without a body: HEAD is refused instead, before any work.
    if (req.method === 'HEAD') {
      res.setHeader('allow', 'GET, POST');
      throw new HttpProblem(405, 'method-not-allowed', 'Method not allowed', 'HEAD is not one of GET, POST');
    }
    const url = queryString(req, 'url', { required: true, maxLength: MAX_URL_LENGTH });
    res.json(await countWithMetrics(deps, url, req));
  });

  router.post('/api/v1/count', async (req: Request, res: Response) => {
    const base = queryString(req, 'base', { required: true, maxLength: MAX_URL_LENGTH });
    try {
      checkPageUrl(base);
    } catch (error) {
      throw error instanceof FetchError ? fetchProblem(error) : error;
    }
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
    const limit = deps.config.fetchMaxBytes;
    const tooLarge = () => {
      // The rest of the body is not read: close the connection after answering.
      res.setHeader('connection', 'close');
      res.once('finish', () => req.destroy());
      deps.metrics.counts.inc({ source: 'body', outcome: 'body-too-large' });
      return new HttpProblem(413, 'body-too-large', 'Request body too large', `the limit is ${limit} bytes`);
    };
    if (Number(req.get('content-length') ?? 0) > limit) throw tooLarge();

    const counter = LinkCounter.forPage(base);
    let bytes = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > limit) throw tooLarge();
      counter.write(chunk);
    }
    const { internal, external } = counter.end();
    deps.metrics.counts.inc({ source: 'body', outcome: 'ok' });
    deps.metrics.links.inc({ kind: 'internal' }, internal);
    deps.metrics.links.inc({ kind: 'external' }, external);
    res.json({ base, internal, external, bytes });
  });

  return router;
}
