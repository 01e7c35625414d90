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
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import { formatTraceparent } from '@stagecraft/contract';
import { startSpanExport } from '@stagecraft/telemetry';
import { UNMATCHED } from '../route-labels.js';
import type { SidecarTracing, TracingOptions } from './start-tracing.js';

export function openTelemetryTracing(options: TracingOptions): SidecarTracing {
  // Provider, exporter and a bounded shutdown: @stagecraft/telemetry, as the API's.
  const { tracer, shutdown } = startSpanExport({
    url: options.url,
    serviceName: options.serviceName ?? 'stagecraft-sidecar',
    scheduledDelayMs: options.scheduledDelayMs,
  });

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
    shutdown,
  };
}
