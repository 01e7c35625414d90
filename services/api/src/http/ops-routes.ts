/** Operations: liveness, readiness, Prometheus metrics and the OpenAPI document. */
import { Router } from 'express';
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

  router.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  router.get('/api/v1/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });

  return router;
}
