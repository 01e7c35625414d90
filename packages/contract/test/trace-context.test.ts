/**
 * The trace context rule: a usable traceparent goes on, anything else starts a
 * new trace. (That the gateway's copy of the pattern agrees with this one is a
 * repository check: test/trace-context-agree.test.ts.)
 */
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
