/**
 * Trace context through the sidecar as a real process (src/main.ts under tsx),
 * in front of a loopback upstream that records what it receives, with tracing
 * off and on (a loopback OTLP/HTTP receiver):
 *
 * - off: no OpenTelemetry SDK module is resolved; a usable traceparent goes
 *   upstream unchanged, anything else is replaced by a new trace (without the
 *   tracestate that came with it); the log lines carry the trace id the API gets;
 * - on: a server span named by route, the caller's span its parent, whose own id
 *   is the parent in the traceparent the API receives;
 * - a bad OTEL_EXPORTER_OTLP_ENDPOINT: exit 78 naming the variable.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTraceparent } from '@stagecraft/contract';
import { RECORD_MODULES, openTelemetryPackages, readModuleGraph } from '@stagecraft/testkit/module-graph';
import { startNodeProcess, type NodeProcess } from '@stagecraft/testkit/node-process';
import { startOtlpSink, type OtlpSink } from '@stagecraft/testkit/otlp-sink';
import { poll } from '@stagecraft/testkit/wait';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const GIVEN = `00-${TRACE}-${PARENT}-01`;
const dir = mkdtempSync(join(tmpdir(), 'stagecraft-sidecar-tracing-'));
const LISTENING =
  /^(?=[\s\S]*"port":(\d+)[^\n]*"msg":"proxy listening")(?=[\s\S]*"port":(\d+)[^\n]*"msg":"metrics listening")/;

let upstream: Upstream;
/** What the upstream received, by X-Request-Id. */
const received = new Map<string, IncomingHttpHeaders>();

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    received.set(String(req.headers['x-request-id']), req.headers);
    res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
  });
});
afterAll(async () => {
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Sidecar {
  process: NodeProcess;
  port: number;
  lines: Record<string, unknown>[];
  graph: () => string[];
}

async function startSidecar(name: string, env: Record<string, string>): Promise<Sidecar> {
  const modules = join(dir, `${name}.modules`);
  const started = await startNodeProcess(['--import', RECORD_MODULES, '--import', 'tsx', main], {
    env: {
      UPSTREAM_URL: upstream.url,
      PORT: '0',
      METRICS_PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      MODULE_LOG: modules,
      ...env,
    },
    ready: LISTENING,
  });
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  started.child.stdout!.on('data', (data: Buffer) => {
    const parts = (partial + data.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts)
      if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { process: started, port: Number(started.ready[1]), lines, graph: () => readModuleGraph(modules) };
}

/** A GET through the sidecar (node:http: fetch would drop a Connection header); what the upstream received, and the sidecar's line. */
async function through(sidecar: Sidecar, id: string, headers: Record<string, string>) {
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      `http://127.0.0.1:${sidecar.port}/api/v1/reports`,
      { headers: { 'x-request-id': id, ...headers }, agent: false },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.once('error', reject);
    req.end();
  });
  expect(status).toBe(200);
  const line = await poll(`the sidecar's line for ${id}`, async () =>
    sidecar.lines.find((l) => l.requestId === id && l.msg === 'proxied'),
  );
  return { upstream: received.get(id)!, line };
}

describe('tracing off (OTEL_EXPORTER_OTLP_ENDPOINT unset)', () => {
  let sidecar: Sidecar;
  beforeAll(async () => {
    sidecar = await startSidecar('off', {});
  });
  afterAll(() => sidecar?.process.stop());

  it('passes a usable traceparent and its tracestate on unchanged, and logs its trace id', async () => {
    const { upstream: got, line } = await through(sidecar, 'off-given', {
      traceparent: GIVEN,
      tracestate: 'vendor=1',
    });
    expect(got.traceparent).toBe(GIVEN);
    expect(got.tracestate).toBe('vendor=1');
    expect(line.traceId).toBe(TRACE);
  });

  it.each([
    ['upper case', GIVEN.toUpperCase()],
    ['another version', `01-${TRACE}-${PARENT}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
    ['trailing bytes', `${GIVEN}-x`],
  ])('starts a new trace for %s, drops its tracestate, and logs the new id', async (_name, traceparent) => {
    const id = `off-${_name.replaceAll(' ', '-')}`;
    const { upstream: got, line } = await through(sidecar, id, { traceparent, tracestate: 'vendor=1' });
    const sent = parseTraceparent(got.traceparent);
    expect(sent).not.toBeNull();
    expect(sent!.traceId).not.toBe(TRACE);
    expect(got.tracestate).toBeUndefined();
    expect(line.traceId).toBe(sent!.traceId);
  });

  it('starts one for a request without any, and keeps a traceparent that Connection names', async () => {
    const none = await through(sidecar, 'off-none', {});
    expect(none.line.traceId).toBe(parseTraceparent(none.upstream.traceparent)?.traceId);
    const named = await through(sidecar, 'off-connection', { traceparent: GIVEN, connection: 'traceparent' });
    expect(named.upstream.traceparent).toBe(GIVEN);
  });

  it('loads no OpenTelemetry SDK module', () => {
    const graph = sidecar.graph();
    expect(graph.some((url) => url.includes('/node_modules/http-proxy-middleware/'))).toBe(true);
    // @opentelemetry/api, if anything: prom-client loads it for itself either way.
    expect(openTelemetryPackages(graph).filter((name) => name !== '@opentelemetry/api')).toEqual([]);
    expect(graph.filter((url) => url.includes('/src/tracing/otel'))).toEqual([]);
    expect(graph.filter((url) => url.includes('/packages/telemetry/'))).toEqual([]);
  });
});

describe('tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let sidecar: Sidecar;
  let sink: OtlpSink;
  beforeAll(async () => {
    sink = await startOtlpSink();
    sidecar = await startSidecar('on', { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint });
  });
  afterAll(async () => {
    await sidecar?.process.stop();
    await sink?.close();
  });

  it("exports a server span by route under the caller's span, and sends its own id upstream as the parent", async () => {
    const { upstream: got, line } = await through(sidecar, 'on-given', { traceparent: GIVEN });
    const span = await poll(
      'the span at the OTLP sink',
      async () => sink.spans().find((s) => s.attributes['stagecraft.request_id'] === 'on-given'),
      15_000,
    );
    expect(span).toMatchObject({
      service: 'stagecraft-sidecar',
      name: 'GET /api/v1/reports',
      kind: 2,
      traceId: TRACE,
      parentSpanId: PARENT,
      attributes: { 'http.route': '/api/v1/reports', 'http.response.status_code': 200 },
    });
    expect(got.traceparent).toBe(`00-${TRACE}-${span.spanId}-01`);
    expect(line.traceId).toBe(TRACE);
    expect(openTelemetryPackages(sidecar.graph())).toEqual(
      expect.arrayContaining(['@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/sdk-trace']),
    );
    // Through the shared span export, @stagecraft/telemetry.
    expect(sidecar.graph()).toEqual(
      expect.arrayContaining([expect.stringMatching(/\/packages\/telemetry\/src\/span-export\.ts$/)]),
    );
  });

  // semconv: url.path has no query; and a query is the client's (GET /api/v1/count?url=...).
  it('puts the path in url.path without the query string', async () => {
    const response = await fetch(
      `http://127.0.0.1:${sidecar.port}/api/v1/count?url=${encodeURIComponent('http://u:s3cret@example.test/')}`,
      { headers: { 'x-request-id': 'on-query' } },
    );
    await response.text();
    const span = await poll('the span at the OTLP sink', async () =>
      sink.spans().find((s) => s.attributes['stagecraft.request_id'] === 'on-query'),
    );
    expect(span.attributes['url.path']).toBe('/api/v1/count');
    expect(JSON.stringify(span)).not.toContain('s3cret');
  });

  it('names an unmatched path by its method alone', async () => {
    const response = await fetch(`http://127.0.0.1:${sidecar.port}/nowhere/42`, {
      headers: { 'x-request-id': 'on-unmatched' },
    });
    await response.text();
    const span = await poll('the span at the OTLP sink', async () =>
      sink.spans().find((s) => s.attributes['stagecraft.request_id'] === 'on-unmatched'),
    );
    expect(span.name).toBe('GET');
  });
});

describe('OTEL_EXPORTER_OTLP_ENDPOINT checked at start', () => {
  it.each(['collector:4318', 'http://collector:4318/?token=x'])(
    '%j: exit 78 naming the variable',
    (endpoint) => {
      const result = spawnSync(process.execPath, ['--import', 'tsx', main], {
        env: { ...process.env, UPSTREAM_URL: upstream.url, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(result.status).toBe(78);
      expect(result.stderr).toMatch(/^sidecar: invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT: /);
    },
  );
});
