/**
 * Hostile input against the production stack through its only door, the gateway
 * (own project, 127.0.0.1:18083). Everything behind the gateway is on internal
 * networks with no way out (e2e/compose.sealed.yml), and SSRF probes use loopback
 * forms and the stack's own container names only. Each hostile request must get a
 * clear 4xx problem document, store nothing, and leave every service up; every
 * answer carries the gateway's security headers, once. The gateway's per-client
 * limits (rates, requests in progress, slow and trickling clients) are measured.
 * Then the containers' hardening is tried from inside.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, run } from '@stagecraft/testkit/command';
import { compose, mustCompose, type ComposeProject } from '@stagecraft/testkit/compose';
import type { Chunk, RawAnswer } from '@stagecraft/testkit/raw-http';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { authorization } from './helpers/api-token.js';
import { composeEnv } from './helpers/compose.js';
import { nodeInContainer, requireDocker } from './helpers/docker.js';
import { expectGatewayProblem, expectSecurityHeaders, rawRequest as rawRequestTo } from './helpers/http.js';
import { call } from './helpers/load.js';

const stack: ComposeProject = {
  project: 'stagecraft-e2e-hostile',
  files: ['docker-compose.prod.yml', 'e2e/compose.fixtures.yml', 'e2e/compose.sealed.yml'],
  cwd: REPO_ROOT,
  env: composeEnv({ gateway: 18083, prometheus: 19093 }),
};
const PORT = 18083;
const gateway = `http://127.0.0.1:${PORT}`;

/** Bytes exactly as given, to the gateway under test (helpers/http.ts). */
const rawRequest = (chunks: Chunk[], waitMs?: number) => rawRequestTo(PORT, chunks, waitMs);

/** The gateway's configuration, for the limits these tests must stay under or reach. */
const gatewayConfig = [
  'nginx/templates/00-gateway-http.conf.template',
  'nginx/templates/10-gateway-server.conf.template',
]
  .map((file) => readFileSync(join(REPO_ROOT, file), 'utf8'))
  .join('\n');
const configured = (pattern: RegExp) => Number(pattern.exec(gatewayConfig)![1]);
/** Requests per second a client may make that have the API fetch a page (GET /count, POST /reports). */
const FETCH_RATE = configured(/zone=fetches_per_client:\S+ rate=(\d+)r\/s/);
const FETCH_BURST = configured(/zone=fetches_per_client burst=(\d+)/);
const FETCHES_IN_PROGRESS = configured(/limit_conn fetches_in_progress_per_client (\d+);/);
const IN_PROGRESS = configured(/limit_conn in_progress_per_client (\d+);/);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let lastFetching = 0;
/**
 * A request that has the API fetch a page, spaced to stay under the gateway's
 * per-client rate for those (these tests are about the answers, not the limit;
 * "the gateway's per-client limits" below are about the limit).
 */
async function fetching(url: string, init: Parameters<typeof call>[1] = {}) {
  const wait = lastFetching + 1000 / FETCH_RATE + 10 - Date.now();
  if (wait > 0) await sleep(wait);
  lastFetching = Date.now();
  return call(url, init);
}

function problemOf(answer: { body?: string; contentType?: string }): { type: string; status: number } {
  expect(answer.contentType ?? '').toMatch(/^application\/problem\+json/);
  return JSON.parse(answer.body!) as { type: string; status: number };
}

async function reportCount(): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const r = await call(`${gateway}/api/v1/reports?limit=100${cursor ? `&cursor=${cursor}` : ''}`, {});
    const page = JSON.parse(r.body!) as { items: unknown[]; nextCursor: string | null };
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return count;
}

const json = (body: string, type = 'application/json') => ({
  method: 'POST',
  headers: { 'content-type': type },
  body,
});

let storedBefore = 0;

beforeAll(async () => {
  requireDocker();
  compose(stack, 'down', '-v', '--remove-orphans');
  mustCompose(stack, 'up', '-d', '--build', '--wait', '--wait-timeout', '180');
  // One real report, so "nothing stored" is measured against a non-empty store.
  const seeded = await fetching(
    `${gateway}/api/v1/reports`,
    json(JSON.stringify({ url: 'http://fixtures:8000/page.html' })),
  );
  expect(seeded.status).toBe(201);
  storedBefore = await reportCount();
});

afterAll(() => {
  compose(stack, 'down', '-v', '--remove-orphans');
});

describe('malformed requests', () => {
  it.each([
    ['malformed JSON', json('{"url": '), 400, 'malformed-json'],
    ['JSON that is not an object', json('"http://fixtures:8000/"'), 400, 'invalid-body'],
    [
      'a wrong content type',
      json('url=http://fixtures:8000/', 'application/x-www-form-urlencoded'),
      415,
      'unsupported-media-type',
    ],
    [
      'no content type',
      { method: 'POST', body: '{"url":"http://fixtures:8000/page.html"}' },
      415,
      'unsupported-media-type',
    ],
    [
      'a JSON body over the API limit',
      json(JSON.stringify({ url: 'http://x.invalid/' + 'a'.repeat(20_000) })),
      413,
      'body-too-large',
    ],
  ])('POST /api/v1/reports with %s: %i %s', async (_name, init, status, slug) => {
    const r = await fetching(`${gateway}/api/v1/reports`, init as Parameters<typeof call>[1]);
    expect(r.status).toBe(status);
    expect(problemOf(r).type).toBe(`urn:stagecraft:problem:${slug}`);
  });

  it('refuses a 12 MB body at the gateway (413) before it reaches the API', async () => {
    const sidecarSeenBefore = mustCompose(stack, 'logs', '--no-color', 'sidecar').split('\n').length;
    const r = await call(`${gateway}/api/v1/count?base=http://x.invalid/`, {
      method: 'POST',
      headers: { 'content-type': 'text/html', 'content-length': String(12 * 1024 * 1024) },
      body: 'x'.repeat(12 * 1024 * 1024),
    });
    expect(r.status).toBe(413);
    expect(problemOf(r)).toMatchObject({ type: 'urn:stagecraft:problem:body-too-large' });
    expect(JSON.parse(r.body!).detail).toMatch(/gateway/);
    const sidecarLog = mustCompose(stack, 'logs', '--no-color', 'sidecar').split('\n');
    expect(sidecarLog.slice(sidecarSeenBefore - 1).join('\n')).not.toMatch(/\/api\/v1\/count/);
  });

  it.each([
    ['an unknown method', 'BREW', '/api/v1/reports', 405],
    ['TRACE', 'TRACE', '/api/v1/reports', 405],
    ['PATCH on a report', 'PATCH', '/api/v1/reports/1', 405],
  ])('answers %s with a problem document', async (_name, method, path, status) => {
    const r = await call(gateway + path, { method });
    expect(r.status).toBe(status);
    expect(problemOf(r).status).toBe(status);
  });

  it.each([
    '/api/v1/reports/../../../etc/passwd',
    '/api/v1/reports/..%2f..%2f..%2fetc%2fpasswd',
    '/api/v1/%2e%2e/%2e%2e/metrics',
    '/api/v1/reports/%c0%ae%c0%ae%c0%af',
    '/api/v1/reports/%00',
    '/api/v1/reports/1%20OR%201=1',
    '/api/v1/reports/%ff%fe',
    '/api/v1/reports/１',
    '/api/v1/reports;/../../metrics',
    '/api/v1//reports//1',
  ])('answers the odd path %s with a 4xx problem document', async (path) => {
    const answer = await rawRequest([`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`]);
    expect(answer.status, answer.head).toBeGreaterThanOrEqual(400);
    expect(answer.status, answer.head).toBeLessThan(500);
    expect(answer.head).toMatch(/content-type: application\/problem\+json/i);
    expect(answer.body).not.toMatch(/root:|# HELP/);
  });

  it('answers a 100 KB query string with 414 and a header flood with 431, as problem documents', async () => {
    const longQuery = await rawRequest([
      `GET /api/v1/reports?q=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    ]);
    expect(longQuery.status).toBe(414);
    expect(JSON.parse(longQuery.body)).toMatchObject({ type: 'urn:stagecraft:problem:uri-too-long' });

    const headers = Array.from({ length: 64 }, (_, i) => `X-Flood-${i}: ${'v'.repeat(7_000)}\r\n`).join('');
    const flood = await rawRequest([
      `GET /api/v1/reports HTTP/1.1\r\nHost: localhost\r\n${headers}Connection: close\r\n\r\n`,
    ]);
    expect(flood.status).toBe(431);
    expect(JSON.parse(flood.body)).toMatchObject({ type: 'urn:stagecraft:problem:header-fields-too-large' });
  });

  it('cuts off clients that send headers or a body too slowly, and a body that trickles in, within bounds', async () => {
    const [slowHeaders, slowBody, trickle] = await Promise.all([
      // A header byte every 2 s: the 10 s header timeout ends it.
      rawRequest([
        'GET /api/v1/reports HTTP/1.1\r\n',
        [2_000, 'Host: localhost\r\n'],
        [2_000, 'X-Slow: 1\r\n'],
        [2_000, 'X-Slow: 2\r\n'],
        [2_000, 'X-Slow: 3\r\n'],
        [2_000, 'X-Slow: 4\r\n'],
        [2_000, 'X-Slow: 5\r\n'],
        [2_000, 'X-Slow: 6\r\n'],
        [2_000, 'X-Slow: 7\r\n'],
      ]),
      // A body announced but never sent: the 10 s body timeout ends it.
      rawRequest([
        'POST /api/v1/count?base=http://x.invalid/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n<a href=x>',
      ]),
      // A body byte every 3 s: each read restarts nginx's body timeout (it has no
      // total one), so the sidecar's whole-request limit (30 s) is what ends it.
      rawRequest(
        [
          'POST /api/v1/count?base=http://x.invalid/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n',
          ...Array.from({ length: 30 }, (): Chunk => [3_000, 'x']),
        ],
        90_000,
      ),
    ]);
    console.log(
      `slow headers cut after ${slowHeaders.elapsedMs} ms, slow body after ${slowBody.elapsedMs} ms, ` +
        `trickled body after ${trickle.elapsedMs} ms (status ${trickle.status ?? 'none'})`,
    );
    expect(slowHeaders.elapsedMs).toBeGreaterThan(9_000);
    expect(slowHeaders.elapsedMs).toBeLessThan(20_000);
    expect(slowHeaders.status ?? 408).toBe(408);
    expect(slowBody.elapsedMs).toBeGreaterThan(9_000);
    expect(slowBody.elapsedMs).toBeLessThan(15_000);
    expect([undefined, 400, 408]).toContain(slowBody.status);
    // Not nginx's 10 s between reads (bytes kept coming), and well before the 90 s the bytes would take.
    expect(trickle.elapsedMs).toBeGreaterThan(25_000);
    expect(trickle.elapsedMs).toBeLessThan(40_000);
    expect([undefined, 408]).toContain(trickle.status);
  });
});

describe("every answer carries the gateway's security headers, once", () => {
  const get = (path: string, extra = '') =>
    rawRequest([`GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`]);

  it.each([
    [
      '400',
      () => rawRequest(['GET /api/v1/reports HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n']),
      400,
    ],
    ['403', () => get('/gateway/status'), 403],
    ['404', () => get('/metrics'), 404],
    [
      '405',
      () => rawRequest(['BREW /api/v1/reports HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n']),
      405,
    ],
    [
      '413',
      () =>
        rawRequest([
          `POST /api/v1/count?base=http://x.invalid/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/html\r\nContent-Length: ${12 * 1024 * 1024}\r\nConnection: close\r\n\r\n`,
        ]),
      413,
    ],
    ['414', () => get(`/api/v1/reports?q=${'a'.repeat(100_000)}`), 414],
    ['431', () => get('/api/v1/reports', `X-Big: ${'v'.repeat(9_000)}\r\n`), 431],
    [
      '501',
      () =>
        rawRequest([
          'POST /api/v1/count HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n',
        ]),
      501,
    ],
    ['505', () => rawRequest(['GET /api/v1/reports HTTP/2.0\r\nHost: localhost\r\n\r\n']), 505],
  ] as const)("nginx's own %s", async (_name, send, status) => {
    expectGatewayProblem(await send(), status, `${status} from the gateway`);
  });

  it.each([
    ['200 from the API', '/api/v1/reports?limit=1', `Authorization: ${authorization.authorization}\r\n`, 200],
    ['401 from the API', '/api/v1/reports?limit=1', '', 401],
    ['404 from the API', '/api/v1/nothing-here', '', 404],
    ['200 from the API, readiness', '/readyz', '', 200],
    ['200 from the gateway itself', '/gateway/health', '', 200],
  ])('%s', async (_name, path, extra, status) => {
    const answer = await get(path, extra);
    expect(answer.status, answer.head).toBe(status);
    expectSecurityHeaders(answer.head, `${status} ${path}`);
  });
});

describe("the gateway's per-client limits (every local client shares one address behind Docker's port proxy)", () => {
  /** Lets the per-client buckets fill up again, so no test sees another's requests. */
  const refill = () => sleep(((FETCH_BURST + 1) / FETCH_RATE) * 1000 + 500);

  it('lets a client have the API fetch pages at its rate plus a burst, then answers 429, while reads go on', async () => {
    await refill();
    // A refused destination: the limit is the same, and the API opens no connection.
    const path = `/api/v1/count?url=${encodeURIComponent('http://127.0.0.1:3000/')}`;
    const started = Date.now();
    const answers: RawAnswer[] = [];
    for (let i = 0; i < FETCH_BURST + 20; i++)
      answers.push(
        await rawRequest([`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`]),
      );
    const seconds = (Date.now() - started) / 1000;
    const passed = answers.filter((a) => a.status === 403).length;
    const limited = answers.filter((a) => a.status === 429);
    console.log(
      `${answers.length} fetching requests in ${seconds.toFixed(2)} s: ${passed} passed, ${limited.length} answered 429`,
    );
    expect(passed + limited.length).toBe(answers.length);
    // The burst, plus what the rate gave back while they were sent.
    expect(passed).toBeGreaterThanOrEqual(FETCH_BURST + 1);
    expect(passed).toBeLessThanOrEqual(FETCH_BURST + 1 + Math.ceil(seconds * FETCH_RATE) + 1);
    for (const answer of limited) {
      expect(expectGatewayProblem(answer, 429, 'over the fetch rate').type).toBe(
        'urn:stagecraft:problem:rate-limited',
      );
    }
    // Reads are limited separately, far higher.
    const reads = await Promise.all(
      Array.from({ length: 50 }, () => call(`${gateway}/api/v1/reports?limit=1`, {})),
    );
    expect(reads.map((r) => r.status)).toEqual(Array(50).fill(200));
    await refill();
  });

  /**
   * Opens a request whose body never comes: the API waits for it, so it stays in
   * progress at the gateway until the socket is closed.
   */
  const hold = (request: string, sockets: Socket[], answers: string[]) =>
    new Promise<void>((resolve) => {
      const socket = connect(PORT, '127.0.0.1', () => {
        socket.write(request);
        // Long enough for nginx to have read the headers and counted it.
        setTimeout(resolve, 30);
      });
      socket.on('data', (c: Buffer) => answers.push(c.toString('latin1')));
      socket.on('error', () => undefined);
      sockets.push(socket);
    });
  const unfinished = (path: string, type: string, extra = '') =>
    `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}Content-Type: ${type}\r\nContent-Length: 100\r\n\r\n<`;

  it.each([
    [
      'that have the API fetch a page',
      '/api/v1/reports',
      () =>
        unfinished(
          '/api/v1/reports',
          'application/json',
          `Authorization: ${authorization.authorization}\r\n`,
        ),
      () => FETCHES_IN_PROGRESS,
    ],
    [
      'of any kind',
      '/api/v1/count',
      () => unfinished('/api/v1/count?base=http://x.invalid/', 'text/html'),
      () => IN_PROGRESS,
    ],
  ])(
    'holds requests %s in progress at once to a limit, then answers 429',
    async (_name, path, request, limit) => {
      await refill();
      const sockets: Socket[] = [];
      const answers: string[] = [];
      try {
        for (let i = 0; i < limit(); i++) await hold(request(), sockets, answers);
        expect(answers, 'all in progress, none answered yet').toEqual([]);
        const over = await rawRequest([
          `GET /api/v1/reports?limit=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
        ]);
        if (path === '/api/v1/reports') {
          // Only requests that fetch count here: a read still passes, one more fetching request does not.
          expect(over.status).toBe(401);
          const fetch = await rawRequest([
            `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
          ]);
          const problem = expectGatewayProblem(fetch, 429, 'one fetching request too many');
          expect(problem.type).toBe('urn:stagecraft:problem:too-many-requests-in-progress');
        } else {
          const problem = expectGatewayProblem(over, 429, 'one request too many');
          expect(problem.type).toBe('urn:stagecraft:problem:too-many-requests-in-progress');
        }
      } finally {
        for (const socket of sockets) socket.destroy();
      }
      // Closed: the next request passes again.
      await sleep(500);
      expect((await call(`${gateway}/api/v1/reports?limit=1`, {})).status).toBe(200);
    },
  );
});

describe("SSRF attempts through the gateway (loopback forms and the stack's own names only)", () => {
  const targets = [
    'http://127.0.0.1:3000/healthz',
    'http://localhost:3000/healthz',
    'http://[::1]:3000/healthz',
    'http://[::ffff:127.0.0.1]:3000/healthz',
    'http://2130706433:3000/healthz',
    'http://0177.0.0.1:3000/healthz',
    'http://0x7f.0.0.1:3000/healthz',
    'http://127.1:3000/healthz',
    'http://0.0.0.0:3000/healthz',
    // Names of this stack's own containers: they resolve to private addresses.
    'http://api:3000/healthz',
    'http://sidecar:9464/metrics',
    'http://gateway:8080/gateway/status',
    // Redirects from an allowed page to each kind of refused destination.
    'http://fixtures:8000/redirect?to=http%3A%2F%2F127.0.0.1%3A3000%2Fhealthz',
    'http://fixtures:8000/redirect?to=http%3A%2F%2F%5B%3A%3A1%5D%3A3000%2F',
    'http://fixtures:8000/redirect?to=http%3A%2F%2F2130706433%3A3000%2F',
    'http://fixtures:8000/redirect?to=http%3A%2F%2Fapi%3A3000%2Fmetrics',
  ];

  it.each(targets)('refuses %s with 403, for counting and for reports, storing nothing', async (target) => {
    const counted = await fetching(`${gateway}/api/v1/count?url=${encodeURIComponent(target)}`, {});
    expect(counted.status).toBe(403);
    expect(problemOf(counted).type).toBe('urn:stagecraft:problem:forbidden-destination');
    const stored = await fetching(`${gateway}/api/v1/reports`, json(JSON.stringify({ url: target })));
    expect(stored.status).toBe(403);
  });

  it.each([
    'file:///etc/passwd',
    'gopher://127.0.0.1:3000/',
    'ftp://fixtures/',
    'javascript:alert(1)',
    'http://user:pw@fixtures:8000/page.html',
  ])('refuses %s with a 4xx problem document', async (target) => {
    const r = await fetching(`${gateway}/api/v1/count?url=${encodeURIComponent(target)}`, {});
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    problemOf(r);
  });
});

describe('pathological pages', () => {
  it.each([
    ['200,000 levels of nesting', '/deep.html', { internal: 1, external: 0 }],
    ['a million links', '/million-links.html', { internal: 1_000_000, external: 0 }],
    ['unterminated tags', '/unterminated.html', { internal: 1, external: 0 }],
    ['binary data served as text/html', '/binary.html', undefined],
  ])('counts a page with %s without failing', async (_name, path, counts) => {
    const r = await fetching(
      `${gateway}/api/v1/count?url=${encodeURIComponent(`http://fixtures:8000${path}`)}`,
      { timeoutMs: 60_000 },
    );
    expect(r.status, r.body).toBe(200);
    const body = JSON.parse(r.body!) as { internal: number; external: number };
    if (counts !== undefined) expect(body).toMatchObject(counts);
    else expect(Number.isInteger(body.internal) && Number.isInteger(body.external)).toBe(true);
  });
});

describe('a bounded fuzz run', () => {
  /** Random URL-ish strings whose hosts are this stack's fixture site, loopback forms or .invalid names. */
  function fuzzUrl(): string {
    const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
    const junk = (n: number) =>
      Array.from({ length: Math.floor(Math.random() * n) }, () =>
        String.fromCharCode(Math.floor(Math.random() * 0x3000)),
      ).join('');
    const scheme = pick([
      'http://',
      'https://',
      'HTTP://',
      'ftp://',
      'http:/',
      'http:\\\\',
      '',
      '//',
      'data:',
      junk(8),
    ]);
    const host = pick([
      'fixtures:8000',
      '127.0.0.1',
      '[::1]',
      `${randomBytes(4).toString('hex')}.invalid`,
      'fixtures:99999',
      'fixtures:-1',
      junk(12),
      '%00',
      '',
    ]);
    return (
      scheme +
      pick(['', 'u:p@']) +
      host +
      pick(['/', '/page.html', '/redirect?to=' + junk(20), '/' + junk(40), '?' + junk(30), '#' + junk(10)])
    );
  }

  it('500 random pages and 500 random URLs: no crash, no 5xx but upstream errors, nothing stored', async () => {
    const statuses = new Map<number, number>();
    const count = (s: number | undefined) => statuses.set(s ?? 0, (statuses.get(s ?? 0) ?? 0) + 1);
    for (let i = 0; i < 500; i++) {
      const page = randomBytes(Math.floor(Math.random() * 20_000));
      const r = await call(`${gateway}/api/v1/count?base=${encodeURIComponent('http://fuzz.invalid/')}`, {
        method: 'POST',
        headers: { 'content-type': 'text/html' },
        body: page.toString('latin1'),
      });
      count(r.status);
      expect(r.status, `random page ${i}`).toBe(200);
    }
    for (let i = 0; i < 500; i++) {
      const url = fuzzUrl();
      const r = await fetching(`${gateway}/api/v1/count?url=${encodeURIComponent(url)}`, {
        timeoutMs: 30_000,
      });
      count(r.status);
      // 502 and 504 are the page server's failures (a .invalid name does not resolve); anything else must be a 4xx.
      expect([200, 400, 403, 404, 422, 502, 504], `${url} -> ${r.status} ${r.body}`).toContain(r.status);
      if (r.status !== 200) problemOf(r);
    }
    console.log(`fuzz statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  });

  it('left every service up and stored nothing', async () => {
    expect(await reportCount()).toBe(storedBefore);
    const states = mustCompose(stack, 'ps', '--all', '--format', '{{.Service}} {{.State}} {{.Health}}')
      .trim()
      .split('\n');
    for (const line of states) expect(line).toMatch(/ running (healthy|)$/);
    expect(
      run('docker', [
        'inspect',
        '--format',
        '{{.RestartCount}}',
        ...mustCompose(stack, 'ps', '-q').trim().split('\n'),
      ])
        .stdout.trim()
        .split('\n')
        .every((n) => n === '0'),
    ).toBe(true);
  });
});

describe('production containers, tried from inside', () => {
  const tryInside = (service: string, script: string): string => {
    const [id] = mustCompose(stack, 'ps', '-q', service).trim().split('\n');
    return nodeInContainer(id!, script);
  };
  const probe = `
    const fs = require('node:fs'), net = require('node:net');
    const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return e.code; } };
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const field = (name) => status.split('\\n').find((l) => l.startsWith(name + ':')).split(/\\s+/)[1];
    const server = net.createServer().on('error', (e) => done(e.code)).listen(80, '0.0.0.0', () => done('ok'));
    function done(bind) {
      server.close();
      process.stdout.write(JSON.stringify({
        uid: process.getuid(),
        writeRoot: attempt(() => fs.writeFileSync('/app-owned', 'x')),
        writeApp: attempt(() => fs.writeFileSync(process.cwd() + '/x', 'x')),
        writeTmp: attempt(() => fs.writeFileSync('/tmp/x', 'x')),
        bindLowPort: bind,
        capEff: field('CapEff'),
        noNewPrivs: field('NoNewPrivs'),
        tmpMount: fs.readFileSync('/proc/self/mounts', 'utf8').split('\\n').find((l) => l.split(' ')[1] === '/tmp').split(' ')[3],
      }));
    }`;

  it.each(['api', 'sidecar'])(
    '%s: non-root, read-only root, writable tmpfs (noexec, nosuid, nodev), no capabilities, no low port',
    (service) => {
      const { tmpMount, ...facts } = JSON.parse(tryInside(service, probe)) as Record<string, string | number>;
      expect(String(tmpMount).split(',')).toEqual(expect.arrayContaining(['noexec', 'nosuid', 'nodev']));
      expect(facts).toEqual({
        uid: 65532,
        writeRoot: 'EROFS',
        writeApp: 'EROFS',
        writeTmp: 'ok',
        bindLowPort: 'EACCES',
        capEff: '0000000000000000',
        noNewPrivs: '1',
      });
    },
  );

  it('gateway: runs as nginx, read-only root, no capabilities, tmpfs noexec, nosuid, nodev', () => {
    const [id] = mustCompose(stack, 'ps', '-q', 'gateway').trim().split('\n');
    const out = docker(
      'exec',
      id!,
      'bash',
      '-c',
      'id -u; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status; touch /etc/nginx/x 2>&1 || true; touch /var/cache/nginx/x && echo tmpfs-ok',
    );
    const mounts = docker('exec', id!, 'cat', '/proc/self/mounts').split('\n');
    for (const path of ['/var/cache/nginx', '/run']) {
      const options =
        mounts
          .find((l) => l.split(' ')[1] === path)
          ?.split(' ')[3]
          ?.split(',') ?? [];
      expect(options, path).toEqual(expect.arrayContaining(['noexec', 'nosuid', 'nodev']));
    }
    expect(out).toMatch(/^101\n/);
    expect(out).toMatch(/CapEff:\s+0000000000000000/);
    expect(out).toMatch(/NoNewPrivs:\s+1/);
    expect(out).toMatch(/Read-only file system/);
    expect(out).toMatch(/tmpfs-ok/);
  });
});
