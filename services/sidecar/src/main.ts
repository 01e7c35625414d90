/**
 * Entry point of the metrics sidecar: the proxied port and the metrics port,
 * graceful shutdown. SIGTERM fails readiness, stops accepting, lets in-flight
 * proxied requests finish, then exits 0 (1 past SHUTDOWN_TIMEOUT_MS).
 * Start-up failures end it with one line on stderr naming the variable to change
 * and no stack trace: 78 (EX_CONFIG) for a bad value or an address that cannot be
 * bound, 1 for a port another process holds.
 */
import { ConfigError, configOrExit, drain, exitForConfig, listen, ownAddress } from '@stagecraft/contract';
import type { Server } from 'node:http';
import { pino } from 'pino';
import { loadConfig } from './config.js';
import { createRedMetrics } from './red-metrics.js';
import { RouteLabels } from './route-labels.js';
import { createServers } from './servers.js';
import { startTracing } from './tracing/start-tracing.js';

const config = configOrExit('sidecar', () => loadConfig());
// The API's routes, from the OpenAPI document this build was made with.
const labels = new RouteLabels();
const logger = pino({
  level: config.logLevel,
  base: { service: 'sidecar' },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
});
const metrics = createRedMetrics();
// Spans only when OTEL_EXPORTER_OTLP_ENDPOINT is set; unset, no tracing SDK is even loaded.
const tracing = await startTracing(config.otlpTracesUrl);
let draining = false;

// Timeouts (serverOptions in @stagecraft/contract): headers 10 s, whole request 30 s, idle keep-alive 65 s,
// longer than nginx's upstream keep-alive (60 s).
const { proxy, ops } = createServers({ config, metrics, labels, logger, tracing, draining: () => draining });

/** The address a HOST-like variable names: itself, or this container's own address for a network alias. */
async function bindAddress(host: string, variable: string): Promise<string> {
  const address = await ownAddress(host);
  if (address === null)
    exitForConfig('sidecar', new ConfigError(variable, `${host} resolves to no address of this container`));
  return address;
}

/** Binds a server (one line and exit 1 or 78 when it cannot, see listen), then says so. */
async function start(server: Server, host: string, port: number, name: string, variable: string) {
  const bound = await listen(server, { service: 'sidecar', host, port, variable });
  logger.info(
    { host, port: bound, upstream: config.upstream.href, routes: labels.size },
    `${name} listening`,
  );
}
const [proxyHost, metricsHost] = await Promise.all([
  bindAddress(config.host, 'HOST'),
  bindAddress(config.metricsHost, 'METRICS_HOST'),
]);
void start(proxy, proxyHost, config.port, 'proxy', 'PORT');
void start(ops, metricsHost, config.metricsPort, 'metrics', 'METRICS_PORT');

function shutdown(signal: string): void {
  if (draining) return;
  draining = true;
  logger.info({ signal }, 'shutting down: draining proxied requests');
  const deadline = performance.now() + config.shutdownTimeoutMs;
  void drain(proxy, config.shutdownTimeoutMs).then((drained) => {
    if (!drained) {
      logger.warn('shutdown timeout: closed remaining connections');
      process.exit(1);
    }
    ops.close(() => {
      // The spans still buffered: within what is left of SHUTDOWN_TIMEOUT_MS (which
      // limits.ts keeps below the orchestrator's grace period), and a bound of their own.
      void (tracing?.shutdown(deadline - performance.now()) ?? Promise.resolve()).then(() => {
        logger.info('shutdown complete');
        process.exitCode = 0;
      });
    });
    ops.closeAllConnections();
  });
}

process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
