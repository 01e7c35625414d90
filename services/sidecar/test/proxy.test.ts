/**
 * Pass-through, metering and failure behaviour of the sidecar against real HTTP
 * upstreams on 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from './helpers/prometheus-text.js';
import { startSidecar, type TestSidecar } from './helpers/sidecar.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

const open: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

async function setup(
  handler: Parameters<typeof startUpstream>[0],
  env: Record<string, string> = {},
): Promise<{ upstream: Upstream; sidecar: TestSidecar }> {
  const upstream = await startUpstream(handler);
  const sidecar = await startSidecar(upstream.url, env);
  open.push(sidecar, upstream);
  return { upstream, sidecar };
}

async function scrape(sidecar: TestSidecar) {
  const response = await fetch(`${sidecar.metricsUrl}/metrics`);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8$/);
  return parsePrometheusText(await response.text());
}

/** Raw HTTP/1.1 client call, so nothing normalises headers or bodies on the way. */
function raw(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string },
) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
    rawHeaders: string[];
  }>((resolve, reject) => {
    const req = request(
      url + options.path,
      { method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks),
            rawHeaders: res.rawHeaders,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('pass-through', () => {
  it('forwards method, path, query, headers and body unchanged', async () => {
    let seen: { method?: string; url?: string; headers?: Record<string, unknown>; body?: string } = {};
    const { sidecar } = await setup((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen = {
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        };
        res
          .writeHead(201, {
            'content-type': 'application/json',
            'x-upstream': 'yes',
            location: '/api/v1/reports/7',
          })
          .end('{"ok":true}');
      });
    });
    const r = await raw(sidecar.proxyUrl, {
      method: 'POST',
      path: '/api/v1/reports?a=1&b=%20x&a=2',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'req-42',
        'x-custom': 'kept',
        cookie: 'c=1',
      },
      body: '{"url":"http://x.test/"}',
    });
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/api/v1/reports?a=1&b=%20x&a=2');
    expect(seen.body).toBe('{"url":"http://x.test/"}');
    expect(seen.headers).toMatchObject({
      'x-request-id': 'req-42',
      'x-custom': 'kept',
      cookie: 'c=1',
      'content-type': 'application/json',
    });
    expect(r.status).toBe(201);
    expect(r.headers).toMatchObject({
      'x-upstream': 'yes',
      location: '/api/v1/reports/7',
      'x-request-id': 'req-42',
    });
    expect(r.body.toString()).toBe('{"ok":true}');
  });

  it('gives a request without an id a fresh one, upstream and back', async () => {
    let upstreamId: unknown;
    const { sidecar } = await setup((req, res) => {
      upstreamId = req.headers['x-request-id'];
      res.end();
    });
    const r = await raw(sidecar.proxyUrl, { path: '/healthz' });
    expect(upstreamId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers['x-request-id']).toBe(upstreamId);
  });

  it('passes error statuses and their bodies through', async () => {
    const problem = '{"type":"urn:stagecraft:problem:report-not-found","status":404}';
    const { sidecar } = await setup((_req, res) =>
      res.writeHead(404, { 'content-type': 'application/problem+json' }).end(problem),
    );
    const r = await raw(sidecar.proxyUrl, { path: '/api/v1/reports/9' });
    expect(r.status).toBe(404);
    expect(r.headers['content-type']).toBe('application/problem+json');
    expect(r.body.toString()).toBe(problem);
  });

  it('streams a chunked response chunk by chunk', async () => {
    const parts = ['<a href="/1">', '<a href="/2">', '<a href="/3">'];
    const { sidecar } = await setup((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      let i = 0;
      const next = () => (i < parts.length ? res.write(parts[i++], () => setTimeout(next, 20)) : res.end());
      next();
    });
    const r = await raw(sidecar.proxyUrl, { path: '/page' });
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(r.body.toString()).toBe(parts.join(''));
  });

  it('passes a binary body byte for byte', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 * 64 }, (_, i) => i % 256));
    const { sidecar } = await setup((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () =>
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.concat(chunks)),
      );
    });
    const r = await raw(sidecar.proxyUrl, {
      method: 'PUT',
      path: '/echo',
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(r.body.equals(bytes)).toBe(true);
  });
});

describe('RED metrics', () => {
  it('moves the histogram and size metrics exactly with the requests made', async () => {
    const { sidecar } = await setup((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(req.url === '/api/v1/reports/3' ? 404 : 200).end('0123456789'));
    });
    for (let i = 0; i < 5; i++) await raw(sidecar.proxyUrl, { path: `/api/v1/reports/${i + 1}` });
    await raw(sidecar.proxyUrl, {
      method: 'POST',
      path: '/api/v1/count?base=x',
      body: 'a'.repeat(300),
      headers: { 'content-type': 'text/html' },
    });
    const expo = await scrape(sidecar);
    const labels = (status: string) => ({
      http_request_method: 'GET',
      http_route: '/api/v1/reports/{id}',
      http_response_status_code: status,
    });
    expect(sampleValue(expo, 'http_server_request_duration_seconds_count', labels('200'))).toBe(4);
    expect(sampleValue(expo, 'http_server_request_duration_seconds_count', labels('404'))).toBe(1);
    expect(sampleValue(expo, 'http_server_response_body_size_bytes_sum', labels('200'))).toBe(40);
    expect(
      sampleValue(expo, 'http_server_request_body_size_bytes_sum', {
        http_request_method: 'POST',
        http_route: '/api/v1/count',
      }),
    ).toBe(300);
    expect(sampleValue(expo, 'http_server_active_requests', { http_request_method: 'GET' })).toBe(0);
    expect(expo.types.get('http_server_request_duration_seconds')).toBe('histogram');
    expect(sampleValue(expo, 'process_cpu_user_seconds_total', {})).toBeGreaterThan(0);
  });

  it('counts requests in flight while they are in flight', async () => {
    let release = () => {};
    const { sidecar } = await setup((_req, res) => {
      release = () => res.end('done');
    });
    const pending = raw(sidecar.proxyUrl, { path: '/api/v1/reports' });
    await new Promise((r) => setTimeout(r, 100));
    expect(
      sampleValue(await scrape(sidecar), 'http_server_active_requests', { http_request_method: 'GET' }),
    ).toBe(1);
    release();
    await pending;
    expect(
      sampleValue(await scrape(sidecar), 'http_server_active_requests', { http_request_method: 'GET' }),
    ).toBe(0);
  });

  it('keeps label cardinality bounded: 10,000 random paths and methods make no more series than templates + unmatched', async () => {
    const { sidecar } = await setup((_req, res) => res.writeHead(200).end());
    const methods = ['GET', 'POST', 'DELETE', 'PURGE', 'PROPFIND', 'MKCOL'];
    let sent = 0;
    const worker = async () => {
      while (sent < 10_000) {
        const i = sent++;
        const path =
          i % 3 === 0 ? `/api/v1/reports/${i}` : `/${Math.random().toString(36).slice(2)}/${i}?q=${i}`;
        await raw(sidecar.proxyUrl, { method: methods[i % methods.length]!, path });
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const expo = await scrape(sidecar);
    const counts = expo.samples.filter((s) => s.name === 'http_server_request_duration_seconds_count');
    const routes = new Set(counts.map((s) => s.labels.http_route));
    const methodsSeen = new Set(counts.map((s) => s.labels.http_request_method));
    expect(counts.reduce((sum, s) => sum + s.value, 0)).toBe(10_000);
    expect(routes).toEqual(new Set(['/api/v1/reports/{id}', 'unmatched']));
    expect(routes.size).toBeLessThanOrEqual(sidecar.labels.size + 1);
    expect(methodsSeen).toEqual(new Set(['GET', 'POST', 'DELETE', '_OTHER']));
  });

  it('serves valid Prometheus text on the metrics port and 404 on the proxied port', async () => {
    let upstreamHits = 0;
    const { sidecar } = await setup((_req, res) => {
      upstreamHits++;
      res.end('upstream metrics');
    });
    const expo = await scrape(sidecar);
    expect(expo.samples.length).toBeGreaterThan(10);
    for (const path of ['/metrics', '/metrics/', '/metrics?x=1', '/metrics/extra']) {
      const r = await raw(sidecar.proxyUrl, { path });
      expect(r.status, path).toBe(404);
      expect(r.headers['content-type']).toBe('application/problem+json');
    }
    expect(upstreamHits).toBe(0);
    expect((await fetch(`${sidecar.metricsUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${sidecar.metricsUrl}/api/v1/reports`)).status).toBe(404);
  });
});

describe('upstream failures', () => {
  it('answers 502 for a refused connection, counts it, and recovers when the upstream returns', async () => {
    const gone = await startUpstream((_req, res) => res.end());
    const port = gone.port;
    await gone.close();
    const sidecar = await startSidecar(`http://127.0.0.1:${port}`);
    open.push(sidecar);
    const r = await raw(sidecar.proxyUrl, { path: '/api/v1/reports' });
    expect(r.status).toBe(502);
    expect(r.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(r.body.toString())).toMatchObject({
      status: 502,
      type: 'urn:stagecraft:problem:upstream-refused',
    });
    expect(
      sampleValue(await scrape(sidecar), 'stagecraft_proxy_upstream_failures_total', { kind: 'refused' }),
    ).toBe(1);

    const back = await startUpstream((_req, res) => res.end('back'), port);
    open.push(back);
    const after = await raw(sidecar.proxyUrl, { path: '/api/v1/reports' });
    expect(after.status).toBe(200);
    expect(after.body.toString()).toBe('back');
  });

  it('answers 504 when the upstream hangs, and closes the upstream socket', async () => {
    const { sidecar, upstream } = await setup(() => undefined, { UPSTREAM_TIMEOUT_MS: '300' });
    const started = Date.now();
    const r = await raw(sidecar.proxyUrl, { path: '/api/v1/count?url=x' });
    expect(r.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(JSON.parse(r.body.toString())).toMatchObject({ type: 'urn:stagecraft:problem:upstream-timeout' });
    expect(
      sampleValue(await scrape(sidecar), 'stagecraft_proxy_upstream_failures_total', { kind: 'timeout' }),
    ).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(upstream.openSockets()).toBe(0);
  });

  it('breaks the client response when the upstream resets mid-body, counts it, and keeps serving', async () => {
    const { sidecar } = await setup((req, res) => {
      if (req.url === '/ok') return void res.end('fine');
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': '100000' });
      res.write('x'.repeat(1000), () => setTimeout(() => req.socket.destroy(), 20));
    });
    await expect(raw(sidecar.proxyUrl, { path: '/api/v1/count' })).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(
      sampleValue(await scrape(sidecar), 'stagecraft_proxy_upstream_failures_total', { kind: 'reset' }),
    ).toBe(1);
    const ok = await raw(sidecar.proxyUrl, { path: '/ok' });
    expect(ok.body.toString()).toBe('fine');
    expect(
      sampleValue(await scrape(sidecar), 'http_server_active_requests', { http_request_method: 'GET' }),
    ).toBe(0);
  });

  it('answers 502 when the upstream closes without answering', async () => {
    const { sidecar } = await setup((req) => req.socket.destroy());
    const r = await raw(sidecar.proxyUrl, { path: '/api/v1/reports' });
    expect(r.status).toBe(502);
    expect(
      sampleValue(await scrape(sidecar), 'stagecraft_proxy_upstream_failures_total', { kind: 'reset' }),
    ).toBe(1);
  });
});

describe('requests Node cannot parse', () => {
  it.each([
    ['an unknown method', 'BREW /api/v1/reports HTTP/1.1'],
    ['raw UTF-8 in the path', 'GET /api/v1/reports/caf\u00e9 HTTP/1.1'],
  ])('answers %s with a 400 problem document, and the upstream never sees it', async (_name, line) => {
    let seen = 0;
    const { sidecar } = await setup((_req, res) => {
      seen++;
      res.end('ok');
    });
    const { port } = new URL(sidecar.proxyUrl);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.end(Buffer.from(`${line}\r\nHost: x\r\n\r\n`, 'utf8'));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/content-type: application\/problem\+json/);
    expect(JSON.parse(answer.split('\r\n\r\n')[1]!)).toMatchObject({
      status: 400,
      type: 'urn:stagecraft:problem:bad-request',
    });
    expect(seen).toBe(0);
  });
});

describe('retries of idempotent requests', () => {
  /** An upstream that breaks the first `failures` connections without answering, then serves. */
  function flaky(failures: number) {
    let seen = 0;
    return {
      seen: () => seen,
      handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
        seen++;
        if (seen <= failures) return void req.socket.destroy();
        req.resume();
        res.end(`served on attempt ${seen}`);
      },
    };
  }

  it('re-sends a GET that was reset before any answer, and the client never sees the failure', async () => {
    const upstream = flaky(2);
    const { sidecar } = await setup(upstream.handler);
    const r = await raw(sidecar.proxyUrl, { path: '/api/v1/reports' });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('served on attempt 3');
    const expo = await scrape(sidecar);
    expect(sampleValue(expo, 'stagecraft_proxy_upstream_retries_total', { kind: 'reset' })).toBe(2);
    expect(sampleValue(expo, 'stagecraft_proxy_upstream_failures_total', { kind: 'reset' })).toBe(0);
  });

  it('gives up after UPSTREAM_RETRIES re-sends with a 502, counting one failure', async () => {
    const upstream = flaky(10);
    const { sidecar } = await setup(upstream.handler, { UPSTREAM_RETRIES: '1' });
    const r = await raw(sidecar.proxyUrl, { method: 'DELETE', path: '/api/v1/reports/1' });
    expect(r.status).toBe(502);
    expect(upstream.seen()).toBe(2);
    const expo = await scrape(sidecar);
    expect(sampleValue(expo, 'stagecraft_proxy_upstream_retries_total', { kind: 'reset' })).toBe(1);
    expect(sampleValue(expo, 'stagecraft_proxy_upstream_failures_total', { kind: 'reset' })).toBe(1);
  });

  it.each([
    ['a POST', 'POST', { 'content-type': 'application/json' }, '{"url":"http://a.test/"}'],
    ['a PUT with a body', 'PUT', { 'content-type': 'text/plain' }, 'body'],
  ])('never re-sends %s, whose body the first attempt consumed', async (_name, method, headers, body) => {
    const upstream = flaky(1);
    const { sidecar } = await setup(upstream.handler);
    const r = await raw(sidecar.proxyUrl, { method, path: '/api/v1/reports', headers, body });
    expect(r.status).toBe(502);
    expect(upstream.seen()).toBe(1);
  });

  it('re-sends a refused GET, then answers 502 once the retries are spent', async () => {
    const probe = await startUpstream(() => undefined);
    const port = Number(new URL(probe.url).port);
    await probe.close();
    const sidecar = await startSidecar(`http://127.0.0.1:${port}`);
    open.push(sidecar);
    expect((await raw(sidecar.proxyUrl, { path: '/healthz' })).status).toBe(502);
    const expo = await scrape(sidecar);
    expect(sampleValue(expo, 'stagecraft_proxy_upstream_retries_total', { kind: 'refused' })).toBe(2);
    expect(sampleValue(expo, 'stagecraft_proxy_upstream_failures_total', { kind: 'refused' })).toBe(1);
  });
});

describe('large bodies through the in-process sidecar', () => {
  it('passes a 5 MB upload and download byte for byte', async () => {
    const size = 5 * 1024 * 1024;
    const payload = Buffer.alloc(size, 7);
    const { sidecar } = await setup((req, res) => {
      const hash = createHash('sha256');
      req.on('data', (c: Buffer) => hash.update(c));
      req.on('end', () => res.end(hash.digest('hex')));
    });
    const r = await raw(sidecar.proxyUrl, { method: 'POST', path: '/upload', body: payload });
    expect(r.body.toString()).toBe(createHash('sha256').update(payload).digest('hex'));
  });
});

describe('client aborts', () => {
  it('does not count a client that hangs up as an upstream failure', async () => {
    const { sidecar } = await setup(() => undefined, { UPSTREAM_TIMEOUT_MS: '5000' });
    await new Promise<void>((resolve) => {
      const req = request(`${sidecar.proxyUrl}/api/v1/count`);
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => req.destroy(), 100);
    });
    await new Promise((r) => setTimeout(r, 100));
    const expo = await scrape(sidecar);
    for (const kind of ['refused', 'reset', 'timeout', 'other']) {
      expect(sampleValue(expo, 'stagecraft_proxy_upstream_failures_total', { kind })).toBe(0);
    }
    expect(sampleValue(expo, 'http_server_active_requests', { http_request_method: 'GET' })).toBe(0);
  });
});
