/**
 * The readiness check as Prometheus sees it (registerReadinessMetrics):
 * stagecraft_ready follows GET /readyz answer for answer (ready, draining, a data
 * volume below the free-space floor), and the storage gauges report the statfs of
 * DATA_DIR read at scrape time, the floor readiness uses, and keep their last
 * value when statfs fails. The alerts in prometheus/rules/alerts.yml read these.
 */
import { statfsSync } from 'node:fs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerReadinessMetrics } from '../../src/http/ops-routes.js';
import { freeSpaceOf, type StatFs } from '../../src/storage/free-space.js';
import { MIN_FREE_BYTES } from '../../src/storage/reports-store.js';
import { startApi, type TestApi } from '../helpers/api.js';

let api: TestApi;
/** What the store's readiness check sees as free bytes. */
let free = Number.MAX_SAFE_INTEGER;
/** What the gauges' statfs answers, or throws. */
let statfs: ReturnType<StatFs> | Error = { bavail: 1000, blocks: 5000, bsize: 4096 };
let draining = false;
const registry = new Registry();

beforeAll(async () => {
  api = await startApi({ freeBytes: () => free });
  registerReadinessMetrics(
    registry,
    { config: api.config, store: api.store, draining: () => draining },
    () => {
      if (statfs instanceof Error) throw statfs;
      return statfs;
    },
  );
});

afterAll(async () => {
  await api.close();
});

/** Draining, as the app and the gauge both see it (main.ts hands them one flag). */
function drain(value: boolean): void {
  draining = value;
  api.setDraining(value);
}

/** The value of an unlabelled metric as a scrape reports it. */
async function scraped(name: string): Promise<number> {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`${name} not in the scrape:\n${text}`);
  return Number(line.split(' ')[1]);
}

describe('stagecraft_ready', () => {
  it('is 1 exactly when GET /readyz answers 200', async () => {
    const states: [string, () => void][] = [
      ['ready', () => undefined],
      ['draining', () => drain(true)],
      ['ready again', () => drain(false)],
      ['below the free-space floor', () => (free = MIN_FREE_BYTES - 1)],
      ['at the floor', () => (free = MIN_FREE_BYTES)],
    ];
    const seen: string[] = [];
    for (const [state, enter] of states) {
      enter();
      const answer = await api.call('GET', '/readyz', '/readyz');
      seen.push(`${state}: /readyz ${answer.status}, stagecraft_ready ${await scraped('stagecraft_ready')}`);
    }
    expect(seen).toEqual([
      'ready: /readyz 200, stagecraft_ready 1',
      'draining: /readyz 503, stagecraft_ready 0',
      'ready again: /readyz 200, stagecraft_ready 1',
      'below the free-space floor: /readyz 503, stagecraft_ready 0',
      'at the floor: /readyz 200, stagecraft_ready 1',
    ]);
  });
});

describe('the storage gauges', () => {
  it('report the statfs of DATA_DIR at scrape time, and the floor readiness uses', async () => {
    statfs = { bavail: 1000, blocks: 5000, bsize: 4096 };
    expect(await scraped('stagecraft_storage_free_bytes')).toBe(4_096_000);
    expect(await scraped('stagecraft_storage_size_bytes')).toBe(20_480_000);
    statfs = { bavail: 10, blocks: 5000, bsize: 4096 };
    expect(await scraped('stagecraft_storage_free_bytes')).toBe(40_960);
    expect(await scraped('stagecraft_storage_min_free_bytes')).toBe(MIN_FREE_BYTES);
  });

  it('keep their last value when statfs fails', async () => {
    statfs = { bavail: 7, blocks: 9, bsize: 512 };
    expect(await scraped('stagecraft_storage_free_bytes')).toBe(3584);
    statfs = Object.assign(new Error('EIO'), { code: 'EIO' });
    expect(await scraped('stagecraft_storage_free_bytes')).toBe(3584);
    expect(await scraped('stagecraft_storage_size_bytes')).toBe(4608);
  });
});

describe('freeSpaceOf', () => {
  it('reads a real directory as statfs reports it: bytes free to a non-root user, and the size', () => {
    const dir = api.config.dataDir;
    const stats = statfsSync(dir);
    const space = freeSpaceOf(dir);
    expect(space.size).toBe(stats.blocks * stats.bsize);
    expect(space.free).toBeGreaterThan(0);
    expect(space.free).toBeLessThanOrEqual(space.size);
    // bavail, not bfree: the blocks root keeps for itself are not the API's.
    expect(space.free % stats.bsize).toBe(0);
    expect(space.free).toBeLessThanOrEqual(stats.bfree * stats.bsize);
  });
});
