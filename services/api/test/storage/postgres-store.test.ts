/**
 * What only the PostgreSQL store has (run by vitest.postgres.config.ts): several
 * replicas starting and writing at once, the timeouts from limits.ts, and a
 * database restart: calls fail with StorageUnavailableError (the API's 503)
 * while it is down, readiness says so, and the same store serves again once it
 * is back, with no reopen. The restarts use a cluster of this file's own, so the
 * other files' databases stay up.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresCluster } from '@stagecraft/testkit/postgres';
import { poll } from '@stagecraft/testkit/wait';
import { POSTGRES_MIGRATIONS } from '../../src/storage/migrations.js';
import {
  PostgresReportsStore,
  describeDatabase,
  isDatabaseUnavailable,
  redactDatabaseUrl,
  type PostgresOptions,
} from '../../src/storage/postgres-store.js';
import { StorageUnavailableError, isStorageUnavailable, type NewReport } from '../../src/storage/store.js';

const sample = (url: string): NewReport => ({
  url,
  internal: 1,
  external: 2,
  finalUrl: url,
  status: 200,
  bytes: 10,
  redirects: 0,
  durationMs: 1,
});

let cluster: PostgresCluster;
let next = 0;
const options = (url: string, extra: Partial<PostgresOptions> = {}): PostgresOptions => ({
  url,
  poolSize: 4,
  statementTimeoutMs: 5_000,
  connectTimeoutMs: 1_000,
  ...extra,
});
const database = () => cluster.createDatabase(`store_${next++}`);

beforeAll(async () => {
  cluster = await startPostgres();
});
afterAll(() => cluster?.remove());

describe('the PostgreSQL store', () => {
  it('lets three replicas start and write at once: one migration, every report kept', async () => {
    const url = database();
    const stores = await Promise.all([1, 2, 3].map(() => PostgresReportsStore.open(options(url))));
    await Promise.all(
      stores.map(async (store, n) => {
        for (let i = 0; i < 100; i++) await store.insert(sample(`http://replica${n}.test/${i}`));
      }),
    );
    expect(await stores[0]!.count()).toBe(300);
    expect(cluster.psql('SELECT version FROM stagecraft_schema', 'store_0').trim()).toBe(
      String(POSTGRES_MIGRATIONS.length),
    );
    const ids = cluster.psql('SELECT count(DISTINCT id) FROM reports', 'store_0').trim();
    expect(ids).toBe('300');
    await Promise.all(stores.map((store) => store.close()));
  });

  it('opens its whole pool before it serves', async () => {
    const url = database();
    const name = `store_${next - 1}`;
    const store = await PostgresReportsStore.open(options(url));
    const connections = () =>
      cluster.psql(`SELECT count(*) FROM pg_stat_activity WHERE datname = '${name}'`).trim();
    expect(connections()).toBe('4');
    await store.close();
    expect(await poll('the pool closed', async () => (connections() === '0' ? true : undefined))).toBe(true);
  });

  it('refuses a database migrated by a newer build', async () => {
    const url = database();
    await (await PostgresReportsStore.open(options(url))).close();
    cluster.psql(
      `UPDATE stagecraft_schema SET version = ${POSTGRES_MIGRATIONS.length + 1}`,
      `store_${next - 1}`,
    );
    await expect(PostgresReportsStore.open(options(url))).rejects.toThrow(/newer than this build knows/);
  });

  it('ends a statement at DATABASE_STATEMENT_TIMEOUT_MS with StorageUnavailableError, and stays ready', async () => {
    const url = database();
    const store = await PostgresReportsStore.open(options(url, { statementTimeoutMs: 300 }));
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE reports IN ACCESS EXCLUSIVE MODE');
    const started = Date.now();
    const error = await store.insert(sample('http://locked.test/')).catch((e: unknown) => e);
    const took = Date.now() - started;
    await locker.query('ROLLBACK');
    await locker.end();
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(isStorageUnavailable(error)).toBe(true);
    expect(((error as Error).cause as { code?: string }).code).toBe('57014'); // query_canceled
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3_000);
    expect(await store.health()).toEqual({ readable: true, writable: true });
    expect((await store.insert(sample('http://after.test/'))).url).toBe('http://after.test/');
    await store.close();
  });

  it('fails each call with StorageUnavailableError while the database is down, and serves again once it is back, with no reopen', async () => {
    const url = database();
    const problems: string[] = [];
    const store = await PostgresReportsStore.open(
      options(url, {
        onProblem: (event, detail) => problems.push(`${event}: ${detail.code} ${detail.message}`),
      }),
    );
    const kept = await store.insert(sample('http://before.test/'));
    cluster.stop();
    try {
      for (const call of [
        () => store.insert(sample('http://during.test/')),
        () => store.get(kept.id),
        () => store.list(5),
        () => store.count(),
        () => store.delete(kept.id),
      ]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageUnavailableError);
        expect((error as Error).message).not.toContain(cluster.password);
      }
      expect(await store.health()).toEqual({ readable: false, writable: false });
    } finally {
      cluster.start();
    }
    await poll(
      'the store serving again',
      async () => ((await store.health()).writable ? true : undefined),
      10_000,
      100,
    );
    expect(await store.get(kept.id)).toEqual(kept);
    const after = await store.insert(sample('http://after.test/'));
    expect(after.id).toBeGreaterThan(kept.id);
    expect(await store.count()).toBe(2);
    // What it told about: lost connections and refused calls, never the password.
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).not.toContain(cluster.password);
    await store.close();
  });

  it('tells a database that is not there from a bug, and names no password when it describes one', () => {
    expect(
      isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(
      false,
    );
    const url = 'postgres://stagecraft:s3cr%2Ft@db.internal:5432/stagecraft?sslmode=require';
    expect(describeDatabase(url)).toBe('postgres://stagecraft@db.internal:5432/stagecraft');
    expect(redactDatabaseUrl(`failed: ${url} and s3cr/t`, url)).toBe('failed: (database URL) and (password)');
  });
});
