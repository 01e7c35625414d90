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
import { dirname, join, resolve } from 'node:path';
import { ConfigError, configOrExit, drain, exitForConfig, listen, strictServer } from '@stagecraft/contract';
import { loadConfig, type DatabaseConfig } from './config.js';
import { fetchOptionsFactory } from './fetch/fetch-options.js';
import { createApp } from './http/app.js';
import { metricsListener, registerReadinessMetrics } from './http/ops-routes.js';
import { createLogger } from './logger.js';
import { createApiMetrics } from './metrics.js';
import { startTracing } from './tracing/start-tracing.js';
import { DATABASE_FILE, SqliteReportsStore, type ReportsStore } from './storage/reports-store.js';
import {
  PostgresReportsStore,
  describeDatabase,
  isDatabaseUnavailable,
  redactDatabaseUrl,
} from './storage/postgres-store.js';

/** A DATA_DIR found unusable at start ends the process as a bad value does: one line, exit 78. */
function invalid(variable: string, message: string): never {
  exitForConfig('api', new ConfigError(variable, message));
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
    return new SqliteReportsStore(dir);
  } catch (error) {
    // The file system or SQLite refused the directory or the file in it (a code
    // says which); anything else is a bug, and keeps its stack trace.
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string') throw error;
    invalid('DATA_DIR', `cannot open ${join(dir, DATABASE_FILE)}: ${(error as Error).message} (${code})`);
  }
}

/** How long a start waits for a database still starting (Swarm has no start order), retrying each second. */
const DATABASE_START_WAIT_MS = 30_000;

/**
 * PostgreSQL: connect and migrate. A database that is not there yet is waited
 * for, then ends the process with exit 1 (a restart may succeed, as with a held
 * port); refused credentials or a missing database are a bad value: exit 78. No
 * line quotes the connection string (redactDatabaseUrl).
 */
async function openPostgres(database: DatabaseConfig): Promise<ReportsStore> {
  const deadline = Date.now() + DATABASE_START_WAIT_MS;
  const onProblem = (event: string, detail: { code?: string; message: string }) =>
    logger.warn({ code: detail.code, reason: redactDatabaseUrl(detail.message, database.url) }, event);
  for (;;) {
    try {
      return await PostgresReportsStore.open({ ...database, onProblem });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const reason = `${redactDatabaseUrl((error as Error).message, database.url)}${typeof code === 'string' ? ` (${code})` : ''}`;
      if (typeof code === 'string' && /^(28|3D)/.test(code))
        invalid(database.variable, `the database refused the connection: ${reason}`);
      if (!isDatabaseUnavailable(error)) throw error;
      if (Date.now() >= deadline) {
        console.error(
          `api: cannot reach the database (${database.variable}) within ${DATABASE_START_WAIT_MS} ms: ${reason}`,
        );
        process.exit(1);
      }
      logger.warn({ reason }, 'database not reachable yet: retrying in 1 s');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

const config = configOrExit('api', () => loadConfig());
const logger = createLogger(config.logLevel);
// Spans only when OTEL_EXPORTER_OTLP_ENDPOINT is set; unset, no tracing SDK is even loaded.
const tracing = await startTracing(config.otlpTracesUrl);
const store: ReportsStore =
  config.database === null ? openStore(config.dataDir) : await openPostgres(config.database);
const metrics = createApiMetrics(() => store.count());
let draining = false;

const app = createApp({
  config,
  // The requests' store calls as spans (tracing/traced-store.ts); main.ts's own calls make none.
  store: tracing?.traceStore(store, config.database === null ? 'sqlite' : 'postgresql') ?? store,
  logger,
  metrics,
  draining: () => draining,
  fetchOptions: fetchOptionsFactory(config, tracing === null ? {} : { observeHop: tracing.observeHop }),
  ...(tracing === null ? {} : { serveTraced: tracing.serveTraced }),
});
registerReadinessMetrics(metrics.registry, { config, store, draining: () => draining });

// Node's server timeouts (serverOptions in @stagecraft/contract): headers 10 s (as
// nginx's client_header_timeout), the whole request 35 s (5 s above the sidecar's
// 30 s, so behind the sidecar its 408 is the one clients see), idle keep-alive
// 65 s (above nginx's 60 s and the sidecar agent's Keep-Alive hint).
const server = strictServer(config, app);
const metricsServer = strictServer(config, metricsListener(metrics));

/** Binds a server; one that cannot be bound closes the database, then ends the process (see listen). */
const bind = (target: typeof server, port: number, variable: string) =>
  listen(target, { service: 'api', host: config.host, port, variable, beforeExit: () => store.close() });
void Promise.all([
  bind(server, config.port, 'PORT'),
  bind(metricsServer, config.metricsPort, 'METRICS_PORT'),
  store.schemaVersion(),
]).then(([port, metricsPort, schemaVersion]) => {
  const storage =
    config.database === null ? join(config.dataDir, DATABASE_FILE) : describeDatabase(config.database.url);
  logger.info({ port, metricsPort, schemaVersion, storage, node: process.version }, 'api listening');
});

function shutdown(signal: string): void {
  if (draining) return;
  draining = true;
  logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: draining connections');
  const deadline = performance.now() + config.shutdownTimeoutMs;
  void drain(server, config.shutdownTimeoutMs).then(async (drained) => {
    if (!drained) {
      logger.warn('shutdown timeout: closed remaining connections');
      void store.close();
      process.exit(1);
    }
    // Scrapeable while draining; a scrape is never long, so its connections are cut now.
    metricsServer.close();
    metricsServer.closeAllConnections();
    await store.close().catch(() => undefined);
    // The spans still buffered: within what is left of SHUTDOWN_TIMEOUT_MS (which
    // limits.ts keeps below the orchestrator's grace period), and a bound of its own.
    await tracing?.shutdown(deadline - performance.now());
    logger.info('shutdown complete');
    process.exitCode = 0;
  });
}

process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
