/**
 * Entry point: configuration, storage, HTTP server, graceful shutdown.
 *
 * SIGTERM/SIGINT: readiness fails at once (proxies stop routing here), the server
 * stops accepting connections, in-flight requests finish, idle keep-alive
 * connections close, the database closes, and the process exits 0 - or, past
 * SHUTDOWN_TIMEOUT_MS, remaining connections are cut and it exits 1.
 */
import { createServer } from 'node:http';
import { ConfigError, loadConfig, type Config } from './config.js';
import { fetchOptionsFactory } from './fetch/fetch-options.js';
import { createApp } from './http/app.js';
import { answerClientErrors } from './http/problem.js';
import { createLogger } from './logger.js';
import { createApiMetrics } from './metrics.js';
import { ReportsStore } from './storage/reports-store.js';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`api: invalid configuration: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

const config = readConfig();
const logger = createLogger(config.logLevel);
const store = new ReportsStore(config.dataDir);
const metrics = createApiMetrics(() => store.count());
let draining = false;

const app = createApp({
  config,
  store,
  logger,
  metrics,
  draining: () => draining,
  fetchOptions: fetchOptionsFactory(config),
});

const server = createServer(app);
answerClientErrors(server);
// Idle keep-alive connections must outlive every proxy's upstream keep-alive,
// or a proxy reuses a socket the server is closing and answers 502.
server.keepAliveTimeout = config.keepAliveTimeoutMs;
server.headersTimeout = config.keepAliveTimeoutMs + 1_000;
server.requestTimeout = config.fetchTimeoutMs + 30_000;

server.listen(config.port, config.host, () => {
  const address = server.address();
  logger.info(
    {
      port: typeof address === 'object' && address !== null ? address.port : config.port,
      schemaVersion: store.schemaVersion,
      node: process.version,
    },
    'api listening',
  );
});

function shutdown(signal: string): void {
  if (draining) return;
  draining = true;
  logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: draining connections');
  const force = setTimeout(() => {
    logger.warn('shutdown timeout: closing remaining connections');
    server.closeAllConnections();
    store.close();
    process.exit(1);
  }, config.shutdownTimeoutMs);
  force.unref();
  // Keep-alive connections become idle as their last response finishes: close
  // them as they do, so server.close() can complete before the timeout.
  const reaper = setInterval(() => server.closeIdleConnections(), 100);
  server.close(() => {
    clearInterval(reaper);
    clearTimeout(force);
    store.close();
    logger.info('shutdown complete');
    process.exitCode = 0;
  });
  server.closeIdleConnections();
}

process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
