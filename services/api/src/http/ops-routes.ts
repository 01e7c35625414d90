/**
 * Operations: liveness, readiness and the OpenAPI document on the main port, and
 * the metrics port's listener. Prometheus metrics are served on a port of their
 * own (METRICS_PORT) and nowhere else: the main port has no /metrics in any
 * spelling (Express matches routes case-insensitively), so no proxy in front of
 * it has to refuse every spelling to keep them private.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { openApiDocument, pathOf, sendProblem } from '@stagecraft/contract';
import { Router } from 'express';
import type { ApiMetrics } from '../metrics.js';
import type { AppDeps } from './app.js';

export function opsRoutes(deps: AppDeps): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', (_req, res) => {
    const storage = deps.store.health();
    const checks = {
      storage: storage.readable,
      storageWritable: storage.writable,
      draining: deps.draining(),
    };
    const ready = checks.storage && checks.storageWritable && !checks.draining;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', checks });
  });

  router.get('/api/v1/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });

  return router;
}

/** What the app's middleware adds on the main port, added by hand: this port has no Express. */
const NOSNIFF = { 'x-content-type-options': 'nosniff' };

function problem(res: ServerResponse, status: number, slug: string, title: string, detail: string): void {
  sendProblem(res, status, slug, title, detail, { headers: NOSNIFF });
}

/**
 * The metrics port: GET (or HEAD) /metrics, query ignored, and 404 or 405 for
 * anything else. A plain listener, not Express: one path, matched exactly, so
 * what it serves is what this function says. Health stays on the main port:
 * a probe must test the port that serves traffic.
 */
export function metricsListener(metrics: ApiMetrics): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (pathOf(req.url ?? '/') !== '/metrics') {
      problem(res, 404, 'not-found', 'Not found', 'this port serves GET /metrics only');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      problem(res, 405, 'method-not-allowed', 'Method not allowed', `${req.method} is not one of GET, HEAD`);
      return;
    }
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, {
          ...NOSNIFF,
          'content-type': metrics.registry.contentType,
          'content-length': Buffer.byteLength(text),
          'cache-control': 'no-store',
        });
        res.end(text);
      },
      (error: unknown) =>
        problem(
          res,
          500,
          'internal-error',
          'Internal server error',
          `metrics collection failed: ${String(error)}`,
        ),
    );
  };
}
