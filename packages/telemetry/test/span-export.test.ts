/**
 * The shared span export against loopback collectors: one that answers (the
 * spans arrive with the service's resource) and ones that stall (shutdown keeps
 * its bound and leaves no export behind). Only 127.0.0.1 is contacted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpSink, startStalledCollector } from '@stagecraft/testkit/otlp-sink';
import { poll } from '@stagecraft/testkit/wait';
import { SHUTDOWN_FLUSH_MS, startSpanExport } from '../src/index.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const tracesUrl = (endpoint: string) =>
  new URL('v1/traces', endpoint.endsWith('/') ? endpoint : `${endpoint}/`);

/** An export to a collector that stalls (`mode`), with one span already at the collector's door. */
async function stalledExport(mode: 'silent' | 'trickle') {
  const collector = await startStalledCollector(mode);
  closers.push(() => collector.close());
  const exporter = startSpanExport({
    url: tracesUrl(collector.endpoint),
    serviceName: 'stagecraft-test',
    scheduledDelayMs: 10,
  });
  exporter.tracer.startSpan('stalled').end();
  await poll(
    'the export to reach the collector',
    async () => (collector.connections() > 0 ? true : undefined),
    10_000,
    10,
  );
  return { collector, exporter };
}

describe('startSpanExport', () => {
  it("sends the tracer's spans to the collector under the service's name", async () => {
    const sink = await startOtlpSink();
    closers.push(() => sink.close());
    const exporter = startSpanExport({
      url: tracesUrl(sink.endpoint),
      serviceName: 'stagecraft-test',
      scheduledDelayMs: 50,
    });
    exporter.tracer.startSpan('GET /healthz').end();
    await poll('the span to arrive', async () => (sink.count() > 0 ? true : undefined), 10_000, 25);
    await exporter.shutdown(1_000);
    expect(sink.spans()).toEqual([
      expect.objectContaining({ service: 'stagecraft-test', name: 'GET /healthz' }),
    ]);
    expect(sink.refused()).toBe(0);
  });

  for (const mode of ['silent', 'trickle'] as const) {
    it(`shuts down within what it is given when the collector is ${mode}, and leaves no export running`, async () => {
      const { collector, exporter } = await stalledExport(mode);
      const started = performance.now();
      await exporter.shutdown(300);
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(250);
      expect(waited).toBeLessThan(SHUTDOWN_FLUSH_MS);
      await poll(
        'the stalled export to be closed',
        async () => (collector.openSockets() === 0 ? true : undefined),
        5_000,
        10,
      );
    });
  }

  it('waits no longer than SHUTDOWN_FLUSH_MS, however long it is given', async () => {
    const { exporter } = await stalledExport('silent');
    const started = performance.now();
    await exporter.shutdown(60_000);
    expect(performance.now() - started).toBeLessThan(SHUTDOWN_FLUSH_MS + 1_000);
  });
});
