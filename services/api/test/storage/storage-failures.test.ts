/**
 * When the data volume cannot take writes (full, or reporting no free space), the
 * API says so: writes answer 503 storage-unavailable, nothing half-stored, reads
 * keep working, and readiness fails until writes can succeed again. The full disk
 * is real SQLite behaviour (SQLITE_FULL from a page-count cap), not a mock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteReportsStore } from '../../src/storage/reports-store.js';
import { startApi, type TestApi } from '../helpers/api.js';
import { html, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';

const REPORTS = '/api/v1/reports';
const REPORT = '/api/v1/reports/{id}';

let site: FixtureServer;
let api: TestApi;
let free = Number.MAX_SAFE_INTEGER;

beforeAll(async () => {
  site = await startFixtureServer({ '/page': html('<a href="/a"><a href="http://x.example/">') });
  api = await startApi({ env: { FETCH_ALLOW_HOSTS: '127.0.0.1' }, freeBytes: () => free });
});

afterAll(async () => {
  await api.close();
  await site.close();
});

const create = () =>
  api.call('POST', REPORTS, REPORTS, {
    body: JSON.stringify({ url: site.url('/page') }),
    headers: { 'content-type': 'application/json' },
  });
const readiness = async () => api.call('GET', '/readyz', '/readyz');

describe('storage that cannot take writes', () => {
  it('answers 503 on writes when the database is full, keeps reads, and is not ready until a write succeeds', async () => {
    const kept = await create();
    expect(kept.status).toBe(201);
    const id = (kept.body as { id: number }).id;
    const { db } = api.store as SqliteReportsStore;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);

    const before = await api.store.count();
    let refused = 0;
    // Fill what is left of the last page, then every write must be refused.
    for (let i = 0; i < 200 && refused === 0; i++) {
      const r = await create();
      if (r.status === 503) {
        refused++;
        expect(r.body).toMatchObject({ type: 'urn:stagecraft:problem:storage-unavailable', status: 503 });
        expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      } else {
        expect(r.status).toBe(201);
      }
    }
    expect(refused).toBe(1);
    const stored = await api.store.count();
    expect(stored).toBeGreaterThanOrEqual(before);
    expect((await create()).status).toBe(503);
    expect(await api.store.count()).toBe(stored);

    const notReady = await readiness();
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({
      status: 'not-ready',
      checks: { storage: true, storageWritable: false },
    });
    expect((await api.call('GET', `${REPORT.replace('{id}', String(id))}`, REPORT)).status).toBe(200);
    expect((await api.call('GET', `${REPORTS}?limit=5`, REPORTS)).status).toBe(200);

    db.pragma('max_page_count = 1073741823');
    expect((await create()).status).toBe(201);
    expect((await readiness()).status).toBe(200);
  });

  it('is not ready while the volume has less than 1 MiB free, and ready again when it has more', async () => {
    free = 512 * 1024;
    const low = await readiness();
    free = Number.MAX_SAFE_INTEGER;
    expect(low.status).toBe(503);
    expect(low.body).toMatchObject({ checks: { storage: true, storageWritable: false, draining: false } });
    expect((await api.call('GET', REPORTS, REPORTS)).status).toBe(200);
    expect((await readiness()).status).toBe(200);
  });

  it('closes each connection after its response while draining, so proxies stop reusing it', async () => {
    expect((await api.call('GET', '/healthz', '/healthz')).headers.get('connection')).not.toBe('close');
    api.setDraining(true);
    const r = await api.call('GET', '/healthz', '/healthz');
    api.setDraining(false);
    expect(r.headers.get('connection')).toBe('close');
  });
});
