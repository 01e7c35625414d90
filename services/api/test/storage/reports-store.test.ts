import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SqliteReportsStore as ReportsStore,
  decodeCursor,
  type NewReport,
} from '../../src/storage/reports-store.js';
import { MIGRATIONS } from '../../src/storage/migrations.js';

const sample = (url: string): NewReport => ({
  url,
  internal: 3,
  external: 4,
  finalUrl: url,
  status: 200,
  bytes: 10,
  redirects: 0,
  durationMs: 1.5,
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stagecraft-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('ReportsStore', () => {
  it('migrates a new database and uses WAL', async () => {
    const store = new ReportsStore(dir);
    expect(await store.schemaVersion()).toBe(MIGRATIONS.length);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    await store.close();
  });

  it('keeps reports across close and reopen', async () => {
    const first = new ReportsStore(dir);
    const a = await first.insert(sample('http://a.test/'));
    const b = await first.insert(sample('http://b.test/'));
    await first.close();
    const second = new ReportsStore(dir);
    expect(await second.get(a.id)).toEqual(a);
    expect((await second.list(10)).items).toEqual([b, a]);
    expect(await second.schemaVersion()).toBe(MIGRATIONS.length);
    await second.close();
  });

  it('refuses a database from a newer build', async () => {
    const store = new ReportsStore(dir);
    store.db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    await store.close();
    expect(() => new ReportsStore(dir)).toThrow(/newer than this build/);
  });

  it('pages newest first and rejects foreign cursors', async () => {
    const store = new ReportsStore(dir);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store.insert(sample(`http://${i}.test/`))).id);
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list(2, cursor);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(seen).toEqual([...ids].reverse());
    expect(() => decodeCursor('garbage')).toThrow();
    expect(() => decodeCursor(Buffer.from('{"before":-1}').toString('base64url'))).toThrow();
    await store.close();
  });

  it('loses nothing when two processes write one file at once', async () => {
    await new ReportsStore(dir).close(); // migrate first, as the API does at start
    const writer = fileURLToPath(new URL('./concurrent-writer.ts', import.meta.url));
    const run = (tag: string) =>
      new Promise<number | string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', writer], {
          env: { ...process.env, DATA_DIR: dir, COUNT: '300', TAG: tag },
          stdio: ['ignore', 'inherit', 'pipe'],
        });
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        child.once('error', reject);
        child.once('close', (code, signal) =>
          resolve(code === 0 ? 0 : `exit ${code ?? signal}: ${stderr.slice(-2000)}`),
        );
      });
    const codes = await Promise.all([run('one'), run('two')]);
    expect(codes).toEqual([0, 0]);
    const store = new ReportsStore(dir);
    expect(await store.count()).toBe(600);
    const perWriter = store.db
      .prepare('SELECT substr(url, 8, 3) AS tag, count(*) AS n FROM reports GROUP BY tag ORDER BY tag')
      .all();
    expect(perWriter).toEqual([
      { tag: 'one', n: 300 },
      { tag: 'two', n: 300 },
    ]);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    await store.close();
  }, 60_000);
});
