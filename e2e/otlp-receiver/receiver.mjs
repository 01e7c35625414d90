// A test-only OTLP/HTTP receiver for e2e/tracing.test.ts, run on the stack's
// `telemetry` network as the `otlp-receiver` service (e2e/compose.tracing.yml).
// It takes the JSON the services' exporters post to /v1/traces and prints each
// span as one line of JSON on its stdout (trace and span ids, parent, name,
// kind, the sending service, attributes as plain values), which the test reads
// with `docker logs`. Anything but an OTLP JSON post is refused with 415.
import { createServer } from 'node:http';

const plain = (attributes = []) =>
  Object.fromEntries(
    attributes.map(({ key, value }) => [
      key,
      value.stringValue ??
        value.boolValue ??
        value.doubleValue ??
        (value.intValue === undefined ? null : Number(value.intValue)),
    ]),
  );

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    if (
      req.method !== 'POST' ||
      req.url !== '/v1/traces' ||
      !String(req.headers['content-type']).startsWith('application/json')
    ) {
      process.stdout.write(
        `${JSON.stringify({ refused: `${req.method} ${req.url} ${req.headers['content-type']}` })}\n`,
      );
      res.writeHead(415).end();
      return;
    }
    const { resourceSpans = [] } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    for (const { resource, scopeSpans = [] } of resourceSpans) {
      const service = plain(resource?.attributes)['service.name'];
      for (const { spans = [] } of scopeSpans)
        for (const span of spans) {
          const { traceId, spanId, parentSpanId = '', name, kind } = span;
          const line = {
            service,
            traceId,
            spanId,
            parentSpanId,
            name,
            kind,
            attributes: plain(span.attributes),
          };
          process.stdout.write(`${JSON.stringify(line)}\n`);
        }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(4318);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
