/**
 * The span export both services set up alike: the OpenTelemetry SDK's provider
 * with this process's resource (service.name, and the container's host name as
 * service.instance.id, which tells replicas apart), a batch processor, and the
 * OTLP/HTTP JSON exporter on the contract's export agent, so that every export
 * ends by OTLP_EXPORT_DEADLINE_MS and shutdown can cut what is left. Each
 * service makes its own spans with the tracer it gets back (the API's
 * tracing/otel.ts, the sidecar's), and loads this module only when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set.
 */
import { hostname } from 'node:os';
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { OTLP_EXPORT_DEADLINE_MS, otlpExportAgent } from '@stagecraft/contract';

/** Spans wait at most this long to leave in a batch (the SDK's default is 5 s). */
const SCHEDULED_DELAY_MS = 1_000;
/** The longest shutdown waits for the last spans to leave. */
export const SHUTDOWN_FLUSH_MS = 2_000;

export interface SpanExportOptions {
  /** Where spans are posted: OTEL_EXPORTER_OTLP_ENDPOINT + v1/traces (each service's config.ts). */
  url: URL;
  /** service.name of every span, and the tracer's name. */
  serviceName: string;
  /** How long spans wait to be sent in one batch (ms); tests shorten it. */
  scheduledDelayMs?: number;
}

export interface SpanExport {
  tracer: Tracer;
  /**
   * Exports what is still buffered, then stops: waits at most `withinMs` (what
   * is left of the service's shutdown deadline) or SHUTDOWN_FLUSH_MS, whichever
   * is less, then closes every export still in flight.
   */
  shutdown: (withinMs: number) => Promise<void>;
}

export function startSpanExport(options: SpanExportOptions): SpanExport {
  const exportAgent = otlpExportAgent(options.url);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
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
  return {
    tracer: provider.getTracer(options.serviceName),
    shutdown: async (withinMs) => {
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
