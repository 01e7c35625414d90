/** Runs the sidecar's two servers in-process on 127.0.0.1 (as main.ts builds them), in front of a given upstream. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { createRedMetrics, type RedMetrics } from '../../src/red-metrics.js';
import { RouteLabels } from '../../src/route-labels.js';
import { createServers } from '../../src/servers.js';

export interface TestSidecar {
  proxyUrl: string;
  metricsUrl: string;
  config: Config;
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
  const labels = new RouteLabels();
  const metrics = createRedMetrics();
  const { proxy, ops } = createServers({
    config,
    metrics,
    labels,
    logger: pino({ level: 'silent' }),
    draining: () => false,
  });
  const [proxyUrl, metricsUrl] = await Promise.all([listen(proxy), listen(ops)]);
  return {
    proxyUrl,
    metricsUrl,
    config,
    metrics,
    labels,
    proxyServer: proxy,
    close: async () => {
      for (const server of [proxy, ops]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
