/**
 * The fetching endpoints over real HTTP, for what a client may learn and how much
 * it may make the API do: one answer for every refused or unresolvable
 * destination (the reason only in the log), HEAD never fetching, a bound on
 * fetches in flight (503 with Retry-After), and coded POST bodies refused.
 * Fetches reach fixture servers on 127.0.0.1 only; names are answered by a DNS
 * server the test runs on 127.0.0.1, and refused names never get a connection.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsRecorder } from '../../src/count/count-metrics.js';
import { countPage } from '../../src/count/count-page.js';
import { FetchLimit } from '../../src/fetch/fetch-limit.js';
import { FetchError } from '../../src/fetch/fetch-page.js';
import { AllowList, SsrfGuard } from '../../src/fetch/ssrf-guard.js';
import { errorHandler } from '../../src/http/errors.js';
import { requestContext } from '../../src/http/request-context.js';
import { createApiMetrics } from '../../src/metrics.js';
import { startApi, type TestApi } from '../helpers/api.js';
import { html, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startDnsServer, type TestDnsServer } from './dns-server.js';

const COUNT = '/api/v1/count';
const q = (value: string) => encodeURIComponent(value);

let dns: TestDnsServer;
let site: FixtureServer;
let blocked: FixtureServer;
let api: TestApi;
/** Responses of /hold, kept until the test lets them go. */
const held: (() => void)[] = [];

beforeAll(async () => {
  dns = await startDnsServer({
    records: {
      'vm.test': ['10.0.0.7'],
      'metadata.test': ['169.254.169.254'],
      'loop.test': ['127.0.0.2'],
      'empty.test': [],
    },
  });
  blocked = await startFixtureServer({ '/': html('<a href="/x">') }, '127.0.0.2');
  site = await startFixtureServer({
    '/page': html('<a href="/x">'),
    '/hold': (_req, res) => held.push(() => res.writeHead(200, { 'content-type': 'text/html' }).end('<a>')),
  });
  api = await startApi({
    env: {
      FETCH_ALLOW_HOSTS: '127.0.0.1',
      FETCH_DNS_SERVERS: dns.server,
      FETCH_MAX_CONCURRENT: '2',
      FETCH_TIMEOUT_MS: '5000',
    },
  });
});

afterAll(async () => {
  for (const release of held.splice(0)) release();
  await api.close();
  await site.close();
  await blocked.close();
  await dns.close();
});

describe('what a refused destination tells the client', () => {
  it('gives one answer whatever the reason: blocked address, private name, unknown name, bad port', async () => {
    const urls = [
      blocked.url('/'), // loopback, not allow-listed
      'http://vm.test/', // an internal name: resolves to a private address
      'http://metadata.test/latest/', // resolves to link-local metadata
      `http://loop.test:${blocked.port}/`, // resolves to a refused loopback address
      'http://nx.test/', // does not exist
      'http://empty.test/', // exists, has no address
      'http://127.0.0.1:25/', // a bad port of an allow-listed address
    ];
    const answers = [];
    for (const url of urls) {
      const r = await api.call('GET', `${COUNT}?url=${q(url)}`, COUNT);
      const { instance: _instance, requestId: _requestId, ...rest } = r.body as Record<string, unknown>;
      answers.push({ status: r.status, ...rest });
    }
    for (const answer of answers) {
      expect(answer).toEqual({
        status: 403,
        type: 'urn:stagecraft:problem:forbidden-destination',
        title: 'Destination not allowed or unknown',
        detail: 'the destination does not resolve or is not allowed (the two are not told apart)',
      });
    }
    expect(blocked.connections()).toBe(0);
  });

  it('logs the reason the client is not told', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const app = express();
    app.use(requestContext(logger));
    app.get('/probe', () => {
      throw new FetchError(
        'forbidden-destination',
        'destination vm port 80 resolves to 10.0.0.7: a private address',
      );
    });
    app.use(errorHandler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/probe`);
      const text = await response.text();
      expect(response.status).toBe(403);
      expect(text).not.toContain('10.0.0.7');
      const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(logged).toContainEqual(
        expect.objectContaining({
          failure: 'forbidden-destination',
          reason: 'destination vm port 80 resolves to 10.0.0.7: a private address',
        }),
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('HEAD on a fetching endpoint', () => {
  it('answers 405 with Allow and fetches nothing', async () => {
    const before = site.requests.length;
    const r = await fetch(`${api.url}${COUNT}?url=${q(site.url('/page'))}`, { method: 'HEAD' });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, POST');
    expect(site.requests.length).toBe(before);
  });
});

describe('fetches in flight (FETCH_MAX_CONCURRENT=2)', () => {
  it('answers 503 fetch-capacity with Retry-After when every slot is taken, and recovers', async () => {
    const holding = [1, 2].map(() => api.call('GET', `${COUNT}?url=${q(site.url('/hold'))}`, COUNT));
    try {
      while (held.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      const full = await api.call('GET', `${COUNT}?url=${q(site.url('/page'))}`, COUNT);
      expect(full.status).toBe(503);
      expect(full.headers.get('retry-after')).toBe('1');
      expect(full.body).toMatchObject({ type: 'urn:stagecraft:problem:fetch-capacity' });
      const report = await api.call('POST', '/api/v1/reports', '/api/v1/reports', {
        body: JSON.stringify({ url: site.url('/page') }),
        headers: { 'content-type': 'application/json' },
      });
      expect(report.status).toBe(503);
      expect(report.headers.get('retry-after')).toBe('1');
    } finally {
      for (const release of held.splice(0)) release();
    }
    expect((await Promise.all(holding)).map((r) => r.status)).toEqual([200, 200]);
    expect((await api.call('GET', `${COUNT}?url=${q(site.url('/page'))}`, COUNT)).status).toBe(200);
  });

  it('counts refused fetches in the metrics, under outcome fetch-capacity', async () => {
    const metrics = createApiMetrics(() => 0);
    const limit = new FetchLimit(1);
    const taken = limit.tryAcquire();
    const fetchOptions = {
      guard: new SsrfGuard(new AllowList(['127.0.0.1'])),
      limit,
      timeoutMs: 1_000,
      connectTimeoutMs: 1_000,
      maxBytes: 1024,
      maxRedirects: 0,
    };
    await expect(
      countPage(site.url('/page'), { fetchOptions, record: metricsRecorder(metrics) }),
    ).rejects.toMatchObject({ failure: 'fetch-capacity' });
    taken!();
    expect(await metrics.registry.getSingleMetricAsString('stagecraft_link_counts_total')).toMatch(
      /^stagecraft_link_counts_total\{source="fetch",outcome="fetch-capacity"\} 1$/m,
    );
    expect(limit.active).toBe(0);
  });
});

describe('POST /api/v1/count with a content coding', () => {
  const post = (encoding: string) =>
    api.call('POST', `${COUNT}?base=${q('http://e.com/')}`, COUNT, {
      body: '<a href="/x">',
      headers: { 'content-type': 'text/html', 'content-encoding': encoding },
    });

  it.each(['gzip', 'br', 'deflate', 'identity, gzip', 'x-anything'])(
    'answers 415 for Content-Encoding: %s, naming identity',
    async (encoding) => {
      const r = await post(encoding);
      expect(r.status).toBe(415);
      expect(r.body).toMatchObject({ type: 'urn:stagecraft:problem:unsupported-content-encoding' });
      expect(r.headers.get('accept-encoding')).toBe('identity');
    },
  );

  it('counts a body sent as identity', async () => {
    const r = await post('identity');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ internal: 1, external: 0 });
  });
});
