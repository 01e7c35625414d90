/**
 * A collector that stalls must not hold the sidecar past its shutdown: with
 * OTEL_EXPORTER_OTLP_ENDPOINT naming one that accepts the export's connection
 * and then never answers, or answers a header line a second (so no idle timeout
 * ever fires), SIGTERM still ends the process with exit 0 within the bounded
 * flush (tracing/otel.ts: 2 s) and a margin, far inside its stop_grace_period;
 * and when the drain itself ends near SHUTDOWN_TIMEOUT_MS, the flush gets only
 * what is left of it, so the exit still comes by that deadline.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeProcess, type NodeProcess } from '@stagecraft/testkit/node-process';
import { startStalledCollector, type StalledCollector } from '@stagecraft/testkit/otlp-sink';
import { poll } from '@stagecraft/testkit/wait';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const LISTENING = /"port":(\d+)[^\n]*"msg":"proxy listening"/;
/** The flush's own bound (2 s) and time for the process to end on a loaded machine. */
const EXIT_WITHIN_MS = 5_000;
/** A short drain deadline, and an answer that keeps the drain busy until 400 ms before it. */
const SHUTDOWN_MS = 3_000;
const SLOW_MS = SHUTDOWN_MS - 400;

/** The sidecar from its sources, in front of the test's upstream, exporting to `collector`; `env` on top. */
function startSidecar(collector: StalledCollector, env: Record<string, string> = {}): Promise<NodeProcess> {
  return startNodeProcess(['--import', 'tsx', main], {
    env: {
      UPSTREAM_URL: upstream.url,
      PORT: '0',
      METRICS_PORT: '0',
      HOST: '127.0.0.1',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      ...env,
    },
    ready: LISTENING,
  });
}

/** One request through the sidecar; its span's batch leaves within a second, and the export then stays in flight, stalled. */
async function stallAnExport(base: string, collector: StalledCollector): Promise<void> {
  await (await fetch(`${base}/api/v1/reports`)).text();
  await poll(
    'the export to reach the collector',
    async () => collector.connections() > 0 || undefined,
    10_000,
  );
}

/** SIGTERM, then its exit code (or 'still running' after EXIT_WITHIN_MS * 3) and the milliseconds it took. */
async function terminate(sidecar: NodeProcess): Promise<{ code: number | null | string; took: number }> {
  const stopped = Date.now();
  sidecar.child.kill('SIGTERM');
  const code = await Promise.race([
    sidecar.exited,
    new Promise<string>((resolve) => setTimeout(() => resolve('still running'), EXIT_WITHIN_MS * 3)),
  ]);
  return { code, took: Date.now() - stopped };
}

let upstream: Upstream;
beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    // /api/v1/reports/slow: in flight until shortly before the drain's deadline.
    if (req.url === '/api/v1/reports/slow') setTimeout(() => res.writeHead(200).end('{}'), SLOW_MS);
    else res.writeHead(200).end('[]');
  });
});
afterAll(async () => {
  await upstream?.close();
});

describe.each(['silent', 'trickle'] as const)('a %s collector', (mode) => {
  it('does not hold the process after SIGTERM', async () => {
    const collector = await startStalledCollector(mode);
    const sidecar = await startSidecar(collector);
    try {
      await stallAnExport(`http://127.0.0.1:${sidecar.ready[1]}`, collector);
      const { code, took } = await terminate(sidecar);
      expect({ code, tookMs: took < EXIT_WITHIN_MS ? 'in time' : took }).toEqual({
        code: 0,
        tookMs: 'in time',
      });
    } finally {
      await sidecar.stop();
      await collector.close();
    }
  });
});

it('gives the flush only what is left of SHUTDOWN_TIMEOUT_MS when the drain ends near it', async () => {
  const collector = await startStalledCollector('silent');
  const sidecar = await startSidecar(collector, {
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_MS),
    UPSTREAM_TIMEOUT_MS: String(SLOW_MS + 200),
  });
  try {
    const base = `http://127.0.0.1:${sidecar.ready[1]}`;
    await stallAnExport(base, collector);
    const slow = fetch(`${base}/api/v1/reports/slow`).then((r) => r.status);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the slow request is in flight
    const { code, took } = await terminate(sidecar);
    expect(await slow).toBe(200);
    // Without the bound: the drain's ~2.5 s plus the whole 2 s flush.
    expect({ code, tookMs: took < SHUTDOWN_MS + 900 ? 'by the deadline' : took }).toEqual({
      code: 0,
      tookMs: 'by the deadline',
    });
  } finally {
    await sidecar.stop();
    await collector.close();
  }
});
