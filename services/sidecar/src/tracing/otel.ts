/**
 * The OpenTelemetry SDK, set up for the sidecar; loaded only by
 * start-tracing.ts, and only when OTEL_EXPORTER_OTLP_ENDPOINT is set. No
 * auto-instrumentation and no context manager: the proxy hands each request's
 * facts over explicitly (proxy-app.ts), which costs less on the hot path.
 *
 * One server span per proxied request, named `METHOD /route` by the route label
 * its metrics carry (the API's OpenAPI template; the method alone for an
 * unmatched path), its parent the caller's traceparent; its own id goes upstream
 * in the traceparent the API continues. Re-sends to the API (UPSTREAM_RETRIES)
 * are counted on it. Spans leave in batches over OTLP/HTTP as JSON.
 */
import { hostname } from 'node:os';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import { OTLP_EXPORT_DEADLINE_MS, formatTraceparent, otlpExportAgent } from '@stagecraft/contract';
import { UNMATCHED } from '../route-labels.js';
import type { SidecarTracing, TracingOptions } from './start-tracing.js';

/** Spans wait at most this long to leave in a batch (the SDK's default is 5 s). */
const SCHEDULED_DELAY_MS = 1_000;
/** How long shutdown waits for the last spans to leave. */
const SHUTDOWN_FLUSH_MS = 2_000;

export function openTelemetryTracing(options: TracingOptions): SidecarTracing {
  // Every export ends by a deadline, and shutdown cuts what is left (the contract's otlpExportAgent).
  const exportAgent = otlpExportAgent(options.url);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName ?? 'stagecraft-sidecar',
      [ATTR_SERVICE_INSTANCE_ID]: hostname(),
    }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({
          url: options.url.href,
          timeoutMillis: OTLP_EXPORT_DEADLINE_MS,
          httpAgentOptions: () => exportAgent.agent,
        }),
        scheduledDelayMillis: options.scheduledDelayMs ?? SCHEDULED_DELAY_MS,
      }),
    ],
  });
  const tracer = provider.getTracer('stagecraft-sidecar');

  return {
    startSpan({ method, route, path, requestId, trace: caller }) {
      const parent = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: caller.traceId,
        spanId: caller.parentId,
        traceFlags: caller.flags,
        isRemote: true,
      });
      const matched = route !== UNMATCHED;
      // url.path has no query (semconv), and the query is the client's: a URL to fetch, say.
      const query = path.indexOf('?');
      const bare = query === -1 ? path : path.slice(0, query);
      const span = tracer.startSpan(
        matched ? `${method} ${route}` : method,
        {
          kind: SpanKind.SERVER,
          attributes: {
            [ATTR_HTTP_REQUEST_METHOD]: method,
            [ATTR_URL_PATH]: bare.length > 256 ? bare.slice(0, 256) : bare,
            ...(matched ? { [ATTR_HTTP_ROUTE]: route } : {}),
            'stagecraft.request_id': requestId,
          },
        },
        parent,
      );
      const own = span.spanContext();
      return {
        traceparent: formatTraceparent(own.traceId, own.spanId, own.traceFlags),
        end({ status, aborted, retries }) {
          span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
          if (retries > 0) span.setAttribute('stagecraft.upstream.retries', retries);
          if (aborted) span.setAttribute(ATTR_ERROR_TYPE, 'aborted');
          if (status >= 500 || aborted) {
            if (!aborted) span.setAttribute(ATTR_ERROR_TYPE, String(status));
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
          span.end();
        },
      };
    },
    shutdown: async (withinMs: number) => {
      // Bounded: a collector that does not answer must not hold up the exit.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        provider.shutdown().catch(() => undefined),
        new Promise(
          (resolve) => (timer = setTimeout(resolve, Math.max(0, Math.min(withinMs, SHUTDOWN_FLUSH_MS)))),
        ),
      ]);
      clearTimeout(timer);
      // An export still in flight (a collector that stalls) would keep the process alive.
      exportAgent.close();
    },
  };
}
