/**
 * The load generator against servers of the test's own on 127.0.0.1: its count,
 * concurrency and time bounds, the outcomes it records, and the latency figures.
 */
import { createServer, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { fixedRateLoad, latencyAtFixedRate } from '../src/fixed-rate.js';
import { listenLocally, type LocalServer } from '../src/local-server.js';
import { timedRequest } from '../src/timed-request.js';

const open: LocalServer[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<LocalServer> {
  const server = await listenLocally(createServer(handler));
  open.push(server);
  return server;
}

describe('fixedRateLoad', () => {
  it('sends rate × seconds requests on schedule, with their bodies and headers, in order', async () => {
    const seen: string[] = [];
    const server = await serve((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(`${req.headers['x-test']} ${body}`);
        res.writeHead(201, { 'content-type': 'text/plain' }).end(`got ${body}`);
      });
    });
    const started = performance.now();
    const { outcomes, shed } = await fixedRateLoad({
      url: server.url('/'),
      method: 'POST',
      headers: { 'x-test': 'yes' },
      body: (n) => `#${n}`,
      ratePerSecond: 40,
      seconds: 0.5,
    });
    const took = performance.now() - started;
    expect(shed).toBe(0);
    expect(outcomes.map((o) => o.n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(outcomes.every((o) => o.status === 201 && o.contentType === 'text/plain')).toBe(true);
    expect(outcomes[7]!.body).toBe('got #7');
    expect(seen).toContain('yes #19');
    // The 20th request is due at 19/40 s = 475 ms; the schedule neither rushes nor drags.
    expect(outcomes[19]!.at).toBeGreaterThanOrEqual(470);
    expect(took).toBeGreaterThanOrEqual(470);
    expect(took).toBeLessThan(2_000);
    // Keep-alive: the requests share a few connections, not one each.
    expect(server.connections()).toBeLessThan(20);
  });

  it('sheds what falls due while maxInFlight are open, and ends each request at its timeout', async () => {
    const held: ServerResponse[] = [];
    const server = await serve((_req, res) => void held.push(res)); // never answers
    const started = performance.now();
    const { outcomes, shed } = await fixedRateLoad({
      url: server.url('/'),
      ratePerSecond: 20,
      seconds: 1,
      maxInFlight: 3,
      timeoutMs: 400,
    });
    const took = performance.now() - started;
    expect(outcomes.length + shed).toBe(20);
    expect(shed).toBeGreaterThan(0);
    expect(outcomes.every((o) => o.error === 'timed out' && o.status === undefined)).toBe(true);
    expect(Math.min(...outcomes.map((o) => o.ms))).toBeGreaterThanOrEqual(395);
    // Within the schedule (950 ms) plus one timeout.
    expect(took).toBeLessThan(950 + 400 + 500);
  });
});

describe('timedRequest', () => {
  it('cuts off an answer that trickles past its timeout, though bytes keep coming', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      const tick = setInterval(() => res.write('x'), 50);
      res.on('close', () => clearInterval(tick));
    });
    const outcome = await timedRequest(server.url('/'), { timeoutMs: 300 });
    expect(outcome.error).toBe('timed out');
    expect(outcome.ms).toBeGreaterThanOrEqual(295);
    expect(outcome.ms).toBeLessThan(1_000);
  });

  it('resolves with the error when nothing listens (it never rejects)', async () => {
    const server = await serve(() => undefined);
    const url = server.url('/');
    await server.close();
    open.pop();
    const outcome = await timedRequest(url);
    expect(outcome.error).toMatch(/ECONNREFUSED/);
    expect(outcome.status).toBeUndefined();
  });

  it('keeps the answer: status, content type, header lines as sent, body', async () => {
    const server = await serve((_req, res) => {
      res.setHeader('x-twice', ['a', 'b']);
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"no":1}');
    });
    const outcome = await timedRequest(server.url('/'));
    expect(outcome).toMatchObject({ status: 404, contentType: 'application/json', body: '{"no":1}' });
    expect(outcome.rawHeaders!.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'x-twice')).toHaveLength(
      2,
    );
  });
});

describe('latencyAtFixedRate', () => {
  it('reads latency off the 200 answers and counts everything else as an error', async () => {
    let n = 0;
    const server = await serve((_req, res) => res.writeHead(n++ % 4 === 3 ? 500 : 200).end());
    const figures = await latencyAtFixedRate({ url: server.url('/'), ratePerSecond: 40, seconds: 0.5 });
    expect(figures).toMatchObject({ ratePerSecond: 40, requests: 20, errors: 5 });
    expect(figures.p50Ms).toBeGreaterThan(0);
    expect(figures.p99Ms).toBeGreaterThanOrEqual(figures.p50Ms);
  });

  it('has no latency (NaN) when no request got a 200', async () => {
    const server = await serve((_req, res) => res.writeHead(503).end());
    const figures = await latencyAtFixedRate({ url: server.url('/'), ratePerSecond: 20, seconds: 0.2 });
    expect(figures.errors).toBe(4);
    expect(figures.p50Ms).toBeNaN();
  });
});
