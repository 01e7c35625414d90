/**
 * Operations: liveness, readiness and the OpenAPI document on the main port, and
 * the metrics port's listener. Prometheus metrics are served on a port of their
 * own (METRICS_PORT) and nowhere else: the main port has no /metrics in any
 * spelling (Express matches routes case-insensitively), so no proxy in front of
 * it has to refuse every spelling to keep them private.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router } from 'express';
import type { ApiMetrics } from '../metrics.js';
import type { AppDeps } from './app.js';
import { openApiDocument } from './openapi.js';

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

function answer(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, {
    ...headers,
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

function problem(res: ServerResponse, status: number, slug: string, title: string, detail: string): void {
  const body = JSON.stringify({ type: `urn:stagecraft:problem:${slug}`, title, status, detail });
  answer(res, status, { 'content-type': 'application/problem+json' }, body);
}

/**
 * The metrics port: GET (or HEAD) /metrics, query ignored, and 404 or 405 for
 * anything else. A plain listener, not Express: one path, matched exactly, so
 * what it serves is what this function says. Health stays on the main port:
 * a probe must test the port that serves traffic.
 */
export function metricsListener(metrics: ApiMetrics): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const target = req.url ?? '/';
    const end = target.search(/[?#]/);
    const path = end < 0 ? target : target.slice(0, end);
    if (path !== '/metrics') {
      problem(res, 404, 'not-found', 'Not found', 'this port serves GET /metrics only');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      problem(res, 405, 'method-not-allowed', 'Method not allowed', `${req.method} is not one of GET, HEAD`);
      return;
    }
    metrics.registry.metrics().then(
      (text) => answer(res, 200, { 'content-type': metrics.registry.contentType }, text),
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
