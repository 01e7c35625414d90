/** Runs the sidecar's two apps in-process on 127.0.0.1, in front of a given upstream. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createOpsApp } from '../../src/ops-app.js';
import { answerClientErrors } from '../../src/problem.js';
import { createProxyApp } from '../../src/proxy-app.js';
import { createRedMetrics, type RedMetrics } from '../../src/red-metrics.js';
import { RouteLabels } from '../../src/route-labels.js';

export interface TestSidecar {
  proxyUrl: string;
  metricsUrl: string;
  metrics: RedMetrics;
  labels: RouteLabels;
  proxyServer: Server;
  close: () => Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startSidecar(upstream: string, env: Record<string, string> = {}): Promise<TestSidecar> {
  const config = loadConfig({ UPSTREAM_URL: upstream, PORT: '0', METRICS_PORT: '0', ...env });
  const labels = RouteLabels.fromOpenApiFile(config.routesFile);
  const metrics = createRedMetrics();
  const proxyServer = createServer(
    createProxyApp({ config, metrics, labels, logger: pino({ level: 'silent' }) }),
  );
  const opsServer = createServer(createOpsApp(metrics, () => false));
  answerClientErrors(proxyServer);
  answerClientErrors(opsServer);
  const [proxyUrl, metricsUrl] = await Promise.all([listen(proxyServer), listen(opsServer)]);
  return {
    proxyUrl,
    metricsUrl,
    metrics,
    labels,
    proxyServer,
    close: async () => {
      for (const server of [proxyServer, opsServer]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
