/**
 * Tracing, only when asked for: with OTEL_EXPORTER_OTLP_ENDPOINT unset (the
 * default) this module returns null and the OpenTelemetry SDK is never loaded
 * (otel.ts is imported dynamically, and nothing else in src/ imports an
 * @opentelemetry package; test/tracing/tracing-process.test.ts checks the module
 * graph). Set, the sidecar exports one server span per proxied request, named by
 * route as its metrics label it, whose id goes upstream as the API's parent.
 *
 * What the proxy sees is this interface: no OpenTelemetry type leaks into it.
 */
import type { TraceContext } from '@stagecraft/contract';

/** One proxied request's server span. */
export interface ProxySpan {
  /** The traceparent to send the API: this span as its parent, the caller's trace. */
  readonly traceparent: string;
  /** The answer has gone (or was cut): the span ends with what happened. */
  end(outcome: { status: number; aborted: boolean; retries: number }): void;
}

export interface SidecarTracing {
  /** A server span for a request, a child of the caller's `trace`. */
  startSpan(request: {
    method: string;
    /** The route label (the API's OpenAPI template), or "unmatched". */
    route: string;
    path: string;
    requestId: string;
    trace: TraceContext;
  }): ProxySpan;
  /** Exports what is still buffered (within a bound), then stops. */
  /**
   * Exports what is still buffered, then stops: waits at most `withinMs` (what
   * is left of the shutdown deadline) or its own flush bound, whichever is less.
   */
  shutdown(withinMs: number): Promise<void>;
}

export interface TracingOptions {
  /** Where spans are posted: OTEL_EXPORTER_OTLP_ENDPOINT + v1/traces (config.ts). */
  url: URL;
  /** service.name of every span. */
  serviceName?: string;
  /** How long spans wait to be sent in one batch (ms). */
  scheduledDelayMs?: number;
}

/** The sidecar's tracing when a URL is configured; null (and nothing loaded) when not. */
export async function startTracing(
  url: URL | null,
  options: Omit<TracingOptions, 'url'> = {},
): Promise<SidecarTracing | null> {
  if (url === null) return null;
  const { openTelemetryTracing } = await import('./otel.js');
  return openTelemetryTracing({ ...options, url });
}
