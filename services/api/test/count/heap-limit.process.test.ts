/**
 * The outside review's denial-of-service payloads against the real API process at
 * the production heap setting (node --max-old-space-size=160): pages that are one
 * huge tag, or one tag that never ends, used to make the counter keep every href
 * until the tag's '>' and the process died. Each must now be answered with exact
 * counts, and the process must still be alive and healthy afterwards.
 *
 * Only 127.0.0.1 is ever contacted: the API child and a fixture page server.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '@stagecraft/contract';
import { startApiProcess } from '../helpers/api-process.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';

/** FETCH_MAX_BYTES' default: every payload is sized just under it, so none is refused as too large. */
const LIMIT = 10 * 1024 * 1024;

/** One `<a` tag with as many `href=x` attributes as fit under `bytes`, closed: all are internal links. */
function manyAttributes(bytes: number): { page: Buffer; hrefs: number } {
  const hrefs = Math.floor((bytes - '<a>'.length) / ' href=x'.length);
  return { page: Buffer.from('<a' + ' href=x'.repeat(hrefs) + '>', 'latin1'), hrefs };
}

/** `<a href=` repeated to just under `bytes` and never closed: one tag without end, no link. */
function unterminated(bytes: number): Buffer {
  return Buffer.from('<a href='.repeat(Math.floor((bytes - 1) / '<a href='.length)), 'latin1');
}

let pages: FixtureServer | undefined;
let page10: { page: Buffer; hrefs: number };
const dirs: string[] = [];

interface Api {
  url: string;
  proc: ChildProcess;
  exited: Promise<unknown>;
  /** The end of the child's stderr: V8's out-of-memory report when it died. */
  stderr: () => string;
}

/** A fresh API process per payload, so that each payload is proved on its own. */
async function startApi(env: Record<string, string> = {}): Promise<Api> {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-heap-'));
  dirs.push(dir);
  const api = await startApiProcess(
    // The drain outlasts the fetch timeout by a second, as limits.ts requires.
    {
      DATA_DIR: dir,
      FETCH_ALLOW_HOSTS: '127.0.0.1',
      FETCH_TIMEOUT_MS: '60000',
      SHUTDOWN_TIMEOUT_MS: '61000',
      ...env,
    },
    { nodeArgs: ['--max-old-space-size=160'] },
  );
  return { url: `http://127.0.0.1:${api.port}`, proc: api.child, exited: api.exited, stderr: api.stderr };
}

async function stopApi(api: Api): Promise<void> {
  if (api.proc.exitCode === null && api.proc.signalCode === null) api.proc.kill('SIGTERM');
  await api.exited;
}

beforeAll(async () => {
  page10 = manyAttributes(LIMIT);
  const body = page10.page;
  pages = await startFixtureServer({
    '/many-attributes.html': (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(body),
  });
});

afterAll(async () => {
  await pages?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function postPage(api: Api, page: Buffer): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${api.url}/api/v1/count?base=${encodeURIComponent('http://example.test/')}`, {
    method: 'POST',
    headers: { 'content-type': 'text/html' },
    body: page,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Fails with the child's last stderr (the V8 out-of-memory report) when the process died. */
async function expectAliveAndHealthy(api: Api): Promise<void> {
  const health = await fetch(`${api.url}/healthz`).catch(() => null);
  // A dying process stops answering before its exit is reported: give the exit a moment.
  if (health === null) await Promise.race([api.exited, new Promise((r) => setTimeout(r, 3_000))]);
  expect(api.proc.exitCode, `the API process died: ${api.stderr()}`).toBeNull();
  expect(api.proc.signalCode, `the API process was killed: ${api.stderr()}`).toBeNull();
  expect(health?.status).toBe(200);
}

/** Runs `body` against a fresh API process, which is always stopped afterwards. */
async function withApi(body: (api: Api) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  const api = await startApi(env);
  try {
    await body(api);
  } finally {
    await stopApi(api);
  }
}

const failed = (error: unknown) => ({ status: 0, body: { error: String(error) } });

describe('the API process at --max-old-space-size=160 survives the review payloads', () => {
  it('counts one 10 MB <a> tag carrying 1.5 million href attributes', async () => {
    const { page, hrefs } = page10;
    expect(hrefs).toBeGreaterThan(1_400_000);
    expect(page.length).toBeLessThanOrEqual(LIMIT);
    await withApi(async (api) => {
      const result = await postPage(api, page).catch(failed);
      await expectAliveAndHealthy(api);
      expect(result).toMatchObject({
        status: 200,
        body: { internal: hrefs, external: 0, bytes: page.length },
      });
    });
  }, 60_000);

  it('counts a 10 MB `<a href=` repeated and never closed, twice in a row', async () => {
    const page = unterminated(LIMIT);
    await withApi(async (api) => {
      for (let round = 0; round < 2; round++) {
        const result = await postPage(api, page).catch(failed);
        await expectAliveAndHealthy(api);
        expect(result).toMatchObject({ status: 200, body: { internal: 0, external: 0, bytes: page.length } });
      }
    });
  }, 60_000);

  it('counts three 4 MB unterminated pages sent at once', async () => {
    const page = unterminated(4 * 1024 * 1024);
    await withApi(async (api) => {
      const results = await Promise.all([0, 1, 2].map(() => postPage(api, page).catch(failed)));
      await expectAliveAndHealthy(api);
      for (const result of results)
        expect(result).toMatchObject({ status: 200, body: { internal: 0, external: 0, bytes: page.length } });
    });
  }, 60_000);

  it('counts the 1.5-million-attribute page fetched with GET /api/v1/count?url=', async () => {
    const url = pages?.url('/many-attributes.html') ?? '';
    await withApi(async (api) => {
      const response = await fetch(`${api.url}/api/v1/count?url=${encodeURIComponent(url)}`).catch(
        () => null,
      );
      const body = await response?.json().catch(() => null);
      await expectAliveAndHealthy(api);
      expect(response?.status).toBe(200);
      expect(body).toMatchObject({ url, internal: page10.hrefs, external: 0 });
    });
  }, 60_000);

  it("counts pages of FETCH_MAX_BYTES' largest allowed value (limits.ts): one huge tag, one never closed", async () => {
    const max = LIMITS.FETCH_MAX_BYTES.max;
    const huge = manyAttributes(max);
    await withApi(
      async (api) => {
        for (const [page, internal] of [
          [huge.page, huge.hrefs],
          [unterminated(max), 0],
        ] as const) {
          const result = await postPage(api, page).catch(failed);
          await expectAliveAndHealthy(api);
          expect(result).toMatchObject({ status: 200, body: { internal, external: 0, bytes: page.length } });
        }
      },
      { FETCH_MAX_BYTES: String(max) },
    );
  }, 120_000);

  it('answers a clean 413 and stays up when such a page is over FETCH_MAX_BYTES', async () => {
    const page = Buffer.concat([unterminated(LIMIT), Buffer.from('<a href=<a href=')]);
    expect(page.length).toBeGreaterThan(LIMIT);
    await withApi(async (api) => {
      const result = await postPage(api, page).catch(failed);
      await expectAliveAndHealthy(api);
      expect(result).toMatchObject({ status: 413 });
    });
  }, 60_000);
});
