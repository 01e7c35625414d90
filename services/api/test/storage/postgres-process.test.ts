/**
 * The API process (src/main.ts) on PostgreSQL, its URL from DATABASE_URL_FILE as
 * production gives it: ready while the database answers; a database restart
 * gives 503 problem documents (storage-unavailable) and a 503 readiness, then the
 * same process serves again, reports kept; and neither its log nor any answer
 * ever holds the password. Its own cluster, so it can be restarted.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresCluster } from '@stagecraft/testkit/postgres';
import { poll } from '@stagecraft/testkit/wait';
import { startNodeProcess, type NodeProcess } from '@stagecraft/testkit/node-process';
import { MAIN } from '../helpers/api-process.js';

let cluster: PostgresCluster;
let api: NodeProcess;
let port = 0;
let log = '';
const base = () => `http://127.0.0.1:${port}`;

beforeAll(async () => {
  cluster = await startPostgres();
  const url = cluster.createDatabase('process');
  const file = join(mkdtempSync(join(tmpdir(), 'stagecraft-dburl-')), 'database-url');
  writeFileSync(file, `${url}\n`);
  // startNodeProcess itself (not startApiProcess): its output so far, the start-up line included, is read here.
  api = await startNodeProcess(['--import', 'tsx', MAIN], {
    env: {
      HOST: '127.0.0.1',
      PORT: '0',
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      DATABASE_URL_FILE: file,
      DATA_DIR: '/nonexistent-never-created',
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
    },
    ready: /"port":(\d+).*"msg":"api listening"/,
  });
  port = Number(api.ready[1]);
  log = api.ready.input;
  api.child.stdout!.on('data', (data: Buffer) => (log += data.toString()));
});

afterAll(async () => {
  await api?.stop();
  cluster?.remove();
});

async function request(method: string, path: string, body?: unknown) {
  const response = await fetch(base() + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text,
    json: JSON.parse(text || 'null') as Record<string, unknown>,
  };
}

describe('the API process on PostgreSQL', () => {
  it('says where it stores, without the password, and is ready', async () => {
    expect(log).toMatch(
      /"storage":"postgres:\/\/stagecraft@127\.0\.0\.1:\d+\/process".*"msg":"api listening"/,
    );
    expect((await request('GET', '/readyz')).json).toMatchObject({
      status: 'ready',
      checks: { storage: true, storageWritable: true },
    });
  });

  it('answers 503 problem documents while the database restarts, then serves again without a restart of its own', async () => {
    // A DELETE of a missing report reaches the database without a page fetch.
    const kept = await request('DELETE', '/api/v1/reports/999999');
    expect(kept.status).toBe(404);
    cluster.stop();
    const answers: { status: number; type: string; text: string }[] = [];
    try {
      for (const [method, path] of [
        ['GET', '/api/v1/reports'],
        ['GET', '/api/v1/reports/1'],
        ['DELETE', '/api/v1/reports/1'],
      ] as const) {
        const r = await request(method, path);
        answers.push(r);
        expect(r.status, `${method} ${path}: ${r.text}`).toBe(503);
        expect(r.type).toMatch(/^application\/problem\+json/);
        expect(r.json).toMatchObject({ status: 503, type: 'urn:stagecraft:problem:storage-unavailable' });
      }
      const notReady = await request('GET', '/readyz');
      answers.push(notReady);
      expect(notReady.status).toBe(503);
      expect(notReady.json).toMatchObject({ checks: { storage: false, storageWritable: false } });
      expect((await request('GET', '/healthz')).status).toBe(200); // alive: no restart wanted
    } finally {
      cluster.start();
    }
    await poll(
      'ready again',
      async () => ((await request('GET', '/readyz')).status === 200 ? true : undefined),
      15_000,
      200,
    );
    expect((await request('GET', '/api/v1/reports')).status).toBe(200);
    expect(api.child.exitCode).toBeNull();
    for (const answer of answers) expect(answer.text).not.toContain(cluster.password);
    // The restart was logged, and nothing logged holds the password.
    expect(log).toMatch(/database unavailable|database connection lost/);
    expect(log).not.toContain(cluster.password);
    expect(api.stderr()).not.toContain(cluster.password);
  });
});
