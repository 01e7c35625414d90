/**
 * The OpenTelemetry SDK, set up for the API; loaded only by start-tracing.ts,
 * and only when OTEL_EXPORTER_OTLP_ENDPOINT is set. No auto-instrumentation:
 * the spans are made here, where the API knows what each one means.
 *
 * - A server span per request, named `METHOD /route` by the OpenAPI template the
 *   request matched (as the sidecar names its own, so the two hops' spans read
 *   alike), its parent the traceparent the request came with (http/'s
 *   request context parsed it: a new trace when none was usable), so the trace
 *   id in the API's log lines is the span's.
 * - A client span per fetch hop (each redirect followed is one), with the SSRF
 *   guard's verdict: stagecraft.ssrf.verdict = allowed | refused, and why.
 * - A span per store call (traced-store.ts).
 *
 * The context of the request (which span is current) follows it through its
 * awaits by AsyncLocalStorage. Spans leave in batches over OTLP/HTTP as JSON;
 * nothing here sends a trace header anywhere (the page server never gets one).
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import { RouteMatcher, routeTemplates } from '@stagecraft/contract';
import { startSpanExport } from '@stagecraft/telemetry';
import type { ApiTracing, ServeTraced, TracingOptions } from './start-tracing.js';
import type { ObserveHop } from '../fetch/fetch-page.js';
import { tracedStore } from './traced-store.js';

export function openTelemetryTracing(options: TracingOptions): ApiTracing {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  // Provider, exporter and a bounded shutdown: @stagecraft/telemetry, as the sidecar's.
  const { tracer, shutdown } = startSpanExport({
    url: options.url,
    serviceName: options.serviceName ?? 'stagecraft-api',
    scheduledDelayMs: options.scheduledDelayMs,
  });
  const routes = new RouteMatcher(routeTemplates().map((route) => route.template));

  const serveTraced: ServeTraced = (req, res, parentTrace, route, next) => {
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: parentTrace.traceId,
      spanId: parentTrace.parentId,
      traceFlags: parentTrace.flags,
      isRemote: true,
    });
    const span = tracer.startSpan(
      req.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: req.method,
          [ATTR_URL_PATH]: req.path.length > 256 ? req.path.slice(0, 256) : req.path,
          [ATTR_URL_SCHEME]: 'http',
          'stagecraft.request_id': req.id,
        },
      },
      parent,
    );
    res.once('close', () => {
      // The OpenAPI template of a route Express matched (none for a 404 or 405).
      const template = route() === undefined ? undefined : routes.match(req.path);
      if (template !== undefined) {
        span.updateName(`${req.method} ${template}`);
        span.setAttribute(ATTR_HTTP_ROUTE, template);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (!res.writableFinished) span.setAttribute(ATTR_ERROR_TYPE, 'aborted');
      if (res.statusCode >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, String(res.statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };

  const observeHop: ObserveHop = (url, redirects) => {
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: 'GET',
      [ATTR_URL_FULL]: url.href,
      [ATTR_URL_SCHEME]: url.protocol.slice(0, -1),
      [ATTR_SERVER_ADDRESS]: url.hostname,
      [ATTR_SERVER_PORT]: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      'stagecraft.fetch.redirects': redirects,
    };
    const span = tracer.startSpan('GET', { kind: SpanKind.CLIENT, attributes }, context.active());
    return {
      verdict(allowed, { address, reason }) {
        span.setAttribute('stagecraft.ssrf.verdict', allowed ? 'allowed' : 'refused');
        if (address !== undefined) span.setAttribute(ATTR_NETWORK_PEER_ADDRESS, address);
        if (reason !== undefined) span.setAttribute('stagecraft.ssrf.reason', reason);
      },
      end({ status, failure }) {
        if (status !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
        if (failure !== undefined) {
          span.setAttribute(ATTR_ERROR_TYPE, failure);
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      },
    };
  };

  return {
    serveTraced,
    observeHop,
    traceStore: (store, system) => tracedStore(store, tracer, system),
    shutdown: async (withinMs: number) => {
      await shutdown(withinMs);
      // Unregisters the global context manager too, so a later start (tests) can register its own.
      context.disable();
    },
  };
}
