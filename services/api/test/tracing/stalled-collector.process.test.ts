/**
 * A collector that stalls must not hold the API past its shutdown: with
 * OTEL_EXPORTER_OTLP_ENDPOINT naming one that accepts the export's connection
 * and then never answers, or answers a header line a second (so no idle timeout
 * ever fires), SIGTERM still ends the process with exit 0 within the bounded
 * flush (tracing/otel.ts: 2 s) and a margin, far inside its stop_grace_period.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStalledCollector } from '@stagecraft/testkit/otlp-sink';
import { poll } from '@stagecraft/testkit/wait';
import { startApiProcess } from '../helpers/api-process.js';

/** The flush's own bound (2 s) and time for the process to end on a loaded machine. */
const EXIT_WITHIN_MS = 5_000;
const dir = mkdtempSync(join(tmpdir(), 'stagecraft-stalled-collector-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(['silent', 'trickle'] as const)('a %s collector', (mode) => {
  it('does not hold the process after SIGTERM', async () => {
    const collector = await startStalledCollector(mode);
    const api = await startApiProcess({
      DATA_DIR: join(dir, mode),
      API_AUTH: 'open',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    });
    try {
      const response = await fetch(`http://127.0.0.1:${api.port}/api/v1/reports`);
      await response.text();
      // The spans' batch leaves within a second: the export is then in flight, stalled.
      await poll(
        'the export to reach the collector',
        async () => collector.connections() > 0 || undefined,
        10_000,
      );
      const stopped = Date.now();
      api.child.kill('SIGTERM');
      const code = await Promise.race([
        api.exited,
        new Promise<string>((resolve) => setTimeout(() => resolve('still running'), EXIT_WITHIN_MS * 3)),
      ]);
      const took = Date.now() - stopped;
      expect({ code, tookMs: took < EXIT_WITHIN_MS ? 'in time' : took }).toEqual({
        code: 0,
        tookMs: 'in time',
      });
    } finally {
      await api.stop();
      await collector.close();
    }
  });
});
