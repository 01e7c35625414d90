/** The metrics port: Prometheus exposition and the sidecar's own health, never reachable through the proxy. */
import { sendProblem } from '@stagecraft/contract';
import express, { type Express } from 'express';
import type { RedMetrics } from './red-metrics.js';

export function createOpsApp(metrics: RedMetrics, draining: () => boolean): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = !draining();
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not-ready', checks: { draining: !ready } });
  });
  app.use((req, res) =>
    sendProblem(res, 404, 'not-found', 'Not found', `no route for ${req.method} ${req.path.slice(0, 256)}`),
  );
  return app;
}
