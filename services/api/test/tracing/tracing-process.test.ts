/**
 * Tracing in the API as a real process (src/main.ts under tsx), against a
 * loopback OTLP/HTTP receiver and a loopback page server that records headers:
 *
 * - unset OTEL_EXPORTER_OTLP_ENDPOINT: no OpenTelemetry SDK module is resolved
 *   at all (a resolve hook, @stagecraft/testkit/module-graph, lists the module graph; only
 *   @opentelemetry/api appears, which prom-client loads for itself either way);
 * - set: one trace per request, continuing the caller's traceparent: a server
 *   span named by route, a client span per fetch hop with the SSRF verdict, a
 *   span per store call; every log line of the request carries the trace id;
 *   and the page server sees no trace header (nor any other internal one);
 * - a bad value: exit 78 naming the variable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RECORD_MODULES,
  openTelemetryPackages as otelPackages,
  readModuleGraph,
} from '@stagecraft/testkit/module-graph';
import { startOtlpSink, type OtlpSink, type ReceivedSpan } from '@stagecraft/testkit/otlp-sink';
import { poll } from '@stagecraft/testkit/wait';
import { runApiToExit, startApiProcess, type ApiProcess } from '../helpers/api-process.js';
import { html, redirect, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const dir = mkdtempSync(join(tmpdir(), 'stagecraft-tracing-'));

/** The API with its module graph recorded and its log lines kept. */
async function startRecorded(name: string, env: Record<string, string>) {
  const modules = join(dir, `${name}.modules`);
  const api = await startApiProcess(
    { DATA_DIR: join(dir, name), API_AUTH: 'open', MODULE_LOG: modules, ...env },
    { nodeArgs: ['--import', RECORD_MODULES] },
  );
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  api.child.stdout!.on('data', (data: Buffer) => {
    const text = partial + data.toString();
    const complete = text.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete)
      if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const graph = () => readModuleGraph(modules);
  return { api, lines, graph };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tracing off (OTEL_EXPORTER_OTLP_ENDPOINT unset)', () => {
  it('loads no OpenTelemetry SDK module and none of src/tracing/ but its loader', async () => {
    const { api, graph } = await startRecorded('off', {});
    try {
      const health = await fetch(`http://127.0.0.1:${api.port}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      await api.stop();
    }
    const modules = graph();
    expect(modules.some((url) => url.includes('/node_modules/express/'))).toBe(true); // the hook saw the graph
    expect(otelPackages(modules)).toEqual(['@opentelemetry/api']); // prom-client's, loaded either way
    expect(modules.filter((url) => url.includes('/src/tracing/'))).toEqual([
      expect.stringMatching(/\/src\/tracing\/start-tracing\.ts$/),
    ]);
    expect(modules.filter((url) => url.includes('/packages/telemetry/'))).toEqual([]);
  });
});

describe('tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let sink: OtlpSink;
  let pages: FixtureServer;
  let started: Awaited<ReturnType<typeof startRecorded>>;
  let api: ApiProcess;

  beforeAll(async () => {
    sink = await startOtlpSink();
    pages = await startFixtureServer({
      '/start': (req, res) => redirect(pages.url('/page'))(req, res),
      '/page': html('<a href="/a">a</a><a href="https://elsewhere.example/">b</a>'),
      '/metadata': redirect('http://169.254.169.254/latest/meta-data/'),
    });
    started = await startRecorded('on', {
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
      FETCH_ALLOW_HOSTS: '127.0.0.1',
      LOG_LEVEL: 'debug',
    });
    api = started.api;
  });

  afterAll(async () => {
    await api?.stop();
    await pages?.close();
    await sink?.close();
  });

  const post = (url: string, headers: Record<string, string>) =>
    fetch(`http://127.0.0.1:${api.port}/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ url }),
    });

  /** The spans of one trace once `count` have arrived. */
  const spansOf = (traceId: string, count: number) =>
    poll(
      `${count} spans of trace ${traceId} at the OTLP sink`,
      async () => {
        const spans = sink.spans().filter((span) => span.traceId === traceId);
        return spans.length >= count ? spans : undefined;
      },
      15_000,
    );

  it('loads the SDK', () => {
    expect(otelPackages(started.graph())).toEqual(
      expect.arrayContaining(['@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/sdk-trace']),
    );
    // Through the shared span export, @stagecraft/telemetry.
    expect(started.graph()).toEqual(
      expect.arrayContaining([expect.stringMatching(/\/packages\/telemetry\/src\/span-export\.ts$/)]),
    );
  });

  it("continues the caller's trace: server span by route, a client span per hop with the SSRF verdict, the store's span", async () => {
    const response = await post(pages.url('/start'), {
      traceparent: `00-${TRACE}-${PARENT}-01`,
      tracestate: 'vendor=secret',
      'x-request-id': 'traced-report-1',
    });
    expect(response.status).toBe(201);
    const spans = await spansOf(TRACE, 4);
    const server = spans.find((span) => span.kind === 2)!;
    expect(server).toMatchObject({
      service: 'stagecraft-api',
      name: 'POST /api/v1/reports',
      parentSpanId: PARENT,
      attributes: {
        'http.request.method': 'POST',
        'http.route': '/api/v1/reports',
        'http.response.status_code': 201,
        'stagecraft.request_id': 'traced-report-1',
      },
    });
    const hops = spans
      .filter((span) => span.name === 'GET')
      .sort(
        (a, b) =>
          Number(a.attributes['stagecraft.fetch.redirects']) -
          Number(b.attributes['stagecraft.fetch.redirects']),
      );
    expect(hops.map((hop) => [hop.kind, hop.parentSpanId, hop.attributes])).toEqual([
      [
        3,
        server.spanId,
        expect.objectContaining({
          'url.full': pages.url('/start'),
          'stagecraft.ssrf.verdict': 'allowed',
          'network.peer.address': '127.0.0.1',
          'http.response.status_code': 302,
        }),
      ],
      [
        3,
        server.spanId,
        expect.objectContaining({
          'url.full': pages.url('/page'),
          'stagecraft.ssrf.verdict': 'allowed',
          'http.response.status_code': 200,
        }),
      ],
    ]);
    const store = spans.find((span) => span.name === 'store.insert');
    expect(store).toMatchObject({
      parentSpanId: server.spanId,
      attributes: { 'db.system.name': 'sqlite', 'db.operation.name': 'insert' },
    });
  });

  it('marks a hop the SSRF guard refused, and the server span as a 403', async () => {
    const trace = 'a'.repeat(31) + 'b';
    const response = await post(pages.url('/metadata'), { traceparent: `00-${trace}-${PARENT}-01` });
    expect(response.status).toBe(403);
    const spans = await spansOf(trace, 3);
    const refused = spans.find((span) => span.attributes['stagecraft.ssrf.verdict'] === 'refused');
    expect(refused).toMatchObject({
      name: 'GET',
      status: 2,
      attributes: {
        'url.full': 'http://169.254.169.254/latest/meta-data/',
        'error.type': 'forbidden-destination',
        'stagecraft.fetch.redirects': 1,
      },
    });
    expect(String(refused!.attributes['stagecraft.ssrf.reason'])).not.toBe('');
    expect(spans.find((span) => span.kind === 2)?.attributes['http.response.status_code']).toBe(403);
  });

  it('starts a trace of its own for a request without a usable traceparent, and logs its id', async () => {
    const response = await post(pages.url('/page'), {
      traceparent: `00-${TRACE.toUpperCase()}-${PARENT}-01`,
      'x-request-id': 'untraced-report',
    });
    expect(response.status).toBe(201);
    const line = await poll('the access line', async () =>
      started.lines.find((l) => l.requestId === 'untraced-report' && l.msg === 'request'),
    );
    const traceId = String(line.traceId);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(traceId).not.toBe(TRACE);
    const spans: ReceivedSpan[] = await spansOf(traceId, 3);
    expect(spans.find((span) => span.kind === 2)?.name).toBe('POST /api/v1/reports');
  });

  it('writes the trace id in every log line of the request', async () => {
    const lines = await poll('the lines of traced-report-1', async () => {
      const found = started.lines.filter((line) => line.requestId === 'traced-report-1');
      return found.some((line) => line.msg === 'request') ? found : undefined;
    });
    expect(lines.map((line) => line.msg).sort()).toEqual(['report stored', 'request']);
    expect(lines.map((line) => line.traceId)).toEqual([TRACE, TRACE]);
  });

  it('sends the page server no trace header, nor any other internal one', () => {
    const seen = pages.requests.map((req: IncomingMessage) => Object.keys(req.headers).sort());
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (const names of seen)
      expect(names).toEqual(['accept', 'accept-encoding', 'connection', 'host', 'user-agent']);
  });

  it('exports only OTLP JSON to /v1/traces', () => {
    expect(sink.refused()).toBe(0);
    expect(sink.count()).toBeGreaterThan(0);
  });
});

describe('OTEL_EXPORTER_OTLP_ENDPOINT checked at start', () => {
  it.each(['collector:4318', 'ftp://collector/', 'http://user:secret@collector:4318'])(
    '%j: exit 78 naming the variable',
    (endpoint) => {
      const { status, stderr } = runApiToExit({
        DATA_DIR: join(dir, 'bad'),
        API_AUTH: 'open',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      });
      expect(status).toBe(78);
      expect(stderr).toMatch(/^api: invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT: /);
    },
  );
});
