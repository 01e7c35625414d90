/**
 * The trace context rule: a usable traceparent goes on, anything else starts a
 * new trace. (That the gateway's copy of the pattern agrees with this one is a
 * repository check: test/trace-context-agree.test.ts.)
 */
import { request, type Agent } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { poll } from '@stagecraft/testkit/wait';
import { ConfigError } from '../src/config.js';
import {
  TRACEPARENT_PATTERN,
  formatTraceparent,
  newTraceContext,
  otlpExportAgent,
  otlpTracesUrl,
  parseTraceparent,
  traceContext,
} from '../src/trace-context.js';
import { GOOD, SPAN, TRACE, UNUSABLE, USABLE } from './trace-context-cases.js';

describe('parseTraceparent', () => {
  it.each(USABLE)('keeps %s as it is', (value) => {
    const context = parseTraceparent(value)!;
    expect(context).toMatchObject({ header: value, given: true });
    expect(formatTraceparent(context.traceId, context.parentId, context.flags)).toBe(value);
  });

  it('reads the ids and flags', () => {
    expect(parseTraceparent(GOOD)).toEqual({
      traceId: TRACE,
      parentId: SPAN,
      flags: 1,
      header: GOOD,
      given: true,
    });
  });

  it.each(UNUSABLE)('refuses %j', (value) => {
    expect(parseTraceparent(value)).toBeNull();
  });

  it('refuses what is not one string (a header Node kept as an array, none at all)', () => {
    expect(parseTraceparent([GOOD, GOOD])).toBeNull();
    expect(parseTraceparent(undefined)).toBeNull();
  });
});

describe('traceContext', () => {
  it('keeps a usable one', () => {
    expect(traceContext(GOOD)).toMatchObject({ traceId: TRACE, parentId: SPAN, given: true });
  });

  it.each([undefined, GOOD.toUpperCase(), `${GOOD}, ${GOOD}`])(
    'starts a new sampled trace for %j',
    (value) => {
      const context = traceContext(value);
      expect(context.given).toBe(false);
      expect(context.header).toMatch(TRACEPARENT_PATTERN);
      expect(context.header).toBe(`00-${context.traceId}-${context.parentId}-01`);
      expect(parseTraceparent(context.header)).toMatchObject({ traceId: context.traceId, flags: 1 });
      expect(newTraceContext().traceId).not.toBe(context.traceId);
    },
  );

  it('never hands out the same random bytes twice, across many refills of its pool', () => {
    // 600 traces draw 14,400 bytes: the 4 KB pool refills three times, at unaligned offsets.
    const ids = Array.from({ length: 600 }, () => newTraceContext()).flatMap((c) => [c.traceId, c.parentId]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^(?!0+$)[0-9a-f]+$/);
    // Bytes are not reused either in part: no 8-byte run appears in two ids.
    const runs = ids.flatMap((id) => id.match(/.{16}/g) ?? []);
    expect(new Set(runs).size).toBe(runs.length);
  });
});

describe('otlpTracesUrl (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('is null when unset or empty: no tracing', () => {
    expect(otlpTracesUrl({})).toBeNull();
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBeNull();
  });

  it.each([
    ['http://collector:4318', 'http://collector:4318/v1/traces'],
    ['http://collector:4318/', 'http://collector:4318/v1/traces'],
    ['https://otel.example:443/base', 'https://otel.example/base/v1/traces'],
    ['http://[::1]:4318/base/', 'http://[::1]:4318/base/v1/traces'],
  ])('appends v1/traces to %s', (endpoint, url) => {
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })?.href).toBe(url);
  });

  it.each([
    'collector:4318',
    'ftp://collector/',
    'http://user:pw@collector:4318',
    'http://c:4318/?a=1',
    'http://c:4318/#x',
    'not a url',
  ])('refuses %j, naming the variable', (endpoint) => {
    expect(() => otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })).toThrow(ConfigError);
    expect(() => otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })).toThrow(
      /^OTEL_EXPORTER_OTLP_ENDPOINT: /,
    );
  });

  // The refusal goes to stderr (exitForConfig), so to the container's log: a
  // credential the URL was refused for must not be printed by the refusal.
  it.each([
    'http://user:s3cret@collector:4318',
    'http://:s3cret@collector:4318/base',
    'https://collector:4318/?api-key=s3cret',
    'https://collector:4318/v1#s3cret',
    'http://user:s3cret@collector:4318:bad',
    'http://user:s3cret@',
    'collector/?token=s3cret',
  ])('refuses %j without repeating the secret', (endpoint) => {
    let message = '';
    try {
      otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^OTEL_EXPORTER_OTLP_ENDPOINT: /);
    expect(message).not.toContain('s3cret');
  });
});

describe('otlpExportAgent: every export to the collector bounded', () => {
  /** A loopback server that answers a header line every 50 ms and never ends: no idle timeout fires. */
  async function trickling() {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.resume();
      socket.write('HTTP/1.1 200 OK\r\n');
      const timer = setInterval(() => socket.write('x-stall: 1\r\n'), 50);
      socket.once('close', () => {
        clearInterval(timer);
        sockets.delete(socket);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/v1/traces`);
    return {
      url,
      open: () => sockets.size,
      close: () => {
        for (const socket of sockets) socket.destroy();
        return new Promise((resolve) => server.close(resolve));
      },
    };
  }

  /** A POST through `agent` (as the exporter makes one, idle timeout included): how it ended, and when. */
  function post(url: URL, agent: Agent, idleTimeoutMs = 10_000) {
    const started = Date.now();
    return new Promise<{ error: NodeJS.ErrnoException | null; ms: number }>((resolve) => {
      const req = request(url, { method: 'POST', agent }, (res) => {
        res.resume();
        res.once('end', () => resolve({ error: null, ms: Date.now() - started }));
        res.once('error', (error) => resolve({ error, ms: Date.now() - started }));
      });
      req.setTimeout(idleTimeoutMs, () => req.destroy());
      req.once('error', (error) => resolve({ error, ms: Date.now() - started }));
      req.end('{}');
    });
  }

  it('ends an export that outlives the deadline, with an error no exporter retries (no code)', async () => {
    const collector = await trickling();
    const { agent, close } = otlpExportAgent(collector.url, 300);
    try {
      const { error, ms } = await post(collector.url, agent);
      expect(error?.message).toMatch(/longer than 300 ms/);
      expect(error?.code).toBeUndefined();
      expect(ms).toBeLessThan(2_000);
    } finally {
      close();
      await collector.close();
    }
  });

  it('on close, cuts the exports in flight and refuses new ones at once, without codes', async () => {
    const collector = await trickling();
    const { agent, close } = otlpExportAgent(collector.url, 60_000);
    try {
      const inFlight = post(collector.url, agent);
      await poll('the export to connect', async () => collector.open() > 0 || undefined, 5_000, 20);
      close();
      const cut = await inFlight;
      expect(cut.error?.code).toBeUndefined();
      expect(cut.error?.message).toMatch(/shut down/);
      const refused = await post(collector.url, agent);
      expect(refused.error?.code).toBeUndefined();
      expect(refused.ms).toBeLessThan(1_000);
      await poll(
        'the collector to see the connection closed',
        async () => collector.open() === 0 || undefined,
        5_000,
        20,
      );
    } finally {
      close();
      await collector.close();
    }
  });
});
