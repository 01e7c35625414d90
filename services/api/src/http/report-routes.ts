/** Reports: fetch, count and store (POST), list newest first, read and delete one. */
import express, { Router, type Request, type Response } from 'express';
import { metricsRecorder } from '../count/count-metrics.js';
import { countPage } from '../count/count-page.js';
import type { AppDeps } from './app.js';
import { HttpProblem } from './problem.js';
import { MAX_URL_LENGTH, queryInteger, queryString, reportId } from './params.js';

// strict: false so a JSON string or number is "not an object" (400 invalid-body), not "malformed".
const jsonBody = express.json({ limit: '16kb', strict: false, type: 'application/json' });

function notFound(id: number): HttpProblem {
  return new HttpProblem(404, 'report-not-found', 'Report not found', `no report with id ${id}`);
}

function readNewReport(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpProblem(
      400,
      'invalid-body',
      'Invalid request body',
      'expected a JSON object like {"url": "https://..."}',
    );
  }
  const { url, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new HttpProblem(
      400,
      'invalid-body',
      'Invalid request body',
      `unknown properties: ${unknown.join(', ')}`,
    );
  }
  if (typeof url !== 'string' || url === '') {
    throw new HttpProblem(400, 'invalid-body', 'Invalid request body', '"url" must be a non-empty string');
  }
  if (url.length > MAX_URL_LENGTH) {
    throw new HttpProblem(
      400,
      'invalid-body',
      'Invalid request body',
      `"url" is longer than ${MAX_URL_LENGTH} characters`,
    );
  }
  return url;
}

export function reportRoutes(deps: AppDeps): Router {
  const router = Router();
  const { store } = deps;
  const record = metricsRecorder(deps.metrics);

  router.post(
    '/api/v1/reports',
    (req, res, next) => {
      if (req.is('application/json') === false || req.get('content-type') === undefined) {
        next(
          new HttpProblem(
            415,
            'unsupported-media-type',
            'Unsupported media type',
            'send {"url": ...} as application/json',
          ),
        );
        return;
      }
      jsonBody(req, res, next);
    },
    async (req: Request, res: Response) => {
      const url = readNewReport(req.body);
      const { internal, external, fetch } = await countPage(url, {
        fetchOptions: deps.fetchOptions(req.id),
        record,
      });
      const report = await store.insert({
        url,
        internal,
        external,
        finalUrl: fetch.finalUrl,
        status: fetch.status,
        bytes: fetch.bytes,
        redirects: fetch.redirects,
        durationMs: fetch.durationMs,
      });
      req.log.info({ reportId: report.id }, 'report stored');
      res.status(201).location(`/api/v1/reports/${report.id}`).json(report);
    },
  );

  router.get('/api/v1/reports', async (req, res) => {
    const limit = queryInteger(req, 'limit', 20, 1, 100);
    const cursor = queryString(req, 'cursor', { required: false, maxLength: 200 });
    res.json(await store.list(limit, cursor));
  });

  router.get('/api/v1/reports/:id', async (req, res) => {
    const id = reportId(req);
    const report = await store.get(id);
    if (report === undefined) throw notFound(id);
    res.json(report);
  });

  router.delete('/api/v1/reports/:id', async (req, res) => {
    const id = reportId(req);
    if (!(await store.delete(id))) throw notFound(id);
    res.status(204).end();
  });

  return router;
}
