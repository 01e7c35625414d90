/**
 * The OpenTelemetry labels of the RED metrics beyond method, route and status:
 * url_scheme and error_type, and QUERY as a known method. Their rules as tables,
 * then on real sockets: each value where it belongs, and no value a client can
 * invent, however many schemes and methods it tries.
 */
import { METHODS, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HistogramSeries, errorTypeLabel, methodLabel, schemeLabel } from '../src/red-metrics.js';
import { parsePrometheusText, sampleValue, type Exposition } from './helpers/prometheus-text.js';
import { startSidecar, type TestSidecar } from './helpers/sidecar.js';
import { startUpstream } from './helpers/upstream.js';

const open: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

async function sidecarBefore(
  handler: Parameters<typeof startUpstream>[0],
  env: Record<string, string> = {},
): Promise<TestSidecar> {
  const upstream = await startUpstream(handler);
  const sidecar = await startSidecar(upstream.url, env);
  open.push(sidecar, upstream);
  return sidecar;
}

async function scrape(sidecar: TestSidecar): Promise<Exposition> {
  return parsePrometheusText(await (await fetch(`${sidecar.metricsUrl}/metrics`)).text());
}

/** One request; its status, or "cut" when the answer broke off. */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<number | 'cut'> {
  return new Promise((resolve) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
      res.on('error', () => resolve('cut'));
    });
    req.on('error', () => resolve('cut'));
    req.end(options.body);
  });
}

const DURATION_COUNT = 'http_server_request_duration_seconds_count';

describe('the label rules', () => {
  it.each([
    ['QUERY', 'QUERY'],
    ['query', 'QUERY'],
    ['PATCH', 'PATCH'],
    ['PROPFIND', '_OTHER'],
    ['SEARCH', '_OTHER'],
  ])('method %s -> %s', (method, label) => {
    expect(methodLabel(method)).toBe(label);
  });

  it.each<[string | string[] | undefined, string]>([
    [undefined, 'http'],
    ['http', 'http'],
    ['https', 'https'],
    ['HTTPS', 'https'],
    [' https , http', 'https'],
    [['https', 'http'], 'https'],
    ['http, https', 'http'],
    ['ftp', 'http'],
    ['javascript', 'http'],
    ['https-but-not', 'http'],
    ['', 'http'],
    [[], 'http'],
  ])('X-Forwarded-Proto %j -> url_scheme %s', (header, label) => {
    expect(schemeLabel(header)).toBe(label);
  });

  it.each<[number, Parameters<typeof errorTypeLabel>[1], string]>([
    [200, undefined, ''],
    [404, undefined, ''],
    [408, undefined, ''],
    [499, undefined, ''],
    [500, undefined, '500'],
    [503, undefined, '503'],
    [599, undefined, '599'],
    [600, undefined, ''],
    [502, 'refused', 'refused'],
    [504, 'timeout', 'timeout'],
    [502, 'protocol', 'protocol'],
    [200, 'reset', 'reset'], // an answer that began well and was cut mid-body
  ])('status %i, upstream failure %s -> error_type %j', (status, failure, label) => {
    expect(errorTypeLabel(status, failure)).toBe(label);
  });

  it('leaves an empty label out of a series, as Prometheus reads it', () => {
    const series = new HistogramSeries({ a: 'x', error_type: '' }, [1]);
    expect(series.labels).toEqual({ a: 'x' });
  });
});

describe('url_scheme and error_type on the wire', () => {
  it('labels the scheme the gateway forwarded, and http without one', async () => {
    const sidecar = await sidecarBefore((_req, res) => res.end('ok'));
    await send(`${sidecar.proxyUrl}/api/v1/reports`, { headers: { 'x-forwarded-proto': 'https' } });
    await send(`${sidecar.proxyUrl}/api/v1/reports`, { headers: { 'x-forwarded-proto': 'http' } });
    await send(`${sidecar.proxyUrl}/api/v1/reports`);
    const expo = await scrape(sidecar);
    const route = { http_route: '/api/v1/reports', http_request_method: 'GET' };
    expect(sampleValue(expo, DURATION_COUNT, { ...route, url_scheme: 'https' })).toBe(1);
    expect(sampleValue(expo, DURATION_COUNT, { ...route, url_scheme: 'http' })).toBe(2);
    expect(
      sampleValue(expo, 'http_server_request_body_size_bytes_count', { ...route, url_scheme: 'https' }),
    ).toBe(1);
    expect(
      sampleValue(expo, 'http_server_active_requests', { http_request_method: 'GET', url_scheme: 'https' }),
    ).toBe(0);
    // A successful request has no error_type at all, not an empty one.
    const ok = expo.samples.filter((s) => s.name === DURATION_COUNT);
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.filter((s) => 'error_type' in s.labels)).toEqual([]);
  });

  it("sets error_type to the API's 5xx, to the failure's kind when the API gave no answer, and never for a 4xx", async () => {
    const sidecar = await sidecarBefore(
      (req, res) => {
        if (req.url === '/api/v1/reports/1') return void res.writeHead(404).end();
        if (req.url === '/api/v1/reports/2') return void res.writeHead(500).end();
        if (req.url === '/api/v1/reports/3') return void res.writeHead(503).end();
        if (req.url === '/api/v1/reports/4') return void req.socket.destroy(); // no answer: 502
        if (req.url === '/api/v1/reports/5') {
          // 200 begun, then cut mid-body
          res.writeHead(200, { 'content-length': '100000' });
          return void res.write('x'.repeat(1000), () => setTimeout(() => req.socket.destroy(), 20));
        }
        if (req.url === '/api/v1/reports/6') return; // never answers: 504
        res.end('ok');
      },
      { UPSTREAM_TIMEOUT_MS: '300', UPSTREAM_RETRIES: '0' },
    );
    const statuses: (number | 'cut')[] = [];
    for (let id = 1; id <= 7; id++) statuses.push(await send(`${sidecar.proxyUrl}/api/v1/reports/${id}`));
    expect(statuses).toEqual([404, 500, 503, 502, 'cut', 504, 200]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const expo = await scrape(sidecar);
    const seen = expo.samples
      .filter((s) => s.name === DURATION_COUNT)
      .map((s) => `${s.labels.http_response_status_code} ${s.labels.error_type ?? '(none)'} ${s.value}`)
      .sort();
    expect(seen).toEqual([
      '200 (none) 1',
      '200 reset 1',
      '404 (none) 1',
      '500 500 1',
      '502 reset 1',
      '503 503 1',
      '504 timeout 1',
    ]);
    expect(
      sampleValue(expo, 'http_server_response_body_size_bytes_count', {
        http_response_status_code: '504',
        error_type: 'timeout',
      }),
    ).toBe(1);
  });

  it('labels a refused connection "refused", and a client that hangs up with no error_type', async () => {
    const gone = await startUpstream((_req, res) => res.end());
    const port = gone.port;
    await gone.close();
    const sidecar = await startSidecar(`http://127.0.0.1:${port}`, { UPSTREAM_RETRIES: '0' });
    open.push(sidecar);
    expect(await send(`${sidecar.proxyUrl}/api/v1/reports`)).toBe(502);

    const slow = await sidecarBefore(() => undefined, { UPSTREAM_TIMEOUT_MS: '5000' });
    await new Promise<void>((resolve) => {
      const req = request(`${slow.proxyUrl}/api/v1/count`);
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => req.destroy(), 100);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));

    const refused = (await scrape(sidecar)).samples.filter((s) => s.name === DURATION_COUNT);
    expect(refused.map((s) => s.labels)).toEqual([
      {
        http_request_method: 'GET',
        url_scheme: 'http',
        http_route: '/api/v1/reports',
        http_response_status_code: '502',
        error_type: 'refused',
      },
    ]);
    const hungUp = (await scrape(slow)).samples.filter((s) => s.name === DURATION_COUNT);
    expect(hungUp).toHaveLength(1);
    expect(hungUp[0]!.labels.error_type).toBeUndefined();
  });

  it('counts QUERY as QUERY', async () => {
    const sidecar = await sidecarBefore((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(405).end());
    });
    expect(await send(`${sidecar.proxyUrl}/healthz`, { method: 'QUERY', body: 'q' })).toBe(405);
    const expo = await scrape(sidecar);
    expect(sampleValue(expo, DURATION_COUNT, { http_request_method: 'QUERY', http_route: '/healthz' })).toBe(
      1,
    );
  });
});

describe('hostile schemes and methods add no series', () => {
  it('3,000 requests with invented X-Forwarded-Proto values and every method Node parses stay within the fixed label values', async () => {
    const sidecar = await sidecarBefore((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(req.url!.endsWith('/2') ? 503 : 200).end());
    });
    const schemes = ['ftp', 'HTTPS', 'https, evil', 'gopher', 'x'.repeat(2000), 'javascript', 'HtTp'];
    // CONNECT asks for a tunnel: Node's server hands it to a 'connect' listener, never to the proxy.
    const methods = METHODS.filter((m) => m !== 'CONNECT');
    let sent = 0;
    const worker = async () => {
      while (sent < 3_000) {
        const i = sent++;
        const scheme =
          i % 2 === 0 ? `${Math.random().toString(36).slice(2)}${i}` : schemes[i % schemes.length]!;
        await send(`${sidecar.proxyUrl}/api/v1/reports/${i % 3}`, {
          method: methods[i % methods.length]!,
          headers: { 'x-forwarded-proto': scheme },
        });
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const expo = await scrape(sidecar);
    const counts = expo.samples.filter((s) => s.name === DURATION_COUNT);
    expect(counts.reduce((sum, s) => sum + s.value, 0)).toBe(3_000);
    const values = (label: string) => new Set(counts.map((s) => s.labels[label] ?? '(none)'));
    expect(values('url_scheme')).toEqual(new Set(['http', 'https']));
    expect(values('error_type')).toEqual(new Set(['(none)', '503']));
    const known = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY'];
    expect([...values('http_request_method')].sort()).toEqual([...known, '_OTHER'].sort());
    // Every series accounted for: methods x schemes x statuses of one route, no more.
    expect(counts.length).toBeLessThanOrEqual(values('http_request_method').size * 2 * 2);
    const active = expo.samples.filter((s) => s.name === 'http_server_active_requests');
    expect(new Set(active.map((s) => s.labels.url_scheme))).toEqual(new Set(['http', 'https']));
  });
});
