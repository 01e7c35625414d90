/**
 * Entry point: configuration, storage, the two HTTP servers (the API on PORT,
 * Prometheus's /metrics on METRICS_PORT), graceful shutdown.
 *
 * Start-up failures end the process with one line on stderr naming the variable
 * to change and no stack trace: exit 78 (EX_CONFIG) for a bad value, DATA_DIR
 * included, or an address that cannot be bound; exit 1 when the port is held by
 * another process, which may let go (a restart can succeed).
 *
 * SIGTERM/SIGINT: readiness fails at once (proxies stop routing here), the server
 * stops accepting connections, in-flight requests finish, idle keep-alive
 * connections close, the database closes, and the process exits 0 - or, past
 * SHUTDOWN_TIMEOUT_MS, remaining connections are cut and it exits 1.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, loadConfig, type Config } from './config.js';
import { fetchOptionsFactory } from './fetch/fetch-options.js';
import { createApp } from './http/app.js';
import { metricsListener } from './http/ops-routes.js';
import { answerClientErrors, refuseAmbiguousRequest } from './http/problem.js';
import { createLogger } from './logger.js';
import { createApiMetrics } from './metrics.js';
import { DATABASE_FILE, ReportsStore } from './storage/reports-store.js';

function invalid(variable: string, message: string): never {
  process.stderr.write(`api: invalid configuration: ${variable}: ${message}\n`);
  process.exit(78); // EX_CONFIG
}

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`api: invalid configuration: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why DATA_DIR cannot hold the database, or null. It must be a directory, or a
 * path where one can be made. A directory that cannot be written is fine when it
 * holds a database: the API then serves it read-only (a volume mounted read-only,
 * see ReportsStore); without one there is nothing to serve and nowhere to write.
 */
function dataDirProblem(dir: string): string | null {
  let path = resolve(dir);
  try {
    if (!statSync(path).isDirectory()) return `${dir} is not a directory`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return `${dir} cannot be used (${code})`;
    // Missing (or below a file): the nearest existing ancestor must be a directory we can create in.
    while (!existsSync(path) && dirname(path) !== path) path = dirname(path);
    if (!statSync(path).isDirectory()) return `${dir} cannot be created: ${path} is not a directory`;
    if (!writable(path)) return `${dir} does not exist and cannot be created in ${path} (not writable)`;
    return null;
  }
  if (!writable(path) && !existsSync(join(path, DATABASE_FILE)))
    return `${dir} is not writable and holds no database (${DATABASE_FILE}) to serve read-only`;
  return null;
}

function openStore(dir: string): ReportsStore {
  const problem = dataDirProblem(dir);
  if (problem !== null) invalid('DATA_DIR', problem);
  try {
    return new ReportsStore(dir);
  } catch (error) {
    // The file system or SQLite refused the directory or the file in it (a code
    // says which); anything else is a bug, and keeps its stack trace.
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string') throw error;
    invalid('DATA_DIR', `cannot open ${join(dir, DATABASE_FILE)}: ${(error as Error).message} (${code})`);
  }
}

const config = readConfig();
const logger = createLogger(config.logLevel);
const store = openStore(config.dataDir);
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

/**
 * Node's server timeouts, in the order they must hold (Node itself refuses
 * headersTimeout > requestTimeout; config.ts refuses equal):
 * - headersTimeout (10 s, as nginx's client_header_timeout): a request's headers,
 *   from its first byte; a connection that sends nothing is cut at it too.
 * - requestTimeout (35 s): the whole request, body included, from its first
 *   byte. It does not bound the handler (a fetch has FETCH_TIMEOUT_MS), only the
 *   client's sending; 5 s above the sidecar's 30 s, so behind the sidecar the
 *   sidecar's 408 is the one clients see.
 * - keepAliveTimeout (65 s): idle connections outlive every proxy's upstream
 *   keep-alive (nginx 60 s; the sidecar's agent retires sockets a second before
 *   the Keep-Alive hint), or a proxy reuses a socket the server is closing: 502.
 * Node checks the first two every connectionsCheckingInterval (30 s by default,
 * so a 10 s timeout could fire 40 s late): here at most a second late.
 */
function strictServer(listener: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      keepAliveTimeout: config.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(config.headersTimeoutMs / 4))),
      // A missing Host is answered by refuseAmbiguousRequest, with a problem document.
      requireHostHeader: false,
    },
    (req, res) => {
      if (!refuseAmbiguousRequest(req, res)) listener(req, res);
    },
  );
  answerClientErrors(server);
  return server;
}

const server = strictServer(app);
const metricsServer = strictServer(metricsListener(metrics));

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this machine',
  EACCES: 'permission denied',
  ENOTFOUND: 'host name does not resolve',
  EAI_AGAIN: 'host name did not resolve in time',
};

function listen(target: Server, port: number, variable: string): Promise<number> {
  return new Promise((done) => {
    target.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? 'unknown';
      const blame = ['EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN'].includes(code) ? 'HOST' : variable;
      process.stderr.write(
        `api: cannot listen on ${config.host}:${port}: ${LISTEN_ERRORS[code] ?? code} (${blame})\n`,
      );
      store.close();
      process.exit(code === 'EADDRINUSE' || code === 'EAI_AGAIN' ? 1 : 78);
    });
    target.listen(port, config.host, () => {
      const address = target.address();
      done(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

void Promise.all([
  listen(server, config.port, 'PORT'),
  listen(metricsServer, config.metricsPort, 'METRICS_PORT'),
]).then(([port, metricsPort]) => {
  logger.info(
    { port, metricsPort, schemaVersion: store.schemaVersion, node: process.version },
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
    // Scrapeable while draining; a scrape is never long, so its connections are cut now.
    metricsServer.close();
    metricsServer.closeAllConnections();
    store.close();
    logger.info('shutdown complete');
    process.exitCode = 0;
  });
  server.closeIdleConnections();
}

process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
