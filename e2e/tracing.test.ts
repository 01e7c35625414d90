/**
 * One trace through the production stack, for real: tracing on in the sidecar
 * and both API replicas, exporting over OTLP/HTTP JSON to a test-only receiver
 * on a network of its own with them (e2e/compose.tracing.yml, which also logs
 * both services at debug so every hop writes a line per request). For
 * `POST /api/v1/reports` through the gateway: the receiver sees one trace, the
 * sidecar's server span under the gateway's traceparent and the API's under the
 * sidecar's, with the fetch hop's client span (the SSRF verdict on it) and the
 * store's; and every log line any hop writes for the request carries that trace
 * id, the gateway's access line included. A client's usable traceparent is kept
 * by every hop, and one that is not (upper case) is replaced alike by all of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker } from '@stagecraft/testkit/command';
import { compose, containerIds, mustCompose, type ComposeProject } from '@stagecraft/testkit/compose';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { poll } from '@stagecraft/testkit/wait';
import { authorization } from './helpers/api-token.js';
import { composeEnv } from './helpers/compose.js';
import { requireDocker } from './helpers/docker.js';

const project: ComposeProject = {
  project: 'stagecraft-e2e-tracing',
  files: ['docker-compose.prod.yml', 'e2e/compose.fixtures.yml', 'e2e/compose.tracing.yml'],
  cwd: REPO_ROOT,
  env: composeEnv({ gateway: 18087, prometheus: 19097 }),
};
const gateway = 'http://127.0.0.1:18087';
const PAGE = 'http://fixtures:8000/page.html';

interface Span {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/** Every span the receiver has printed so far. */
function receivedSpans(): Span[] {
  return docker('logs', containerIds(project)['otlp-receiver']!)
    .split('\n')
    .filter((line) => line.startsWith('{"service"'))
    .map((line) => JSON.parse(line) as Span);
}

/** Every JSON log line of a service's containers (both API replicas for `api`). */
function logLines(service: string): Record<string, unknown>[] {
  // Compose may start a line with a terminal control sequence even without colours or prefixes.
  return mustCompose(project, 'logs', '--no-color', '--no-log-prefix', service)
    .split('\n')
    .map((line) => line.slice(line.indexOf('{"')))
    .filter((line) => line.startsWith('{"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Posts a report through the gateway; its request id. */
async function postReport(id: string, headers: Record<string, string> = {}): Promise<void> {
  const response = await fetch(`${gateway}/api/v1/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': id, ...authorization, ...headers },
    body: JSON.stringify({ url: PAGE }),
  });
  expect(response.status).toBe(201);
  expect(response.headers.get('x-request-id')).toBe(id);
  await response.text();
}

/** The request's lines in every hop's log, once the gateway, the sidecar and the API have each written theirs. */
async function linesOf(id: string) {
  let last: Record<string, Record<string, unknown>[]> = {};
  try {
    return await poll(
      `log lines of ${id} from the gateway, the sidecar and the API`,
      async () => {
        last = Object.fromEntries(
          ['gateway', 'sidecar', 'api'].map((service) => [
            service,
            logLines(service).filter((line) => line.requestId === id),
          ]),
        );
        return Object.values(last).every((lines) => lines.length > 0) ? last : undefined;
      },
      20_000,
      500,
    );
  } catch (error) {
    const tails = ['gateway', 'sidecar', 'api'].map(
      (service) => `${service}:\n${mustCompose(project, 'logs', '--no-color', '--tail', '5', service)}`,
    );
    throw new Error(`${String(error)}\nfound: ${JSON.stringify(last)}\n${tails.join('\n')}`, {
      cause: error,
    });
  }
}

/** The spans of a trace once the sidecar's and the API's server spans, a fetch hop and the store's span are in. */
async function traceOf(traceId: string) {
  return poll(
    `the spans of trace ${traceId} at the receiver`,
    async () => {
      const spans = receivedSpans().filter((span) => span.traceId === traceId);
      const servers = spans.filter((span) => span.kind === 2);
      const enough =
        servers.some((span) => span.service === 'stagecraft-sidecar') &&
        servers.some((span) => span.service === 'stagecraft-api') &&
        spans.some((span) => span.name === 'GET') &&
        spans.some((span) => span.name === 'store.insert');
      return enough ? spans : undefined;
    },
    20_000,
    500,
  );
}

describe('one trace through gateway, sidecar and API', () => {
  beforeAll(() => {
    requireDocker();
    compose(project, 'down', '-v', '--remove-orphans');
    const started = Date.now();
    mustCompose(project, 'up', '-d', '--build', '--wait', '--wait-timeout', '180');
    console.log(`stack with tracing built and healthy in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  afterAll(() => {
    compose(project, 'down', '-v', '--remove-orphans');
  });

  it('POST /api/v1/reports without a traceparent: the gateway starts the trace, every hop continues it', async () => {
    await postReport('trace-e2e-new');
    const lines = await linesOf('trace-e2e-new');
    const [access] = lines.gateway!;
    const traceId = String(access!.traceId);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const spans = await traceOf(traceId);
    const sidecar = spans.find((span) => span.kind === 2 && span.service === 'stagecraft-sidecar')!;
    const api = spans.find((span) => span.kind === 2 && span.service === 'stagecraft-api')!;
    // The gateway's traceparent names its own (never exported) span: the last 16 digits of its $request_id.
    expect(sidecar).toMatchObject({ name: 'POST /api/v1/reports', parentSpanId: traceId.slice(16) });
    expect(api).toMatchObject({
      name: 'POST /api/v1/reports',
      parentSpanId: sidecar.spanId,
      attributes: expect.objectContaining({
        'http.route': '/api/v1/reports',
        'http.response.status_code': 201,
      }),
    });
    const hop = spans.find((span) => span.name === 'GET')!;
    expect(hop).toMatchObject({
      kind: 3,
      parentSpanId: api.spanId,
      attributes: expect.objectContaining({ 'url.full': PAGE, 'stagecraft.ssrf.verdict': 'allowed' }),
    });
    expect(spans.find((span) => span.name === 'store.insert')).toMatchObject({
      parentSpanId: api.spanId,
      attributes: expect.objectContaining({ 'db.operation.name': 'insert' }),
    });

    // Every line any hop wrote for the request, the gateway's access line included.
    const all = Object.entries(lines).flatMap(([hop, hopLines]) =>
      hopLines.map((line) => [hop, line] as const),
    );
    expect(all.length).toBeGreaterThanOrEqual(4); // gateway access, sidecar proxied, API request + report stored
    expect(all.filter(([, line]) => line.traceId !== traceId)).toEqual([]);
    expect(lines.api!.map((line) => line.msg).sort()).toEqual(['report stored', 'request']);
  });

  it("keeps a client's usable traceparent at every hop, and replaces an unusable one alike at every hop", async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    await postReport('trace-e2e-given', { traceparent: `00-${trace}-00f067aa0ba902b7-01` });
    await postReport('trace-e2e-upper', { traceparent: `00-${trace.toUpperCase()}-00F067AA0BA902B7-01` });
    const given = await linesOf('trace-e2e-given');
    const upper = await linesOf('trace-e2e-upper');
    for (const lines of Object.values(given)) for (const line of lines) expect(line.traceId).toBe(trace);
    const replaced = String(upper.gateway![0]!.traceId);
    expect(replaced).toMatch(/^[0-9a-f]{32}$/);
    expect(replaced).not.toBe(trace);
    for (const lines of Object.values(upper)) for (const line of lines) expect(line.traceId).toBe(replaced);
    const spans = await traceOf(trace);
    expect(spans.find((span) => span.service === 'stagecraft-sidecar')?.parentSpanId).toBe(
      '00f067aa0ba902b7',
    );
  });

  it('exports only to the receiver, as OTLP JSON', () => {
    const output = docker('logs', containerIds(project)['otlp-receiver']!);
    expect(output).not.toContain('"refused"');
  });
});
