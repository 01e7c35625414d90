/**
 * A collector that stalls must not hold the sidecar past its shutdown: with
 * OTEL_EXPORTER_OTLP_ENDPOINT naming one that accepts the export's connection
 * and then never answers, or answers a header line a second (so no idle timeout
 * ever fires), SIGTERM still ends the process with exit 0 within the bounded
 * flush (tracing/otel.ts: 2 s) and a margin, far inside its stop_grace_period;
 * and when the drain itself ends near SHUTDOWN_TIMEOUT_MS, the flush gets only
 * what is left of it, so the exit still comes by that deadline.
 */
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeProcess } from '@stagecraft/testkit/node-process';
import { poll } from '@stagecraft/testkit/wait';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const LISTENING = /"port":(\d+)[^\n]*"msg":"proxy listening"/;
/** The flush's own bound (2 s) and time for the process to end on a loaded machine. */
const EXIT_WITHIN_MS = 5_000;
/** A short drain deadline, and an answer that keeps the drain busy until 400 ms before it. */
const SHUTDOWN_MS = 3_000;
const SLOW_MS = SHUTDOWN_MS - 400;

/** A TCP server on loopback that takes connections and answers them badly, by `mode`. */
async function stalledCollector(mode: 'silent' | 'trickle') {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
    if (mode === 'trickle') {
      socket.write('HTTP/1.1 200 OK\r\n');
      const timer = setInterval(() => socket.write('x-stall: 1\r\n'), 1_000);
      socket.once('close', () => clearInterval(timer));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  let accepted = 0;
  server.on('connection', () => accepted++);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accepted: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
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
    const collector = await stalledCollector(mode);
    const sidecar = await startNodeProcess(['--import', 'tsx', main], {
      env: {
        UPSTREAM_URL: upstream.url,
        PORT: '0',
        METRICS_PORT: '0',
        HOST: '127.0.0.1',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      },
      ready: LISTENING,
    });
    try {
      const response = await fetch(`http://127.0.0.1:${sidecar.ready[1]}/api/v1/reports`);
      await response.text();
      // The span's batch leaves within a second: the export is then in flight, stalled.
      await poll(
        'the export to reach the collector',
        async () => collector.accepted() > 0 || undefined,
        10_000,
      );
      const stopped = Date.now();
      sidecar.child.kill('SIGTERM');
      const code = await Promise.race([
        sidecar.exited,
        new Promise<string>((resolve) => setTimeout(() => resolve('still running'), EXIT_WITHIN_MS * 3)),
      ]);
      const took = Date.now() - stopped;
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
  const collector = await stalledCollector('silent');
  const sidecar = await startNodeProcess(['--import', 'tsx', main], {
    env: {
      UPSTREAM_URL: upstream.url,
      PORT: '0',
      METRICS_PORT: '0',
      HOST: '127.0.0.1',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_MS),
      UPSTREAM_TIMEOUT_MS: String(SLOW_MS + 200),
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    },
    ready: LISTENING,
  });
  try {
    const base = `http://127.0.0.1:${sidecar.ready[1]}`;
    await (await fetch(`${base}/api/v1/reports`)).text();
    await poll(
      'the export to reach the collector',
      async () => collector.accepted() > 0 || undefined,
      10_000,
    );
    const slow = fetch(`${base}/api/v1/reports/slow`).then((r) => r.status);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the slow request is in flight
    const stopped = Date.now();
    sidecar.child.kill('SIGTERM');
    const code = await Promise.race([
      sidecar.exited,
      new Promise<string>((resolve) => setTimeout(() => resolve('still running'), EXIT_WITHIN_MS * 3)),
    ]);
    const took = Date.now() - stopped;
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
