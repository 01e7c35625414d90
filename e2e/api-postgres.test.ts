/**
 * The API's storage and HTTP tests on PostgreSQL (services/api/vitest.postgres.config.ts,
 * `npm run test:postgres`), run here so that `npm run test:e2e`, `npm run test:all`
 * and so `./stagecraft test` and CI run them, and the summary counts them. They
 * live outside `npm test` because they need a database server: a throw-away
 * cluster from Debian's postgresql binaries on 127.0.0.1 (packages/testkit
 * postgres.ts; `./stagecraft test` installs the package), not Docker, so the dev
 * container and the API image's test stage keep needing nothing but Node.
 *
 * One test per file of that run: each must have run tests, all passed, none
 * skipped. Without the binaries every one fails, naming the package.
 */
import { globSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAsync } from '@stagecraft/testkit/command';
import { REPO_ROOT } from '@stagecraft/testkit/repository';

const API = join(REPO_ROOT, 'services/api');
const REPORT = join(REPO_ROOT, 'test-results/api-postgres.json');
/** The files the PostgreSQL run must hold (its config's include, read the same way). */
const FILES = [
  'test/storage/store-contract.test.ts',
  ...globSync('test/storage/postgres-*.test.ts', { cwd: API }),
  ...globSync('test/http/*.test.ts', { cwd: API }).filter((f) => !f.endsWith('readiness-metrics.test.ts')),
].sort();

interface FileResult {
  name: string;
  status: string;
  message?: string;
  assertionResults: { status: string; fullName: string; failureMessages: string[] }[];
}

let results: FileResult[] = [];
let output = '';

beforeAll(async () => {
  const run = await runAsync('npx', ['vitest', 'run', '--config', 'vitest.postgres.config.ts'], { cwd: API });
  output = `${run.stdout}\n${run.stderr}`.slice(-6000);
  try {
    results = (JSON.parse(readFileSync(REPORT, 'utf8')) as { testResults: FileResult[] }).testResults;
  } catch {
    results = [];
  }
}, 600_000);

describe("the API's tests on PostgreSQL", () => {
  it.each(FILES)('%s: ran, every test passed, none skipped', (file) => {
    const result = results.find((r) => r.name.endsWith(file));
    expect(result, `${file} is not in the PostgreSQL run's report:\n${output}`).toBeDefined();
    const failed = result!.assertionResults.filter((a) => a.status !== 'passed');
    expect(
      failed.map((a) => `${a.status}: ${a.fullName}\n${a.failureMessages.join('\n').slice(0, 1500)}`),
      result!.message ?? '',
    ).toEqual([]);
    expect(result!.assertionResults.length).toBeGreaterThan(0);
  });
});
