/**
 * Entry point of the metrics sidecar: the proxied port and the metrics port,
 * graceful shutdown. SIGTERM fails readiness, stops accepting, lets in-flight
 * proxied requests finish, then exits 0 (1 past SHUTDOWN_TIMEOUT_MS).
 * Start-up failures end it with one line on stderr naming the variable to change
 * and no stack trace: 78 (EX_CONFIG) for a bad value or an address that cannot be
 * bound, 1 for a port another process holds.
 */
import type { Server } from 'node:http';
import { pino } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createRedMetrics } from './red-metrics.js';
import { RouteLabels } from './route-labels.js';
import { createServers } from './servers.js';

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

// Timeouts (see servers.ts): headers 10 s, whole request 30 s, idle keep-alive 65 s,
// longer than nginx's upstream keep-alive (60 s).
const { proxy, ops } = createServers({ config, metrics, labels, logger, draining: () => draining });

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this machine',
  EACCES: 'permission denied',
  ENOTFOUND: 'host name does not resolve',
  EAI_AGAIN: 'host name did not resolve in time',
};

/**
 * A port that cannot be bound ends the process with one line naming the variable
 * to change: exit 1 when another process holds the port (it may let go: a restart
 * can succeed), 78 (EX_CONFIG) when the address itself is wrong.
 */
function listen(server: Server, port: number, name: string, variable: string): void {
  server.once('error', (error: NodeJS.ErrnoException) => {
    const code = error.code ?? 'unknown';
    const blame = ['EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN'].includes(code) ? 'HOST' : variable;
    process.stderr.write(
      `metrics: cannot listen on ${config.host}:${port}: ${LISTEN_ERRORS[code] ?? code} (${blame})\n`,
    );
    process.exit(code === 'EADDRINUSE' || code === 'EAI_AGAIN' ? 1 : 78);
  });
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
listen(proxy, config.port, 'proxy', 'PORT');
listen(ops, config.metricsPort, 'metrics', 'METRICS_PORT');

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
