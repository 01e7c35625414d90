/**
 * The API process's two HTTP servers, attacked over raw sockets on 127.0.0.1:
 * /metrics only on METRICS_PORT, never on the main port in any spelling; the
 * requests RFC 9112 says to refuse (HTTP/0.9, two Host lines, no Host, two
 * Content-Length values) refused with problem documents; slow headers and
 * trickled bodies cut at headersTimeout and requestTimeout with a 408.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemOf, rawExchange } from '@stagecraft/testkit/raw-http';
import { startApiProcess, type ApiProcess } from './helpers/api-process.js';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.js';

let api: ApiProcess;
let dir: string;
let site: FixtureServer;
const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 3_000;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stagecraft-server-'));
  site = await startFixtureServer({
    '/slow': (_req, res) =>
      setTimeout(
        () => res.writeHead(200, { 'content-type': 'text/html' }).end('<a href="/x">'),
        REQUEST_TIMEOUT_MS + 500,
      ),
  });
  api = await startApiProcess({
    DATA_DIR: dir,
    FETCH_ALLOW_HOSTS: '127.0.0.1',
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  });
});

afterAll(async () => {
  await api?.stop();
  await site?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: api\r\n${extra}Connection: close\r\n\r\n`;

describe('metrics live on METRICS_PORT only', () => {
  it('serves Prometheus text with the business counters on METRICS_PORT', async () => {
    await fetch(`http://127.0.0.1:${api.port}/api/v1/count?base=${encodeURIComponent('http://e.com/')}`, {
      method: 'POST',
      body: '<a href="/x">',
      headers: { 'content-type': 'text/html' },
    });
    const r = await fetch(`http://127.0.0.1:${api.metricsPort}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    expect(text).toMatch(/^stagecraft_link_counts_total\{source="body",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^stagecraft_reports_stored 0$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect((await fetch(`http://127.0.0.1:${api.metricsPort}/metrics?name[]=x`)).status).toBe(200);
  });

  it.each([
    '/metrics',
    '/METRICS',
    '/Metrics',
    '/metrics/',
    '/metrics#x',
    '/metrics?x',
    '/metrics;x',
    '//metrics',
  ])('answers %s on the main port with a 404 problem, not metrics', async (path) => {
    const answer = await rawExchange(api.port, [get(path)]);
    expect(answer.status).toBe(404);
    expect(problemOf(answer).type).toBe('urn:stagecraft:problem:not-found');
    expect(answer.text).not.toMatch(/process_cpu|stagecraft_/);
  });

  it('serves nothing else on METRICS_PORT', async () => {
    for (const path of ['/healthz', '/api/v1/reports', '/METRICS', '/metrics/x']) {
      const answer = await rawExchange(api.metricsPort, [get(path)]);
      expect(answer.status, path).toBe(404);
      expect(problemOf(answer).status).toBe(404);
    }
    const post = await rawExchange(api.metricsPort, [
      'POST /metrics HTTP/1.1\r\nHost: api\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    ]);
    expect(post.status).toBe(405);
    expect(post.head).toMatch(/\r\nallow: GET, HEAD/i);
  });
});

describe('requests RFC 9112 says to refuse, on both ports', () => {
  const refused: [string, string, number, RegExp][] = [
    ['two Host lines', 'GET /healthz HTTP/1.1\r\nHost: api\r\nHost: evil\r\n\r\n', 400, /more than one Host/],
    ['two Host lines in other cases', 'GET /healthz HTTP/1.1\r\nHost: api\r\nhOST: api\r\n\r\n', 400, /Host/],
    ['an HTTP/1.1 request without Host', 'GET /healthz HTTP/1.1\r\nX: y\r\n\r\n', 400, /needs a Host/],
    ['a Host that is not host[:port]', 'GET /healthz HTTP/1.1\r\nHost: a/b@c\r\n\r\n', 400, /host\[:port\]/],
    ['an HTTP/0.9 request line', 'GET /healthz\r\n\r\n', 400, /HTTP\/0\.9/],
    ['HTTP/2.0 spoken as text', 'GET /healthz HTTP/2.0\r\nHost: api\r\n\r\n', 505, /HTTP\/2\.0/],
    [
      'two different Content-Length values',
      'POST /api/v1/count?base=x HTTP/1.1\r\nHost: api\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      400,
      /Content-Length/,
    ],
    [
      'two equal Content-Length values',
      'POST /api/v1/count?base=x HTTP/1.1\r\nHost: api\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab',
      400,
      /Content-Length/,
    ],
    [
      'Content-Length beside Transfer-Encoding',
      'POST /api/v1/count?base=x HTTP/1.1\r\nHost: api\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      /Transfer-Encoding/,
    ],
  ];

  it.each(refused)('refuses %s on the main port, and closes', async (_name, request, status, detail) => {
    const answer = await rawExchange(api.port, [request]);
    expect(answer.status).toBe(status);
    expect(problemOf(answer)).toMatchObject({ status });
    expect(problemOf(answer).detail).toMatch(detail);
    expect(answer.head).toMatch(/\r\nconnection: close/i);
    expect(answer.closedByServer).toBe(true);
  });

  it.each(refused)('refuses %s on METRICS_PORT', async (_name, request, status) => {
    const answer = await rawExchange(api.metricsPort, [request.replace('/healthz', '/metrics')]);
    expect(answer.status).toBe(status);
    expect(problemOf(answer).status).toBe(status);
  });

  it('still serves HTTP/1.0 without Host, and an empty Host', async () => {
    expect((await rawExchange(api.port, ['GET /healthz HTTP/1.0\r\n\r\n'])).status).toBe(200);
    expect(
      (await rawExchange(api.port, ['GET /healthz HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n'])).status,
    ).toBe(200);
  });

  it('closes the connection after answering an Upgrade request, whose pipelined followers Node drops', async () => {
    const answer = await rawExchange(api.port, [
      'GET /healthz HTTP/1.1\r\nHost: api\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n' +
        'GET /healthz HTTP/1.1\r\nHost: api\r\n\r\n',
    ]);
    expect(answer.status).toBe(200);
    expect(answer.head).toMatch(/\r\nconnection: close/i);
    expect(answer.closedByServer).toBe(true);
    expect(answer.elapsedMs).toBeLessThan(2_000);
  });
});

// Concurrently: each test waits on a timer of its own connection (the longest
// 3.5 s), so together they take as long as the longest rather than 11 s.
describe.concurrent('server timeouts', () => {
  it('cuts a client whose headers trickle past headersTimeout with a 408 problem', async () => {
    const trickle = Array.from({ length: 20 }, (_, i) => [250, `X-Slow-${i}: y\r\n`] as [number, string]);
    const answer = await rawExchange(api.port, ['GET /healthz HTTP/1.1\r\nHost: api\r\n', ...trickle], 8_000);
    expect(answer.status).toBe(408);
    expect(problemOf(answer)).toMatchObject({ type: 'urn:stagecraft:problem:request-timeout', status: 408 });
    expect(answer.closedByServer).toBe(true);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(answer.elapsedMs).toBeLessThan(HEADERS_TIMEOUT_MS + 1_500);
  });

  it('cuts a connection that sends nothing at headersTimeout', async () => {
    const answer = await rawExchange(api.port, [], 8_000);
    expect(answer.closedByServer).toBe(true);
    expect(answer.elapsedMs).toBeLessThan(HEADERS_TIMEOUT_MS + 1_500);
  });

  it('cuts a body trickled one byte a second at requestTimeout with a 408 problem', async () => {
    const trickle = Array.from({ length: 30 }, () => [1_000, 'x'] as [number, string]);
    const answer = await rawExchange(
      api.port,
      [
        'POST /api/v1/count?base=http%3A%2F%2Fe.com%2F HTTP/1.1\r\nHost: api\r\n' +
          'Content-Type: text/html\r\nContent-Length: 30\r\n\r\n',
        ...trickle,
      ],
      12_000,
    );
    expect(answer.status).toBe(408);
    expect(problemOf(answer)).toMatchObject({ type: 'urn:stagecraft:problem:request-timeout', status: 408 });
    expect(answer.closedByServer).toBe(true);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(answer.elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1_500);
  });

  it('bounds only the client sending: a handler that works past requestTimeout still answers', async () => {
    const r = await fetch(
      `http://127.0.0.1:${api.port}/api/v1/count?url=${encodeURIComponent(site.url('/slow'))}`,
    );
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ internal: 1 });
  });

  it('lets an idle keep-alive connection wait longer than headersTimeout between requests', async () => {
    const answer = await rawExchange(
      api.port,
      [get('/healthz').replace('Connection: close\r\n', ''), [HEADERS_TIMEOUT_MS + 1_000, get('/healthz')]],
      8_000,
    );
    expect(answer.text.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
  });
});
