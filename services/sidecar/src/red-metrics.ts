/**
 * RED metrics of the proxied traffic, named after the OpenTelemetry HTTP server
 * semantic conventions as Prometheus exports them (attribute dots become
 * underscores: url.scheme is url_scheme, error.type is error_type). Every label
 * has a bounded set of values, whatever a client sends: methods outside the known
 * set become _OTHER, routes are templates or "unmatched", status codes are
 * numbers, the scheme is http or https, and error_type is one of a fixed list.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

/**
 * The methods semconv calls "known": RFC 9110's, PATCH (RFC 5789), and QUERY
 * (draft-ietf-httpbis-safe-method-w-body), which Node's parser accepts. The
 * gateway answers QUERY on /api/ with its own 405 (its list of methods it passes
 * on does not hold it) and the API's routes declare none, so a QUERY reaching the
 * sidecar (on /healthz, /readyz, or sent to it directly) is labelled QUERY and
 * answered 405 by the API, as the gateway would.
 */
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
  'QUERY',
]);

export function methodLabel(method: string | undefined): string {
  const upper = (method ?? '').toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : '_OTHER';
}

/**
 * url_scheme: the scheme of the client's own request when a proxy in front says
 * it (the gateway sets X-Forwarded-Proto to the scheme it was spoken to in, and
 * drops the client's), else the scheme of the request the sidecar received,
 * which is always http (semconv: "the scheme of the original client request, if
 * known ... otherwise, the scheme of the immediate peer request"). A header value
 * other than http or https is not a scheme the stack serves, so it is not "known":
 * the label stays http, and a client cannot add a series by inventing schemes.
 */
export function schemeLabel(forwardedProto: string | string[] | undefined): 'http' | 'https' {
  if (forwardedProto === undefined || forwardedProto === 'http') return 'http';
  if (forwardedProto === 'https') return 'https';
  // A list (one header per proxy, or "https, http"): the first names the client's request.
  const first = (Array.isArray(forwardedProto) ? (forwardedProto[0] ?? '') : forwardedProto)
    .split(',')[0]!
    .trim()
    .toLowerCase();
  return first === 'https' ? 'https' : 'http';
}

export type UpstreamFailure = 'refused' | 'reset' | 'timeout' | 'protocol' | 'other';

/**
 * error_type, as semconv has it for a server: empty (the label left out) when the
 * request did not end in an error; the upstream failure's kind when the API gave
 * no usable answer (the sidecar's own 502 or 504, or an answer cut mid-body,
 * whatever status it began with); otherwise the status code as a string for a
 * 5xx. A 4xx, or a client that hung up, is not the server's error. So its values
 * are the five kinds and "500" to "599".
 */
export function errorTypeLabel(status: number, failure: UpstreamFailure | undefined): string {
  if (failure !== undefined) return failure;
  return status >= 500 && status <= 599 ? String(status) : '';
}

/** One label set's observations: per-bucket counts (not yet cumulative), sum and count. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  /** The label set as exposed: a label whose value is empty is left out, as Prometheus reads it anyway. */
  readonly labels: Readonly<Record<string, string>>;

  constructor(
    labels: Readonly<Record<string, string>>,
    private readonly upperBounds: readonly number[],
  ) {
    this.labels = Object.fromEntries(Object.entries(labels).filter(([, value]) => value !== ''));
    this.counts = new Float64Array(upperBounds.length);
  }

  observe(value: number): void {
    const bounds = this.upperBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

/**
 * A Prometheus histogram written the way prom-client's is (same exposition:
 * cumulative `_bucket` lines with `le`, then `_sum` and `_count`), observed
 * through series objects that the hot path keeps. prom-client's own Histogram
 * validates and hashes the label set on every observation, even through a
 * labelled child: with three observations a request, that was the sidecar's
 * largest cost after the sockets.
 */
export class FastHistogram<Label extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly Label[],
    readonly upperBounds: readonly number[],
    registers: Registry[],
  ) {
    // The registry asks a metric only for its name and get(); this is one.
    for (const registry of registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The series of a label set, made on first use. */
  labels(labels: Record<Label, string>): HistogramSeries {
    const key = this.labelNames.map((name) => labels[name]).join('\u0000');
    let series = this.series.get(key);
    if (series === undefined) {
      series = new HistogramSeries({ ...labels }, this.upperBounds);
      this.series.set(key, series);
    }
    return series;
  }

  /** prom-client's metric object: what the registry formats. */
  get() {
    const values: { labels: object; sharedLabels: object; value: number; metricName: string }[] = [];
    for (const series of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        cumulative += series.counts[i]!;
        values.push(this.value(`${this.name}_bucket`, { le: this.upperBounds[i] }, series, cumulative));
      }
      values.push(this.value(`${this.name}_bucket`, { le: '+Inf' }, series, series.count));
      values.push(this.value(`${this.name}_sum`, {}, series, series.sum));
      values.push(this.value(`${this.name}_count`, {}, series, series.count));
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  private value(metricName: string, labels: object, series: HistogramSeries, value: number) {
    return { labels, sharedLabels: series.labels, value, metricName };
  }
}

type Method = 'http_request_method';
type Scheme = 'url_scheme';
type Route = 'http_route';
type Status = 'http_response_status_code';
type ErrorType = 'error_type';

export interface RedMetrics {
  registry: Registry;
  duration: FastHistogram<Method | Scheme | Route | Status | ErrorType>;
  active: Gauge<Method | Scheme>;
  /** The requests in flight per method and scheme that `active` reports when scraped: the hot path counts here. */
  inFlight: Map<string, { method: string; scheme: string; n: number }>;
  requestSize: FastHistogram<Method | Scheme | Route>;
  responseSize: FastHistogram<Method | Scheme | Route | Status | ErrorType>;
  upstreamFailures: Counter<'kind'>;
  upstreamRetries: Counter<'kind'>;
}

const SIZE_BUCKETS = [0, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/**
 * How often the event-loop delay is sampled (prom-client's default is 10 ms). Each
 * sample is a timer that wakes the process: at 10 ms that cost 7 ms of CPU a
 * second, idle or busy - 22 us on every request at 300 requests/s. At 50 ms it
 * costs 1.4 ms a second, and a 15 s scrape still rests on 300 samples.
 */
export const EVENT_LOOP_SAMPLE_MS = 50;

export function createRedMetrics(): RedMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  const registers = [registry];
  const inFlight = new Map<string, { method: string; scheme: string; n: number }>();
  const active = new Gauge({
    name: 'http_server_active_requests',
    help: 'Requests in flight through the proxy.',
    labelNames: ['http_request_method', 'url_scheme'],
    registers,
    // Read from plain counters when scraped: set() on every request would hash its labels twice.
    collect() {
      for (const { method, scheme, n } of inFlight.values())
        this.set({ http_request_method: method, url_scheme: scheme }, n);
    },
  });
  return {
    registry,
    duration: new FastHistogram(
      'http_server_request_duration_seconds',
      'Duration of HTTP requests through the proxy, until the response is fully sent.',
      ['http_request_method', 'url_scheme', 'http_route', 'http_response_status_code', 'error_type'],
      // OpenTelemetry's recommended boundaries for this instrument.
      [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
      registers,
    ),
    active,
    inFlight,
    requestSize: new FastHistogram(
      'http_server_request_body_size_bytes',
      'Size of request bodies forwarded upstream.',
      ['http_request_method', 'url_scheme', 'http_route'],
      SIZE_BUCKETS,
      registers,
    ),
    responseSize: new FastHistogram(
      'http_server_response_body_size_bytes',
      'Size of response bodies sent to clients.',
      ['http_request_method', 'url_scheme', 'http_route', 'http_response_status_code', 'error_type'],
      SIZE_BUCKETS,
      registers,
    ),
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

/**
 * Records one request's RED metrics through series and counters kept per label
 * set, so the hot path does a Map lookup and a few additions: nothing is hashed
 * or validated per request. The caches stay as small as the label sets
 * (methods x schemes x routes x statuses x error types).
 */
export class RedRecorder {
  private readonly active: RedMetrics['inFlight'];
  private readonly byStatus = new Map<string, { duration: HistogramSeries; responseSize: HistogramSeries }>();
  private readonly byRoute = new Map<string, HistogramSeries>();

  constructor(private readonly metrics: RedMetrics) {
    this.active = metrics.inFlight;
  }

  private activeCount(method: string, scheme: string): { n: number } {
    const key = `${method} ${scheme}`;
    let count = this.active.get(key);
    if (count === undefined) {
      count = { method, scheme, n: 0 };
      this.active.set(key, count);
    }
    return count;
  }

  /** A request arrived: `method` from methodLabel, `scheme` from schemeLabel. */
  started(method: string, scheme: string): void {
    this.activeCount(method, scheme).n++;
  }

  /** Its answer ended, sent or cut: `errorType` from errorTypeLabel ('' for none). */
  finished(
    method: string,
    scheme: string,
    route: string,
    status: string,
    errorType: string,
    seconds: number,
    responseBytes: number,
    requestBytes: number,
  ): void {
    this.activeCount(method, scheme).n--;
    const statusKey = `${method} ${scheme} ${route} ${status} ${errorType}`;
    let perStatus = this.byStatus.get(statusKey);
    if (perStatus === undefined) {
      const labels = {
        http_request_method: method,
        url_scheme: scheme,
        http_route: route,
        http_response_status_code: status,
        error_type: errorType,
      };
      perStatus = {
        duration: this.metrics.duration.labels(labels),
        responseSize: this.metrics.responseSize.labels(labels),
      };
      this.byStatus.set(statusKey, perStatus);
    }
    perStatus.duration.observe(seconds);
    perStatus.responseSize.observe(responseBytes);
    const routeKey = `${method} ${scheme} ${route}`;
    let perRoute = this.byRoute.get(routeKey);
    if (perRoute === undefined) {
      perRoute = this.metrics.requestSize.labels({
        http_request_method: method,
        url_scheme: scheme,
        http_route: route,
      });
      this.byRoute.set(routeKey, perRoute);
    }
    perRoute.observe(requestBytes);
  }
}
