/**
 * The two stores side by side: the API's storage benchmark
 * (services/api/bench/storage-bench.ts, `npm run bench:storage`), run as it is and
 * read back, and its section of the report. SQLite and PostgreSQL in one process,
 * on the same reports: writes, point reads and first pages per second, p50 and p99.
 * It needs Debian's postgresql binaries (./stagecraft test installs them); without
 * them the run stops, naming the package.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from '@stagecraft/testkit/command';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { log } from './log.js';

type Operation = 'write' | 'read' | 'page';
interface OperationFigures {
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface StorageFigures {
  counts: { writes: number; reads: number; pages: number; rounds: number };
  postgresVersion: string;
  /** store -> "concurrency 1" | "concurrency 8" -> operation -> figures (medians over rounds). */
  results: Record<'sqlite' | 'postgres', Record<string, Record<Operation, OperationFigures>>>;
}

export function measureStorage(quick: boolean): StorageFigures {
  log('storage: SQLite and PostgreSQL side by side (the API benchmark of its stores)');
  sh('node', ['--import', 'tsx', 'bench/storage-bench.ts', ...(quick ? ['--quick'] : [])], {
    cwd: join(REPO_ROOT, 'services/api'),
  });
  const result = JSON.parse(
    readFileSync(
      join(REPO_ROOT, `services/api/bench/results/${quick ? 'storage.quick.json' : 'storage.json'}`),
      'utf8',
    ),
  ) as StorageFigures;
  return { counts: result.counts, postgresVersion: result.postgresVersion, results: result.results };
}

const NAMES = { write: 'write (insert)', read: 'read (by id)', page: 'first page of 20' };

/** The report's section; nothing for a run from before it was measured. */
export function storageMarkdown(figures: StorageFigures | undefined): string[] {
  if (figures === undefined) return [];
  const { counts } = figures;
  const rows = Object.entries(figures.results).flatMap(([store, byConcurrency]) =>
    Object.entries(byConcurrency).flatMap(([concurrency, ops]) =>
      (Object.entries(ops) as [Operation, OperationFigures][]).map(
        ([op, f]) =>
          `| ${store === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${concurrency.replace('concurrency ', '')} | ${NAMES[op]} | ${f.opsPerSecond.toFixed(0)} | ${f.p50Ms.toFixed(3)} | ${f.p99Ms.toFixed(3)} |`,
      ),
    ),
  );
  return [
    '## Storage',
    '',
    `The API's two stores in one process on the same disk, with the same reports (\`npm run bench:storage\`, \`services/api/bench/storage-bench.ts\`): SQLite (synchronous = FULL) and PostgreSQL ${figures.postgresVersion} on 127.0.0.1 (fsync on, a pool of 10), every commit durable in both. ${counts.writes} writes, ${counts.reads} reads and ${counts.pages} pages per store and concurrency, median over ${counts.rounds} round(s). The PostgreSQL hop here is loopback: between hosts, add the network's round trip to every call.`,
    '',
    '| store | at once | operation | per second | p50 ms | p99 ms |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ];
}
