/**
 * The trace context rule: a usable traceparent goes on, anything else starts a
 * new trace; and the gateway's copy of the pattern (nginx's map) agrees with the
 * services' on every case, so no hop logs another trace id than the one before.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.js';
import {
  TRACEPARENT_PATTERN,
  formatTraceparent,
  newTraceContext,
  otlpTracesUrl,
  parseTraceparent,
  traceContext,
} from '../src/trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const GOOD = `00-${TRACE}-${SPAN}-01`;

/** Cases a second parser could read differently: case, versions, ids, lengths, separators, repeats. */
const USABLE = [
  GOOD,
  `00-${TRACE}-${SPAN}-00`,
  `00-${TRACE}-${SPAN}-ff`,
  `00-${'f'.repeat(32)}-${'1'.repeat(16)}-09`,
];
const UNUSABLE = [
  '',
  GOOD.toUpperCase(),
  `00-${TRACE.toUpperCase()}-${SPAN}-01`,
  `00-${TRACE}-${SPAN.toUpperCase()}-01`,
  `00-${TRACE}-${SPAN}-0A`,
  `01-${TRACE}-${SPAN}-01`,
  `ff-${TRACE}-${SPAN}-01`,
  `0-${TRACE}-${SPAN}-01`,
  `00-${'0'.repeat(32)}-${SPAN}-01`,
  `00-${TRACE}-${'0'.repeat(16)}-01`,
  `${GOOD}-extra`,
  `${GOOD}x`,
  `${GOOD} `,
  ` ${GOOD}`,
  `${GOOD}\n`,
  `00-${TRACE}-${SPAN}-1`,
  `00-${TRACE.slice(1)}-${SPAN}-01`,
  `00-${TRACE}0-${SPAN}-01`,
  `00_${TRACE}_${SPAN}_01`,
  `00-${TRACE}-${SPAN}-01, ${GOOD}`,
  `00-${TRACE.slice(0, 31)}g-${SPAN}-01`,
  `00-${TRACE}-${SPAN.slice(0, 15)}-01`,
];

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
});

describe("the gateway's copy of the pattern", () => {
  const template = readFileSync(
    fileURLToPath(new URL('../../../nginx/templates/00-gateway-http.conf.template', import.meta.url)),
    'utf8',
  );
  const block = /map \$http_traceparent \$stagecraft_trace_given \{\n\s*"~([^"]+)"\s+1;/.exec(template);
  // nginx's PCRE and JavaScript read this subset alike (anchors, classes, counts, lookahead).
  const nginxPattern = new RegExp(block?.[1] ?? 'missing');

  it('is in the template', () => {
    expect(block).not.toBeNull();
  });

  it.each([...USABLE.map((v) => [v, true] as const), ...UNUSABLE.map((v) => [v, false] as const)])(
    'agrees on %j',
    (value, usable) => {
      expect(nginxPattern.test(value)).toBe(usable);
      expect(parseTraceparent(value) !== null).toBe(usable);
    },
  );

  it('is the same pattern', () => {
    expect(nginxPattern.source).toBe(TRACEPARENT_PATTERN.source);
  });

  it("starts a trace from $request_id's 32 random hex digits as a usable traceparent", () => {
    const made = /map \$request_id \$stagecraft_new_traceparent \{\n\s*"~([^"]+)"\s+"([^"]+)";/.exec(
      template,
    );
    expect(made).not.toBeNull();
    const requestId = 'a3ce929d0e0e47364bf92f3577b34da6';
    const groups = new RegExp(made![1]!).exec(requestId)!.groups!;
    const value = made![2]!.replace(/\$(\w+)/g, (_all, name: string) => groups[name]!);
    expect(value).toMatch(TRACEPARENT_PATTERN);
    expect(parseTraceparent(value)?.traceId).toBe(requestId);
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
});
