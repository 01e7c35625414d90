/**
 * Tracing, only when asked for: with OTEL_EXPORTER_OTLP_ENDPOINT unset (the
 * default) this module returns null and the OpenTelemetry SDK is never loaded,
 * not even parsed (otel.ts is imported dynamically, and nothing else in src/
 * imports an @opentelemetry package; test/tracing/tracing-off.test.ts checks the
 * module graph). Set, the API exports spans over OTLP/HTTP JSON: a server span
 * per request named by route, a client span per fetch hop with the SSRF guard's
 * verdict, and a span per store call (traced-store.ts).
 *
 * What the rest of the API sees is this interface, whose types are the API's
 * own (ServeTraced, fetch/'s ObserveHop): no OpenTelemetry type leaks.
 */
import type { TraceContext } from '@stagecraft/contract';
import type { NextFunction, Request, Response } from 'express';
import type { ObserveHop } from '../fetch/fetch-page.js';

/**
 * Runs the rest of a request (`next`) inside its server span, a child of the
 * caller's `trace`, ending it when the answer has gone; `route` names the route
 * Express matched, once it has (undefined: none did).
 */
export type ServeTraced = (
  req: Request,
  res: Response,
  trace: TraceContext,
  route: () => string | undefined,
  next: NextFunction,
) => void;

export interface ApiTracing {
  /** Each request inside a server span whose parent is the caller's traceparent. */
  serveTraced: ServeTraced;
  /** A client span per fetch hop, a child of the request's server span. */
  observeHop: ObserveHop;
  /** The store, each call of it a span inside the request that made it (none outside one). */
  traceStore: <T extends object>(store: T, system: string) => T;
  /**
   * Exports what is still buffered, then stops: waits at most `withinMs` (what
   * is left of the shutdown deadline) or its own flush bound, whichever is less.
   */
  shutdown: (withinMs: number) => Promise<void>;
}

export interface TracingOptions {
  /** Where spans are posted: OTEL_EXPORTER_OTLP_ENDPOINT + v1/traces (config.ts). */
  url: URL;
  /** service.name of every span. */
  serviceName?: string;
  /** How long spans wait to be sent in one batch (ms); tests shorten it. */
  scheduledDelayMs?: number;
}

/** The API's tracing when a URL is configured; null (and nothing loaded) when not. */
export async function startTracing(url: URL | null, options: Omit<TracingOptions, 'url'> = {}) {
  if (url === null) return null;
  const { openTelemetryTracing } = await import('./otel.js');
  return openTelemetryTracing({ ...options, url });
}
