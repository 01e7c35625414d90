/** Runs the sidecar's two servers in-process on 127.0.0.1 (as main.ts builds them), in front of a given upstream. */
import type { Server } from 'node:http';
import { listenLocally } from '@stagecraft/testkit/local-server';
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
  const servers = await Promise.all([listenLocally(proxy), listenLocally(ops)]);
  return {
    proxyUrl: servers[0].url(''),
    metricsUrl: servers[1].url(''),
    config,
    metrics,
    labels,
    proxyServer: proxy,
    close: async () => {
      for (const server of servers) await server.close();
    },
  };
}
