/**
 * Entry point of the metrics sidecar: the proxied port and the metrics port,
 * graceful shutdown. SIGTERM fails readiness, stops accepting, lets in-flight
 * proxied requests finish, then exits 0 (1 past SHUTDOWN_TIMEOUT_MS).
 */
import { createServer, type Server } from 'node:http';
import { pino } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createOpsApp } from './ops-app.js';
import { answerClientErrors } from './problem.js';
import { createProxyApp } from './proxy-app.js';
import { createRedMetrics } from './red-metrics.js';
import { RouteLabels } from './route-labels.js';

function fail(message: string): never {
  process.stderr.write(`metrics: invalid configuration: ${message}\n`);
  process.exit(78); // EX_CONFIG
}

function readConfig(): { config: Config; labels: RouteLabels } {
  try {
    const config = loadConfig();
    try {
      return { config, labels: RouteLabels.fromOpenApiFile(config.routesFile) };
    } catch (error) {
      fail(`ROUTES_FILE: ${(error as Error).message}`);
    }
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

const { config, labels } = readConfig();
const logger = pino({
  level: config.logLevel,
  base: { service: 'metrics' },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
});
const metrics = createRedMetrics();
let draining = false;

const proxy = createServer(createProxyApp({ config, metrics, labels, logger }));
answerClientErrors(proxy);
// Longer than nginx's upstream keep-alive (60 s), so the gateway never reuses a socket we are closing.
proxy.keepAliveTimeout = config.keepAliveTimeoutMs;
proxy.headersTimeout = config.keepAliveTimeoutMs + 1_000;
const ops = createServer(createOpsApp(metrics, () => draining));
answerClientErrors(ops);

function listen(server: Server, port: number, name: string): void {
  server.listen(port, config.host, () => {
    const address = server.address();
    logger.info(
      {
        port: typeof address === 'object' && address !== null ? address.port : port,
        upstream: config.upstream.href,
        routes: labels.size,
      },
      `${name} listening`,
    );
  });
}
listen(proxy, config.port, 'proxy');
listen(ops, config.metricsPort, 'metrics');

function shutdown(signal: string): void {
  if (draining) return;
  draining = true;
  logger.info({ signal }, 'shutting down: draining proxied requests');
  const force = setTimeout(() => {
    logger.warn('shutdown timeout: closing remaining connections');
    proxy.closeAllConnections();
    process.exit(1);
  }, config.shutdownTimeoutMs);
  force.unref();
  const reaper = setInterval(() => proxy.closeIdleConnections(), 100);
  proxy.close(() => {
    clearInterval(reaper);
    ops.close(() => {
      clearTimeout(force);
      logger.info('shutdown complete');
      process.exitCode = 0;
    });
    ops.closeAllConnections();
  });
  proxy.closeIdleConnections();
}

process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
