/**
 * Name resolution inside the fetch deadline, through c-ares, against DNS servers
 * the test runs on 127.0.0.1 (one that answers from a table, one that never
 * answers some names). No query ever goes to a real DNS server: the API's
 * resolver is pointed at the test's server with FETCH_DNS_SERVERS, and fetches
 * only reach fixture servers on 127.0.0.1.
 */
import { pbkdf2 } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsResolver, type FetchOptions } from '../../src/fetch/fetch-page.js';
import { AllowList, SsrfGuard } from '../../src/fetch/ssrf-guard.js';
import { startApi, type TestApi } from '../helpers/api.js';
import { fetchRaw } from '../helpers/fetch-raw.js';
import { html, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startDnsServer, type TestDnsServer } from './dns-server.js';

const COUNT = '/api/v1/count';
const q = (value: string) => encodeURIComponent(value);
const sink = () => undefined;

let dns: TestDnsServer;
let site: FixtureServer;

beforeAll(async () => {
  dns = await startDnsServer({
    records: { 'site.test': ['127.0.0.1'], 'dual.test': ['127.0.0.1', '::1'], 'empty.test': [] },
    hang: (name) => name.startsWith('hang'),
  });
  site = await startFixtureServer({ '/page': html('<a href="/x"><a href="http://o.example/">') });
});

afterAll(async () => {
  await site.close();
  await dns.close();
});

function options(overrides: Partial<FetchOptions> = {}): FetchOptions {
  return {
    guard: new SsrfGuard(new AllowList(['127.0.0.1'])),
    resolve: dnsResolver([dns.server]),
    timeoutMs: 3_000,
    connectTimeoutMs: 1_000,
    maxBytes: 1024 * 1024,
    maxRedirects: 5,
    ...overrides,
  };
}

describe('the c-ares resolver (DNS server on 127.0.0.1)', () => {
  it('asks the configured server for A and AAAA records and returns both', async () => {
    const addresses = await dnsResolver([dns.server])('dual.test', new AbortController().signal);
    expect(addresses).toEqual([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
    expect(dns.questions).toEqual(expect.arrayContaining(['dual.test/A', 'dual.test/AAAA']));
  });

  it('fetches a page by a name the server answers', async () => {
    const facts = await fetchRaw(`http://site.test:${site.port}/page`, sink, options());
    expect(facts).toMatchObject({ status: 200, finalUrl: `http://site.test:${site.port}/page` });
  });

  it('reports a name that does not exist, or has no address, as dns-failure', async () => {
    await expect(fetchRaw('http://nx.test/', sink, options())).rejects.toMatchObject({
      failure: 'dns-failure',
    });
    await expect(fetchRaw('http://empty.test/', sink, options())).rejects.toMatchObject({
      failure: 'dns-failure',
    });
  });

  it('resolves localhost to loopback without asking DNS (RFC 6761), so the guard refuses it', async () => {
    const before = dns.questions.length;
    expect(await dnsResolver([dns.server])('localhost', new AbortController().signal)).toEqual([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
    await expect(
      fetchRaw('http://app.localhost/', sink, options({ guard: new SsrfGuard(new AllowList([])) })),
    ).rejects.toMatchObject({ failure: 'forbidden-destination' });
    expect(dns.questions.length).toBe(before);
  });

  it('cuts a lookup the server never answers at the fetch deadline, and cancels its queries', async () => {
    const started = performance.now();
    await expect(
      fetchRaw('http://hang-direct.test/', sink, options({ timeoutMs: 400 })),
    ).rejects.toMatchObject({ failure: 'timeout' });
    expect(performance.now() - started).toBeLessThan(400 + 250);
    // c-ares would send each query again within 2 s (1 s query timeout, with backoff
    // and jitter; it gives up after about 4 s): cancelled queries are never sent again.
    await new Promise((resolve) => setTimeout(resolve, 3_000 - (performance.now() - started)));
    expect(dns.questions.filter((question) => question.startsWith('hang-direct.test/')).sort()).toEqual([
      'hang-direct.test/A',
      'hang-direct.test/AAAA',
    ]);
  });

  it('bounds an injected resolver that ignores the deadline, and tells it the deadline passed', async () => {
    let aborted = false;
    const resolve = (_hostname: string, signal: AbortSignal) =>
      new Promise<never>(() => signal.addEventListener('abort', () => (aborted = true)));
    const started = performance.now();
    await expect(
      fetchRaw('http://stuck.test/', sink, options({ resolve, timeoutMs: 300 })),
    ).rejects.toMatchObject({
      failure: 'timeout',
    });
    expect(performance.now() - started).toBeLessThan(300 + 250);
    expect(aborted).toBe(true);
  });

  it("does not wait for libuv's thread pool, which getaddrinfo needs and file and crypto work fills", async () => {
    const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    const busy = Array.from(
      { length: poolSize },
      () => new Promise((resolve) => pbkdf2('x', 'y', 2_000_000, 64, 'sha512', resolve)),
    );
    // A job queued behind them shows how long anything needing the pool now waits.
    const queued = performance.now();
    const control = new Promise<number>((resolve) =>
      pbkdf2('x', 'y', 1, 64, 'sha512', () => resolve(performance.now() - queued)),
    );
    const started = performance.now();
    await dnsResolver([dns.server])('site.test', new AbortController().signal);
    const lookupMs = performance.now() - started;
    const poolWaitMs = await control;
    await Promise.all(busy);
    expect(poolWaitMs).toBeGreaterThan(300);
    expect(lookupMs).toBeLessThan(Math.min(200, poolWaitMs / 2));
  });
});

describe('the API with a DNS server that never answers (FETCH_DNS_SERVERS on 127.0.0.1)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startApi({
      env: { FETCH_ALLOW_HOSTS: '127.0.0.1', FETCH_DNS_SERVERS: dns.server, FETCH_TIMEOUT_MS: '1000' },
    });
  });
  afterAll(async () => {
    await api.close();
  });

  it('answers 504 within FETCH_TIMEOUT_MS for a name whose lookup hangs', async () => {
    const started = performance.now();
    const r = await api.call('GET', `${COUNT}?url=${q('http://hang-alone.test/')}`, COUNT);
    const elapsed = performance.now() - started;
    expect(r.status).toBe(504);
    expect(r.body).toMatchObject({ type: 'urn:stagecraft:problem:timeout' });
    expect(elapsed).toBeLessThan(1000 + 300);
    console.info(`dead DNS server: 504 after ${Math.round(elapsed)} ms (FETCH_TIMEOUT_MS=1000)`);
  });

  it('while 8 lookups hang, fetches of an IP literal and of a name the DNS server answers complete promptly', async () => {
    const hanging = Array.from({ length: 8 }, (_, i) =>
      api.call('GET', `${COUNT}?url=${q(`http://hang-${i}.test/`)}`, COUNT),
    );
    await new Promise((resolve) => setTimeout(resolve, 100)); // the 8 lookups are out
    const timed = async (url: string) => {
      const started = performance.now();
      const r = await api.call('GET', `${COUNT}?url=${q(url)}`, COUNT);
      return { status: r.status, ms: performance.now() - started };
    };
    const [literal, named] = await Promise.all([
      timed(site.url('/page')),
      timed(`http://site.test:${site.port}/page`),
    ]);
    expect(literal.status).toBe(200);
    expect(named.status).toBe(200);
    expect(literal.ms).toBeLessThan(250);
    expect(named.ms).toBeLessThan(250);
    const statuses = (await Promise.all(hanging)).map((r) => r.status);
    expect(statuses).toEqual(Array(8).fill(504));
    console.info(
      `8 lookups hanging: IP-literal fetch ${Math.round(literal.ms)} ms, named fetch ${Math.round(named.ms)} ms`,
    );
  });
});
