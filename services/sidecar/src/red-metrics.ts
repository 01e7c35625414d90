/**
 * RED metrics of the proxied traffic, named after the OpenTelemetry HTTP server
 * semantic conventions as Prometheus exports them. Every label has a bounded set
 * of values: methods outside the HTTP standard become _OTHER, routes are
 * templates or "unmatched", status codes are numbers.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

export function methodLabel(method: string | undefined): string {
  const upper = (method ?? '').toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : '_OTHER';
}

export type UpstreamFailure = 'refused' | 'reset' | 'timeout' | 'protocol' | 'other';

export interface RedMetrics {
  registry: Registry;
  duration: Histogram<'http_request_method' | 'http_route' | 'http_response_status_code'>;
  active: Gauge<'http_request_method'>;
  requestSize: Histogram<'http_request_method' | 'http_route'>;
  responseSize: Histogram<'http_request_method' | 'http_route' | 'http_response_status_code'>;
  upstreamFailures: Counter<'kind'>;
  upstreamRetries: Counter<'kind'>;
}

const SIZE_BUCKETS = [0, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

export function createRedMetrics(): RedMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    duration: new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Duration of HTTP requests through the proxy, until the response is fully sent.',
      labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
      // OpenTelemetry's recommended boundaries for this instrument.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
      registers,
    }),
    active: new Gauge({
      name: 'http_server_active_requests',
      help: 'Requests in flight through the proxy.',
      labelNames: ['http_request_method'],
      registers,
    }),
    requestSize: new Histogram({
      name: 'http_server_request_body_size_bytes',
      help: 'Size of request bodies forwarded upstream.',
      labelNames: ['http_request_method', 'http_route'],
      buckets: SIZE_BUCKETS,
      registers,
    }),
    responseSize: new Histogram({
      name: 'http_server_response_body_size_bytes',
      help: 'Size of response bodies sent to clients.',
      labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
      buckets: SIZE_BUCKETS,
      registers,
    }),
    upstreamFailures: new Counter({
      name: 'stagecraft_proxy_upstream_failures_total',
      help: 'Requests the upstream failed, by kind: refused (no connection), reset (connection broken), timeout, protocol (not an HTTP/1.1 answer, e.g. an unasked 101).',
      labelNames: ['kind'],
      registers,
    }),
    upstreamRetries: new Counter({
      name: 'stagecraft_proxy_upstream_retries_total',
      help: 'Idempotent requests re-sent after the upstream refused or reset them before answering, by kind.',
      labelNames: ['kind'],
      registers,
    }),
  };
}

type DurationChild = ReturnType<RedMetrics['duration']['labels']>;
type SizeChild = ReturnType<RedMetrics['requestSize']['labels']>;
type ActiveChild = ReturnType<RedMetrics['active']['labels']>;

/**
 * Records one request's RED metrics through label children cached by their label
 * values, so the hot path does a Map lookup instead of hashing a labels object per
 * observation. The caches stay as small as the label sets (methods x routes x statuses).
 */
export class RedRecorder {
  private readonly active = new Map<string, ActiveChild>();
  private readonly byStatus = new Map<string, { duration: DurationChild; responseSize: DurationChild }>();
  private readonly byRoute = new Map<string, SizeChild>();

  constructor(private readonly metrics: RedMetrics) {}

  private activeChild(method: string): ActiveChild {
    let child = this.active.get(method);
    if (child === undefined) {
      child = this.metrics.active.labels({ http_request_method: method });
      this.active.set(method, child);
    }
    return child;
  }

  started(method: string): void {
    this.activeChild(method).inc();
  }

  finished(
    method: string,
    route: string,
    status: string,
    seconds: number,
    responseBytes: number,
    requestBytes: number,
  ): void {
    this.activeChild(method).dec();
    const statusKey = `${method} ${route} ${status}`;
    let perStatus = this.byStatus.get(statusKey);
    if (perStatus === undefined) {
      const labels = { http_request_method: method, http_route: route, http_response_status_code: status };
      perStatus = {
        duration: this.metrics.duration.labels(labels),
        responseSize: this.metrics.responseSize.labels(labels),
      };
      this.byStatus.set(statusKey, perStatus);
    }
    perStatus.duration.observe(seconds);
    perStatus.responseSize.observe(responseBytes);
    const routeKey = `${method} ${route}`;
    let perRoute = this.byRoute.get(routeKey);
    if (perRoute === undefined) {
      perRoute = this.metrics.requestSize.labels({ http_request_method: method, http_route: route });
      this.byRoute.set(routeKey, perRoute);
    }
    perRoute.observe(requestBytes);
  }
}
