/**
 * Runs the real API app in-process on 127.0.0.1 with a throw-away data directory,
 * and a client that checks every response against the OpenAPI document.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerClientErrors } from '@stagecraft/contract';
import { loadConfig, type Config } from '../../src/config.js';
import type { Resolver, SocketFactory } from '../../src/fetch/fetch-page.js';
import { fetchOptionsFactory } from '../../src/fetch/fetch-options.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { createApiMetrics } from '../../src/metrics.js';
import { PostgresReportsStore } from '../../src/storage/postgres-store.js';
import { SqliteReportsStore, type ReportsStore } from '../../src/storage/reports-store.js';
import { assertMatchesOpenApi } from './openapi-validator.js';
import { STORE_KIND, freshDatabase } from './store.js';

export interface ApiOptions {
  env?: Record<string, string>;
  resolve?: Resolver;
  connect?: SocketFactory;
  /** Stands in for the data volume's free space (readiness; the SQLite store's only). */
  freeBytes?: (dir: string) => number;
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

export interface TestApi {
  url: string;
  config: Config;
  store: ReportsStore;
  setDraining: (value: boolean) => void;
  /** Calls the API; `template` names the documented route the response is checked against. */
  call: (method: string, path: string, template: string, init?: RequestInit) => Promise<CallResult>;
  close: () => Promise<void>;
}

/**
 * The app on the store this run tests (STORE_KIND): SQLite in a fresh data
 * directory, or a fresh database on the run's PostgreSQL cluster, chosen through
 * DATABASE_URL as the process chooses it.
 */
export async function startApi(options: ApiOptions = {}): Promise<TestApi> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stagecraft-api-'));
  const database = STORE_KIND === 'postgres' ? { DATABASE_URL: await freshDatabase() } : {};
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...database, ...options.env });
  const store: ReportsStore =
    config.database === null
      ? new SqliteReportsStore(dataDir, { freeBytes: options.freeBytes })
      : await PostgresReportsStore.open(config.database);
  let draining = false;
  const app = createApp({
    config,
    store,
    logger: createLogger('silent'),
    metrics: createApiMetrics(() => store.count()),
    draining: () => draining,
    fetchOptions: fetchOptionsFactory(config, options),
  });
  const server: Server = createServer(app);
  answerClientErrors(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    config,
    store,
    setDraining: (value) => {
      draining = value;
    },
    call: async (method, path, template, init = {}) => {
      const response = await fetch(url + path, { ...init, method });
      const text = await response.text();
      const contentType = response.headers.get('content-type');
      const body = contentType?.includes('json') && text !== '' ? (JSON.parse(text) as unknown) : text;
      assertMatchesOpenApi(method, template, response.status, contentType, text === '' ? undefined : body);
      return { status: response.status, headers: response.headers, body, text };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
