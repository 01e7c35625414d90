/**
 * vitest's global setup for the PostgreSQL run (vitest.postgres.config.ts): one
 * throw-away cluster on 127.0.0.1 for every test file (each makes databases of
 * its own: store.ts), removed at the end. Missing binaries fail the run, naming
 * the package to install.
 */
import { startPostgres } from '@stagecraft/testkit/postgres';
import type { TestProject } from 'vitest/node';

export default async function setup(project: TestProject): Promise<() => void> {
  const cluster = await startPostgres();
  project.provide('postgresUrl', cluster.url());
  return () => cluster.remove();
}
