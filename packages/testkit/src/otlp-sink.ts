/**
 * A loopback OTLP/HTTP receiver for the tests and the benchmark: it takes what
 * an OpenTelemetry JSON exporter posts to /v1/traces, answers 200 with an empty
 * partial-success body, and keeps the spans it read (flattened: trace and span
 * ids, parent, name, kind, attributes as plain values, the sending service).
 * `keep: false` only counts them, for load that would otherwise fill memory.
 * Beside it, a collector that stalls (startStalledCollector), for proving an
 * exporter cannot hold a process past its shutdown.
 */
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { listenLocally, type LocalServer } from './local-server.js';

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind number: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  status: number;
}

export interface OtlpSink extends LocalServer {
  /** The base URL to give OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  spans: () => ReceivedSpan[];
  /** Spans received so far, kept or not. */
  count: () => number;
  /** Requests that were not an OTLP JSON post to /v1/traces (a protobuf body, another path). */
  refused: () => number;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: OtlpAttribute[];
        status?: { code?: number };
      }[];
    }[];
  }[];
}

function plain(attributes: OtlpAttribute[] = []): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes) {
    const v = value.stringValue ?? value.boolValue ?? value.doubleValue ?? value.intValue;
    if (v !== undefined) out[key] = typeof v === 'string' && value.intValue !== undefined ? Number(v) : v;
  }
  return out;
}

/** The spans of one OTLP JSON export request, flattened. */
export function readOtlpJson(body: string): ReceivedSpan[] {
  const parsed = JSON.parse(body) as OtlpExport;
  return (parsed.resourceSpans ?? []).flatMap((resourceSpans) => {
    const service = String(plain(resourceSpans.resource?.attributes)['service.name'] ?? '');
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        service,
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind,
        attributes: plain(span.attributes),
        status: span.status?.code ?? 0,
      })),
    );
  });
}

export async function startOtlpSink(options: { keep?: boolean } = {}): Promise<OtlpSink> {
  const keep = options.keep ?? true;
  const spans: ReceivedSpan[] = [];
  let count = 0;
  let refused = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const json = (req.headers['content-type'] ?? '').startsWith('application/json');
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !json) {
        refused++;
        res.writeHead(415).end();
        return;
      }
      const received = readOtlpJson(Buffer.concat(chunks).toString('utf8'));
      count += received.length;
      if (keep) spans.push(...received);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const local = await listenLocally(server);
  return {
    ...local,
    endpoint: local.url(''),
    spans: () => [...spans],
    count: () => count,
    refused: () => refused,
  };
}

/** A collector that accepts connections and never finishes an answer; `connections()` counts the exports that reached it. */
export interface StalledCollector extends LocalServer {
  /** The base URL to give OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
}

/**
 * A TCP server on 127.0.0.1 that accepts each connection and reads what is
 * sent, then answers badly: `silent` never writes a byte; `trickle` writes a
 * status line, then a header line a second, so no idle timeout ever fires.
 */
export async function startStalledCollector(mode: 'silent' | 'trickle'): Promise<StalledCollector> {
  const server = createTcpServer((socket) => {
    socket.on('error', () => undefined);
    socket.resume();
    if (mode === 'trickle') {
      socket.write('HTTP/1.1 200 OK\r\n');
      const timer = setInterval(() => socket.write('x-stall: 1\r\n'), 1_000);
      socket.once('close', () => clearInterval(timer));
    }
  });
  const local = await listenLocally(server);
  return { ...local, endpoint: local.url('') };
}
