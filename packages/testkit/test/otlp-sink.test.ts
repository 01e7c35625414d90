import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startStalledCollector } from '../src/otlp-sink.js';

/** Connects, posts an export's start, and collects what comes back for `ms`; also whether the connection is still open then. */
async function listen(port: number, ms: number) {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  let closed = false;
  socket.on('data', (data: Buffer) => (received += data.toString()));
  socket.on('close', () => (closed = true));
  socket.write('POST /v1/traces HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 2\r\n\r\n{}');
  await new Promise((resolve) => setTimeout(resolve, ms));
  socket.destroy();
  return { received, open: !closed };
}

describe('startStalledCollector', () => {
  it('silent: accepts the connection, keeps it open, and writes nothing', async () => {
    const collector = await startStalledCollector('silent');
    try {
      expect(await listen(collector.port, 500)).toEqual({ received: '', open: true });
      expect(collector.connections()).toBe(1);
    } finally {
      await collector.close();
    }
  });

  it('trickle: a status line at once, then a header line a second, never the end of the headers', async () => {
    const collector = await startStalledCollector('trickle');
    try {
      const { received, open } = await listen(collector.port, 2_300);
      expect({ received, open }).toEqual({
        received: 'HTTP/1.1 200 OK\r\nx-stall: 1\r\nx-stall: 1\r\n',
        open: true,
      });
      expect(collector.endpoint).toBe(`http://127.0.0.1:${collector.port}`);
    } finally {
      await collector.close();
      expect(collector.openSockets()).toBe(0);
    }
  });
});
