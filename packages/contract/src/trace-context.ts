/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/), one rule for every
 * hop, as request-id.ts is for X-Request-Id: the gateway keeps a usable
 * `traceparent` a client sent and starts one otherwise, and the sidecar and the
 * API apply the same rule, so the trace id in every hop's log lines is one id
 * even for a request that skipped the gateway.
 *
 * Usable means version 00 exactly as the specification writes it: 55 characters,
 * lowercase hex, neither id all zeros. Anything else starts a new trace: an upper
 * case digit, a later or invalid version, trailing bytes, a repeated header (Node
 * and nginx both join repeated values with ", ", which no longer matches). Hops
 * that parsed more leniently than the gateway would log another trace id than
 * it does, so there is no leniency anywhere: the gateway's copy of the pattern
 * (nginx/templates/00-gateway-http.conf.template) is held to this one by
 * packages/contract/test/trace-context.test.ts. Leading and trailing spaces are
 * not the value's: Node and nginx both strip them before anyone parses.
 */
import { randomFillSync } from 'node:crypto';
import { Agent as HttpAgent, type Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Duplex } from 'node:stream';
import { ConfigError, type Env } from './config.js';

/** A usable traceparent: version 00, trace id, parent span id, flags. */
export const TRACEPARENT_PATTERN = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace-flags bit that says the caller may have recorded its span (sampled). */
export const TRACE_FLAG_SAMPLED = 0x01;

/** The trace context a request arrived with, or the one its first hop started. */
export interface TraceContext {
  /** 32 lowercase hex digits: the id every log line of the request carries. */
  readonly traceId: string;
  /** 16 lowercase hex digits: the caller's span, the parent of this hop's spans. */
  readonly parentId: string;
  /** trace-flags, as a number (TRACE_FLAG_SAMPLED). */
  readonly flags: number;
  /** The traceparent to send on when this hop adds no span of its own: as received, or as made. */
  readonly header: string;
  /** True when the request brought a usable traceparent; false when this hop started the trace. */
  readonly given: boolean;
}

/** The header value when usable; null for anything else (missing, repeated, malformed). */
export function parseTraceparent(value: unknown): TraceContext | null {
  if (typeof value !== 'string' || value.length !== 55 || !TRACEPARENT_PATTERN.test(value)) return null;
  return {
    traceId: value.slice(3, 35),
    parentId: value.slice(36, 52),
    flags: Number.parseInt(value.slice(53), 16),
    header: value,
    given: true,
  };
}

/** A traceparent for a span: version 00, the ids as given (lowercase hex), the flags as two hex digits. */
export function formatTraceparent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * Random bytes are drawn from the system 4 KB at a time, as randomUUID draws
 * them: one call for 170 new traces instead of two a request (the sidecar's CPU
 * per request, measured: 13 us less on GET /healthz). Each byte is used once.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/** Random lowercase hex of `bytes` bytes, never all zeros (an all-zero id is invalid). */
function randomHex(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > pool.length) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
    poolOffset += bytes;
    if (!/^0+$/.test(hex)) return hex;
  }
}

/**
 * A new trace, as the gateway starts one: a random trace id, a random parent id
 * standing for the hop that started it (no span of that id is ever exported),
 * sampled, so every hop that exports spans records this request.
 */
export function newTraceContext(): TraceContext {
  const traceId = randomHex(16);
  const parentId = randomHex(8);
  return {
    traceId,
    parentId,
    flags: TRACE_FLAG_SAMPLED,
    header: formatTraceparent(traceId, parentId, TRACE_FLAG_SAMPLED),
    given: false,
  };
}

/** The traceparent a request brought, when usable; a new trace otherwise. */
export function traceContext(value: string | string[] | undefined): TraceContext {
  return parseTraceparent(value) ?? newTraceContext();
}

/**
 * OTEL_EXPORTER_OTLP_ENDPOINT, the OpenTelemetry variable both services export
 * spans by: unset or empty, no tracing SDK is loaded at all; set, an absolute
 * http(s) URL without credentials, query or fragment, the base that OTLP/HTTP
 * appends `v1/traces` to (as the OpenTelemetry specification says for this
 * variable). The URL spans are posted to, or null.
 */
/**
 * The endpoint as a refusal may print it: without the user information, query or
 * fragment, where a credential would be (exitForConfig writes the message to
 * stderr, which is the container's log).
 */
function withoutSecrets(raw: string): string {
  return raw.replace(/[?#].*$/s, '').replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/]*@/i, '$1REDACTED@');
}

export function otlpTracesUrl(env: Env): URL | null {
  const raw = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (raw === undefined || raw === '') return null;
  let base: URL;
  try {
    base = new URL(raw);
  } catch {
    throw new ConfigError(
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      `not an absolute URL: ${JSON.stringify(withoutSecrets(raw))}`,
    );
  }
  if (
    (base.protocol !== 'http:' && base.protocol !== 'https:') ||
    base.username !== '' ||
    base.password !== '' ||
    base.search !== '' ||
    base.hash !== '' ||
    raw.includes('?') ||
    raw.includes('#')
  ) {
    throw new ConfigError(
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      `must be an http(s)://host:port URL, with an optional path, no credentials, query or fragment; got ${JSON.stringify(withoutSecrets(raw))}`,
    );
  }
  return new URL(base.pathname.endsWith('/') ? 'v1/traces' : `${base.pathname}/v1/traces`, base);
}

/**
 * How long one export of spans to the collector may take in all: connecting,
 * sending, and reading the answer. The OTLP exporter's own timeout is a socket
 * idle timeout, which a collector that answers a byte at a time never lets fire:
 * its export would then never end, keep its batch in memory, and keep the
 * process alive after shutdown (services' tracing/otel.ts).
 */
export const OTLP_EXPORT_DEADLINE_MS = 10_000;

/** The connections spans leave by, and how to end them all. */
export interface OtlpExportAgent {
  /** One connection per export (no keep-alive), each ended at the deadline. */
  readonly agent: Agent;
  /** Cuts the exports in flight and refuses new ones at once: for shutdown, once its flush is over. */
  close(): void;
}

/**
 * The agent the services' OTLP exporters post through (their `httpAgentOptions`).
 * A connection still open at the deadline, or when close() is called, is
 * destroyed with an error that has no `code`: the exporter retries network
 * errors by code (ECONNRESET and the like), so this one ends the export at once
 * instead of being retried.
 */
export function otlpExportAgent(url: URL, deadlineMs = OTLP_EXPORT_DEADLINE_MS): OtlpExportAgent {
  const agent =
    url.protocol === 'https:' ? new HttpsAgent({ keepAlive: false }) : new HttpAgent({ keepAlive: false });
  const open = new Set<Duplex>();
  let closed = false;
  type Create = (
    options: object,
    callback: (error: Error | null, socket?: Duplex) => void,
  ) => Duplex | undefined;
  const create = (agent as unknown as { createConnection: Create }).createConnection.bind(agent);
  (agent as unknown as { createConnection: Create }).createConnection = (options, callback) => {
    if (closed) {
      process.nextTick(callback, new Error('tracing has shut down: span export refused'));
      return undefined;
    }
    const socket = create(options, callback);
    if (socket === undefined) return socket;
    open.add(socket);
    const timer = setTimeout(
      () => socket.destroy(new Error(`the span export took longer than ${deadlineMs} ms`)),
      deadlineMs,
    );
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      open.delete(socket);
    });
    return socket;
  };
  return {
    agent,
    close() {
      closed = true;
      for (const socket of open) socket.destroy(new Error('tracing has shut down: span export cut'));
    },
  };
}
