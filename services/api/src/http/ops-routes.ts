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
import { Gauge, type Registry } from 'prom-client';
import type { ApiMetrics } from '../metrics.js';
import { freeSpaceOf, type FreeSpace, type StatFs } from '../storage/free-space.js';
import { MIN_FREE_BYTES } from '../storage/reports-store.js';
import type { AppDeps } from './app.js';

export function opsRoutes(deps: AppDeps): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const { ready, checks } = await readiness(deps);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', checks });
  });

  router.get('/api/v1/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });

  return router;
}

/** What /readyz answers: storage (the SQLite file, or the PostgreSQL server) readable and writable, and not draining. */
export async function readiness(deps: Pick<AppDeps, 'store' | 'draining'>) {
  const storage = await deps.store.health();
  const checks = {
    storage: storage.readable,
    storageWritable: storage.writable,
    draining: deps.draining(),
  };
  return { ready: checks.storage && checks.storageWritable && !checks.draining, checks };
}

/**
 * The readiness check's view for Prometheus, on the metrics port, read at scrape
 * time: stagecraft_ready, 1 when /readyz would answer 200 (the same function), so
 * an alert can count ready replicas; the data volume's free space and size as the
 * check reads them (storage/free-space.ts), and the floor below which it fails,
 * so the storage alerts compare against that series rather than a copy of it.
 */
export function registerReadinessMetrics(
  registry: Registry,
  deps: Pick<AppDeps, 'config' | 'store' | 'draining'>,
  statfs?: StatFs,
): void {
  const registers = [registry];
  new Gauge({
    name: 'stagecraft_ready',
    help: 'Whether this replica is ready for traffic (1) or not (0), as GET /readyz answers.',
    registers,
    async collect() {
      this.set((await readiness(deps)).ready ? 1 : 0);
    },
  });
  const space = (name: string, help: string, pick: (space: FreeSpace) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        try {
          this.set(pick(freeSpaceOf(deps.config.dataDir, statfs)));
        } catch {
          // DATA_DIR unreadable: keep the last value; stagecraft_ready and /readyz say so.
        }
      },
    });
  space(
    'stagecraft_storage_free_bytes',
    'Bytes the API can still write on the file system holding DATA_DIR.',
    (s) => s.free,
  );
  space('stagecraft_storage_size_bytes', 'Size in bytes of the file system holding DATA_DIR.', (s) => s.size);
  new Gauge({
    name: 'stagecraft_storage_min_free_bytes',
    help: 'Free bytes on DATA_DIR below which GET /readyz reports the storage not writable.',
    registers,
  }).set(MIN_FREE_BYTES);
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
