/**
 * What the routes rely on, held to both stores alike: run against SQLite by
 * `npm test` and against PostgreSQL by `npm run test:postgres`
 * (helpers/store.ts picks). The same shapes, newest-first cursors, missing ids,
 * migrations, and reports kept across a reopen (a restart of the API).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, POSTGRES_MIGRATIONS } from '../../src/storage/migrations.js';
import { PostgresReportsStore } from '../../src/storage/postgres-store.js';
import {
  InvalidCursorError,
  SqliteReportsStore,
  type NewReport,
  type ReportsStore,
} from '../../src/storage/reports-store.js';
import { STORE_KIND, freshDatabase } from '../helpers/store.js';

const sample = (url: string, internal = 3): NewReport => ({
  url,
  internal,
  external: 4,
  finalUrl: `${url}#final`,
  status: 200,
  bytes: 10,
  redirects: 1,
  durationMs: 1.5,
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Opens a store on a new, empty database; `reopen` opens another on the same one (an API restart). */
async function emptyStore(): Promise<{ store: ReportsStore; reopen: () => Promise<ReportsStore> }> {
  let open: () => Promise<ReportsStore>;
  if (STORE_KIND === 'postgres') {
    const url = await freshDatabase();
    open = () =>
      PostgresReportsStore.open({ url, poolSize: 4, statementTimeoutMs: 5_000, connectTimeoutMs: 3_000 });
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-contract-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    open = async () => new SqliteReportsStore(dir);
  }
  const opened = async () => {
    const store = await open();
    cleanups.push(() => store.close());
    return store;
  };
  return { store: await opened(), reopen: opened };
}

describe(`the ${STORE_KIND} store`, () => {
  it('is the kind this run tests, migrated to the last migration', async () => {
    const { store } = await emptyStore();
    expect(store.kind).toBe(STORE_KIND);
    expect(await store.schemaVersion()).toBe(MIGRATIONS.length);
    expect(await store.count()).toBe(0);
    expect(await store.health()).toEqual({ readable: true, writable: true });
  });

  it('has as many migrations for PostgreSQL as for SQLite (append to both together)', () => {
    expect(POSTGRES_MIGRATIONS).toHaveLength(MIGRATIONS.length);
  });

  it('stores a report and gives it back as stored, with an ISO time of now', async () => {
    const { store } = await emptyStore();
    const before = Date.now();
    const stored = await store.insert(sample('http://a.test/'));
    expect(stored).toEqual({
      ...sample('http://a.test/'),
      id: expect.any(Number) as number,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as string,
    });
    expect(Date.parse(stored.createdAt)).toBeGreaterThanOrEqual(before - 1);
    expect(await store.get(stored.id)).toEqual(stored);
    expect(await store.get(stored.id + 1000)).toBeUndefined();
    expect(await store.count()).toBe(1);
  });

  it('pages newest first with its cursors, and refuses a cursor it did not hand out', async () => {
    const { store } = await emptyStore();
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store.insert(sample(`http://${i}.test/`, i))).id);
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list(2, cursor);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor !== undefined);
    expect(seen).toEqual([...ids].reverse());
    expect(pages).toBe(3);
    expect((await store.list(5)).nextCursor).toBeNull();
    await expect(store.list(2, 'garbage')).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('deletes once, and says when there was nothing to delete', async () => {
    const { store } = await emptyStore();
    const { id } = await store.insert(sample('http://a.test/'));
    expect(await store.delete(id)).toBe(true);
    expect(await store.delete(id)).toBe(false);
    expect(await store.get(id)).toBeUndefined();
  });

  it('keeps reports across a reopen, and migrates nothing twice', async () => {
    const { store, reopen } = await emptyStore();
    const a = await store.insert(sample('http://a.test/'));
    await store.close();
    const again = await reopen();
    expect(await again.get(a.id)).toEqual(a);
    expect(await again.schemaVersion()).toBe(MIGRATIONS.length);
    const b = await again.insert(sample('http://b.test/'));
    expect(b.id).toBeGreaterThan(a.id);
    expect((await again.list(10)).items).toEqual([b, a]);
  });
});
