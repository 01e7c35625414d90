/**
 * The two stores side by side (not a test): writes, point reads and first pages
 * per second, with p50 and p99 latency, on SQLite (a file, synchronous = FULL:
 * every commit on disk) and on PostgreSQL (a throw-away cluster on 127.0.0.1 from
 * Debian's binaries, fsync on, synchronous_commit on: every commit on disk too), in
 * the same process, on the same disk, with the same reports and the same read
 * pattern. Each operation runs one at a time (a request's own latency) and eight
 * at once (what one replica's pool of connections gives; SQLite's calls are
 * synchronous, so it gains nothing from it). Rounds alternate which store goes
 * first; medians over rounds. The network hop is loopback here: between hosts,
 * add that network's round trip to each PostgreSQL call.
 *
 * Writes services/api/bench/results/storage.json (storage.quick.json) and prints a
 * table; `npm run bench` reads it into bench/RESULTS.md ("Storage").
 *
 *   npm run bench:storage [-- --quick]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '@stagecraft/testkit/postgres';
import { median, percentile } from '@stagecraft/testkit/stats';
import { PostgresReportsStore } from '../src/storage/postgres-store.js';
import { SqliteReportsStore } from '../src/storage/reports-store.js';
import type { NewReport, ReportsStore } from '../src/storage/store.js';

const quick = process.argv.includes('--quick');
/** Bounded in count: per store, per round, per concurrency. */
const COUNTS = quick
  ? { writes: 200, reads: 500, pages: 200, rounds: 1 }
  : { writes: 2_000, reads: 5_000, pages: 2_000, rounds: 3 };
const CONCURRENCY = [1, 8] as const;
/** What the API's pool holds by default (limits.ts DATABASE_POOL_SIZE). */
const POOL_SIZE = 10;

type Operation = 'write' | 'read' | 'page';
interface OperationFigures {
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}
interface StorageFigures {
  quick: boolean;
  counts: typeof COUNTS;
  postgresVersion: string;
  /** store -> "concurrency 1" | "concurrency 8" -> operation -> figures (medians over rounds). */
  results: Record<'sqlite' | 'postgres', Record<string, Record<Operation, OperationFigures>>>;
}

/** The same reports for both stores: a deterministic sequence, realistic sizes. */
function report(n: number): NewReport {
  const url = `https://site${n % 97}.example.test/articles/${n}/index.html`;
  return {
    url,
    internal: (n * 7) % 300,
    external: (n * 13) % 120,
    finalUrl: url,
    status: 200,
    bytes: 20_000 + ((n * 7919) % 80_000),
    redirects: n % 3,
    durationMs: 5 + (n % 200) / 3,
  };
}

/** Runs `count` calls, `concurrency` at a time; each call's latency and the whole run's rate. */
async function timed(
  count: number,
  concurrency: number,
  call: (n: number) => Promise<unknown>,
): Promise<OperationFigures> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const n = next++;
        const t0 = performance.now();
        await call(n);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    opsPerSecond: count / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/** Writes, then reads of the reports just written (the same positions in both stores), then first pages. */
async function measure(store: ReportsStore, concurrency: number, offset: number) {
  const ids: number[] = [];
  const write = await timed(COUNTS.writes, concurrency, async (n) => {
    ids[n] = (await store.insert(report(offset + n))).id;
  });
  const read = await timed(COUNTS.reads, concurrency, async (n) => {
    const found = await store.get(ids[(n * 7919) % ids.length]!);
    if (found === undefined) throw new Error('a report just written is missing');
  });
  const page = await timed(COUNTS.pages, concurrency, () => store.list(20));
  return { write, read, page };
}

const dir = mkdtempSync(join(tmpdir(), 'stagecraft-storage-bench-'));
// Durable commits, as in production: the testkit's clusters turn fsync off for tests.
const cluster = await startPostgres({ settings: { fsync: 'on', full_page_writes: 'on' } });
const stores: Record<'sqlite' | 'postgres', ReportsStore> = {
  sqlite: new SqliteReportsStore(join(dir, 'sqlite')),
  postgres: await PostgresReportsStore.open({
    url: cluster.createDatabase('storage_bench'),
    poolSize: POOL_SIZE,
    statementTimeoutMs: 3_000,
    connectTimeoutMs: 3_000,
  }),
};
const samples: Record<string, Record<Operation, OperationFigures>[]> = {};
try {
  const postgresVersion = cluster.psql('SHOW server_version').trim();
  // Warm-up: JIT, statement caches, the pool (not measured).
  for (const store of Object.values(stores)) for (let i = 0; i < 50; i++) await store.insert(report(i));
  let offset = 1_000_000;
  for (let round = 0; round < COUNTS.rounds; round++) {
    const order = (
      round % 2 === 0 ? ['sqlite', 'postgres'] : ['postgres', 'sqlite']
    ) as (keyof typeof stores)[];
    for (const concurrency of CONCURRENCY)
      for (const name of order) {
        (samples[`${name}|${concurrency}`] ??= []).push(await measure(stores[name], concurrency, offset));
        offset += COUNTS.writes;
      }
  }
  const results = { sqlite: {}, postgres: {} } as StorageFigures['results'];
  for (const [key, list] of Object.entries(samples)) {
    const [name, concurrency] = key.split('|') as ['sqlite' | 'postgres', string];
    results[name][`concurrency ${concurrency}`] = Object.fromEntries(
      (['write', 'read', 'page'] as const).map((op) => [
        op,
        {
          opsPerSecond: median(list.map((s) => s[op].opsPerSecond)),
          p50Ms: median(list.map((s) => s[op].p50Ms)),
          p99Ms: median(list.map((s) => s[op].p99Ms)),
        },
      ]),
    ) as Record<Operation, OperationFigures>;
  }
  const figures: StorageFigures = { quick, counts: COUNTS, postgresVersion, results };
  const out = join(
    dirname(fileURLToPath(import.meta.url)),
    'results',
    quick ? 'storage.quick.json' : 'storage.json',
  );
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, ...figures }, null, 2) + '\n',
  );
  console.log(
    `storage bench${quick ? ' (quick)' : ''}: PostgreSQL ${postgresVersion}, ${COUNTS.rounds} round(s)`,
  );
  console.log('store     at once  operation   ops/s     p50 ms   p99 ms');
  for (const [name, byConcurrency] of Object.entries(results))
    for (const [concurrency, ops] of Object.entries(byConcurrency))
      for (const [op, f] of Object.entries(ops))
        console.log(
          `${name.padEnd(9)} ${concurrency.replace('concurrency ', '').padEnd(8)} ${op.padEnd(11)} ${f.opsPerSecond.toFixed(0).padStart(7)}  ${f.p50Ms.toFixed(3).padStart(7)}  ${f.p99Ms.toFixed(3).padStart(7)}`,
        );
  console.log(`wrote ${out}`);
} finally {
  await Promise.all(Object.values(stores).map((store) => store.close()));
  cluster.remove();
  rmSync(dir, { recursive: true, force: true });
}
