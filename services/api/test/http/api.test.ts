/**
 * Every endpoint and every error status, over real HTTP, against fixture servers
 * on 127.0.0.1 that the test starts. Every response is checked against the OpenAPI
 * document by the client in helpers/api.ts.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from '../helpers/api.js';
import { html, redirect, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';

let api: TestApi;
let site: FixtureServer;
let blocked: FixtureServer;
const PAGE = '<a href="/a"><a href="#b"><A HREF="http://other.example/">';

const COUNT = '/api/v1/count';
const REPORTS = '/api/v1/reports';
const REPORT = '/api/v1/reports/{id}';
const q = (value: string) => encodeURIComponent(value);

beforeAll(async () => {
  blocked = await startFixtureServer({ '/': html('<a href="/x">') }, '127.0.0.2');
  site = await startFixtureServer({
    '/page': html(PAGE),
    '/moved': redirect('/page'),
    '/to-blocked': (_req, res) => res.writeHead(302, { location: blocked.url('/') }).end(),
    '/image': html('GIF89a', 200, 'image/gif'),
    '/huge': html('<p>' + 'x'.repeat(8 * 1024) + '</p>'),
    '/slow': (_req, res) =>
      setTimeout(() => res.writeHead(200, { 'content-type': 'text/html' }).end('<a href="/x">'), 1_500),
    '/reset': (req) => req.socket.destroy(),
  });
  api = await startApi({
    env: { FETCH_ALLOW_HOSTS: '127.0.0.1', FETCH_MAX_BYTES: '4096', FETCH_TIMEOUT_MS: '500' },
  });
});

afterAll(async () => {
  await api.close();
  await site.close();
  await blocked.close();
});

describe('GET /api/v1/count', () => {
  it('fetches and counts, with the fetch facts', async () => {
    const r = await api.call('GET', `${COUNT}?url=${q(site.url('/page'))}`, COUNT);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      url: site.url('/page'),
      internal: 2,
      external: 1,
      fetch: { status: 200, bytes: PAGE.length, redirects: 0 },
    });
  });

  it('counts against the URL asked for, not the one redirects end at', async () => {
    const r = await api.call('GET', `${COUNT}?url=${q(site.url('/moved'))}`, COUNT);
    expect(r.body).toMatchObject({
      url: site.url('/moved'),
      internal: 2,
      external: 1,
      fetch: { finalUrl: site.url('/page'), redirects: 1 },
    });
  });

  it('echoes the request id, and keeps it from the page server (a third party)', async () => {
    const r = await api.call('GET', `${COUNT}?url=${q(site.url('/page'))}`, COUNT, {
      headers: { 'x-request-id': 'trace-123' },
    });
    expect(r.headers.get('x-request-id')).toBe('trace-123');
    expect(site.requests.at(-1)?.url).toBe('/page');
    expect(site.requests.at(-1)?.headers['x-request-id']).toBeUndefined();
  });

  it.each([
    ['no url', '', 400, 'invalid-parameter'],
    ['a relative url', `?url=${q('/page')}`, 400, 'invalid-url'],
    ['a url given twice', `?url=${q('http://a.test/')}&url=${q('http://b.test/')}`, 400, 'invalid-parameter'],
    ['a url too long', `?url=${q('http://a.test/' + 'x'.repeat(3000))}`, 400, 'invalid-parameter'],
    ['an ftp url', `?url=${q('ftp://127.0.0.1/')}`, 422, 'unsupported-scheme'],
  ])('answers %s with a problem document', async (_name, query, status, slug) => {
    const r = await api.call('GET', COUNT + query, COUNT);
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({ status, type: `urn:stagecraft:problem:${slug}` });
  });

  it('answers 403 for a blocked destination, which never receives a connection', async () => {
    const direct = await api.call('GET', `${COUNT}?url=${q(blocked.url('/'))}`, COUNT);
    const viaRedirect = await api.call('GET', `${COUNT}?url=${q(site.url('/to-blocked'))}`, COUNT);
    // Loopback forms only: this app uses real sockets, so a probe must be harmless even if the guard failed.
    const decimal = await api.call('GET', `${COUNT}?url=${q(`http://2130706434:${blocked.port}/`)}`, COUNT);
    expect([direct.status, viaRedirect.status, decimal.status]).toEqual([403, 403, 403]);
    expect(blocked.connections()).toBe(0);
  });

  it('answers 422 for a page that is not HTML or is over the size limit', async () => {
    expect((await api.call('GET', `${COUNT}?url=${q(site.url('/image'))}`, COUNT)).body).toMatchObject({
      status: 422,
      type: 'urn:stagecraft:problem:not-html',
    });
    expect((await api.call('GET', `${COUNT}?url=${q(site.url('/huge'))}`, COUNT)).body).toMatchObject({
      status: 422,
      type: 'urn:stagecraft:problem:page-too-large',
    });
  });

  it('answers 502 when the page server fails and 504 when it is too slow', async () => {
    expect((await api.call('GET', `${COUNT}?url=${q(site.url('/reset'))}`, COUNT)).status).toBe(502);
    const gone = await startFixtureServer({});
    const url = gone.url('/');
    await gone.close();
    expect((await api.call('GET', `${COUNT}?url=${q(url)}`, COUNT)).status).toBe(502);
    expect((await api.call('GET', `${COUNT}?url=${q(site.url('/slow'))}`, COUNT)).status).toBe(504);
  });
});

describe('POST /api/v1/count', () => {
  const post = (query: string, body: string | Buffer, type?: string) =>
    api.call('POST', COUNT + query, COUNT, {
      body,
      headers: type === undefined ? {} : { 'content-type': type },
    });

  it('counts an HTML body without fetching', async () => {
    const body = '<a href="/x"><a href="http://example.org/">';
    const r = await post(`?base=${q('http://example.com/')}`, body, 'text/html; charset=utf-8');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ base: 'http://example.com/', internal: 1, external: 1, bytes: body.length });
  });

  it('answers 400 without a base, 415 for other media types, 413 over the limit', async () => {
    expect((await post('', '<a>', 'text/html')).status).toBe(400);
    expect((await post(`?base=${q('not a url')}`, '<a>', 'text/html')).status).toBe(400);
    expect((await post(`?base=${q('http://e.com/')}`, '{"a":1}', 'application/json')).status).toBe(415);
    expect((await post(`?base=${q('http://e.com/')}`, '<a href="/x">')).status).toBe(415);
    expect((await post(`?base=${q('http://e.com/')}`, 'x'.repeat(5000), 'text/html')).status).toBe(413);
  });

  it('enforces the limit on a chunked body with no Content-Length', async () => {
    const body = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode('y'.repeat(1024)));
        controller.close();
      },
    });
    const r = await api.call('POST', `${COUNT}?base=${q('http://e.com/')}`, COUNT, {
      body,
      headers: { 'content-type': 'text/html' },
      duplex: 'half',
    } as RequestInit);
    expect(r.status).toBe(413);
  });
});

describe('reports', () => {
  const create = (body: string, type = 'application/json') =>
    api.call('POST', REPORTS, REPORTS, { body, headers: { 'content-type': type } });

  it('creates, reads, lists newest first with cursors, and deletes', async () => {
    const created = [];
    for (let i = 0; i < 3; i++) {
      const r = await create(JSON.stringify({ url: site.url('/page') }));
      expect(r.status).toBe(201);
      expect(r.headers.get('location')).toBe(`/api/v1/reports/${(r.body as { id: number }).id}`);
      created.push(r.body as { id: number });
    }
    const one = await api.call('GET', `/api/v1/reports/${created[1]!.id}`, REPORT);
    expect(one.body).toMatchObject({ id: created[1]!.id, url: site.url('/page'), internal: 2, external: 1 });

    const first = await api.call('GET', `${REPORTS}?limit=2`, REPORTS);
    const page1 = first.body as { items: { id: number }[]; nextCursor: string };
    expect(page1.items.map((r) => r.id)).toEqual([created[2]!.id, created[1]!.id]);
    const second = await api.call('GET', `${REPORTS}?limit=2&cursor=${page1.nextCursor}`, REPORTS);
    const page2 = second.body as { items: { id: number }[]; nextCursor: string | null };
    expect(page2.items.map((r) => r.id)).toEqual([created[0]!.id]);
    expect(page2.nextCursor).toBeNull();

    expect((await api.call('DELETE', `/api/v1/reports/${created[0]!.id}`, REPORT)).status).toBe(204);
    expect((await api.call('GET', `/api/v1/reports/${created[0]!.id}`, REPORT)).status).toBe(404);
    expect((await api.call('DELETE', `/api/v1/reports/${created[0]!.id}`, REPORT)).status).toBe(404);
  });

  it.each([
    ['malformed JSON', '{"url": ', 'application/json', 400],
    ['a JSON array', '[]', 'application/json', 400],
    ['a JSON string', '"http://a.test/"', 'application/json', 400],
    ['a missing url', '{}', 'application/json', 400],
    ['a url that is not a string', '{"url": 5}', 'application/json', 400],
    ['an unknown property', '{"url": "http://a.test/", "admin": true}', 'application/json', 400],
    ['a form body', 'url=http://a.test/', 'application/x-www-form-urlencoded', 415],
    ['a body over 16 KB', JSON.stringify({ url: 'x'.repeat(20_000) }), 'application/json', 413],
  ])('rejects %s and stores nothing', async (_name, body, type, status) => {
    const before = await api.store.count();
    const r = await create(body, type);
    expect(r.status).toBe(status);
    expect(await api.store.count()).toBe(before);
  });

  it('stores nothing when the fetch fails', async () => {
    const before = await api.store.count();
    expect((await create(JSON.stringify({ url: blocked.url('/') }))).status).toBe(403);
    expect((await create(JSON.stringify({ url: site.url('/image') }))).status).toBe(422);
    expect((await create(JSON.stringify({ url: site.url('/reset') }))).status).toBe(502);
    expect((await create(JSON.stringify({ url: site.url('/slow') }))).status).toBe(504);
    expect(await api.store.count()).toBe(before);
  });

  it.each([
    ['an id that is not a number', '/api/v1/reports/abc', 400],
    ['id zero', '/api/v1/reports/0', 400],
    ['an id too large', '/api/v1/reports/99999999999999999999', 400],
    ['an unknown id', '/api/v1/reports/987654', 404],
  ])('answers %s with the right status', async (_name, path, status) => {
    expect((await api.call('GET', path, REPORT)).status).toBe(status);
  });

  it.each([
    ['limit=0', 400],
    ['limit=101', 400],
    ['limit=abc', 400],
    ['cursor=not-a-cursor', 400],
    [`cursor=${Buffer.from('{"before":"x"}').toString('base64url')}`, 400],
  ])('answers ?%s with 400', async (query, status) => {
    expect((await api.call('GET', `${REPORTS}?${query}`, REPORTS)).status).toBe(status);
  });
});

describe('paths and requests that cannot be decoded', () => {
  async function raw(line: string): Promise<{ status: number; body: { type: string } }> {
    const { port } = new URL(api.url);
    const text = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.end(Buffer.from(`${line}\r\nHost: x\r\nConnection: close\r\n\r\n`, 'utf8'));
    });
    const [head = '', body = ''] = text.split('\r\n\r\n');
    expect(head).toMatch(/content-type: application\/problem\+json/i);
    return { status: Number(head.split(' ')[1]), body: JSON.parse(body) as { type: string } };
  }

  it.each(['%ff%fe', '%c0%ae%c0%ae', '%e0%a4%a'])(
    'answers /api/v1/reports/%s with 400 malformed-path',
    async (id) => {
      const r = await raw(`GET /api/v1/reports/${id} HTTP/1.1`);
      expect(r).toMatchObject({ status: 400, body: { type: 'urn:stagecraft:problem:malformed-path' } });
    },
  );

  it.each([
    ['an unknown method', 'BREW /api/v1/reports HTTP/1.1'],
    ['raw UTF-8 in the path', 'GET /api/v1/reports/\u0661 HTTP/1.1'],
    ['a broken request line', 'GET'],
  ])('answers %s with a 400 problem document', async (_name, line) => {
    const r = await raw(line);
    expect(r).toMatchObject({ status: 400, body: { type: 'urn:stagecraft:problem:bad-request' } });
  });
});

describe('operations', () => {
  it('is alive and ready, and not ready while draining', async () => {
    expect((await api.call('GET', '/healthz', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await api.call('GET', '/readyz', '/readyz')).status).toBe(200);
    api.setDraining(true);
    const draining = await api.call('GET', '/readyz', '/readyz');
    api.setDraining(false);
    expect(draining.status).toBe(503);
    expect(draining.body).toMatchObject({ status: 'not-ready', checks: { draining: true } });
  });

  it('serves no /metrics on its main port, in any spelling (they are on METRICS_PORT)', async () => {
    for (const path of ['/metrics', '/METRICS', '/Metrics', '/metrics/', '/metrics?x=1']) {
      const r = await fetch(api.url + path);
      expect(r.status, path).toBe(404);
      expect(r.headers.get('content-type'), path).toMatch(/^application\/problem\+json/);
      expect(await r.text(), path).not.toMatch(/process_cpu|stagecraft_link_counts_total/);
    }
  });

  it('serves its OpenAPI document', async () => {
    const r = await api.call('GET', '/api/v1/openapi.json', '/api/v1/openapi.json');
    expect(r.body).toMatchObject({ openapi: '3.1.0' });
  });

  it('answers unknown paths with 404 and unknown methods with 405 and Allow', async () => {
    const missing = await fetch(`${api.url}/nope/../etc/passwd`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const wrong = await fetch(`${api.url}/api/v1/reports/1`, { method: 'PATCH' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, DELETE');
  });

  it('reads paths for 404 and 405 as its routes do: any letter case, one trailing slash', async () => {
    // GET serves these spellings (Express ignores case and one trailing slash), so
    // another method on them is a 405 with Allow, never a 404.
    for (const [path, allow] of [
      ['/API/V1/REPORTS/1', 'GET, DELETE'],
      ['/Api/V1/Reports/1/', 'GET, DELETE'],
      ['/api/v1/reports/', 'POST, GET'],
    ] as const) {
      const wrong = await fetch(api.url + path, { method: 'PATCH' });
      expect(wrong.status, path).toBe(405);
      expect(wrong.headers.get('allow'), path).toBe(allow);
    }
    for (const path of ['/api/v1/reports//', '/api/v1/reports/1/x', '/API/V2/REPORTS']) {
      expect((await fetch(api.url + path, { method: 'PATCH' })).status, path).toBe(404);
    }
  });
});
