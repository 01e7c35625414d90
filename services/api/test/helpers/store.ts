/**
 * Which store the API's tests run against: SQLite (vitest.config.ts, `npm test`)
 * or PostgreSQL (vitest.postgres.config.ts, `npm run test:postgres`, which sets
 * STAGECRAFT_TEST_STORE=postgres and starts one throw-away cluster for the run:
 * postgres-setup.ts). Each store a test opens gets a database of its own.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export type StoreKind = 'sqlite' | 'postgres';

export const STORE_KIND: StoreKind = process.env.STAGECRAFT_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's cluster, its `postgres` database (postgres-setup.ts). */
    postgresUrl: string;
  }
}

/** A new, empty database on the run's cluster; its URL (with the password). */
export async function freshDatabase(): Promise<string> {
  const admin = inject('postgresUrl');
  if (!admin) throw new Error('no PostgreSQL cluster: run these tests with vitest.postgres.config.ts');
  const name = `t_${randomUUID().replaceAll('-', '')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}
