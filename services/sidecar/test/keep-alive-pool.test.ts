/**
 * The sidecar's pool of connections to the API retires an idle one before the
 * API closes it (1 s before the Keep-Alive timeout the API advertises), so no
 * request is ever written into a socket the API is closing: the proxy, not the
 * upstream, ends each idle connection. Who closed is read from the upstream's
 * side (a FIN from the client arrives as 'end' before 'close'; the server's own
 * keep-alive timeout destroys the socket without one), not from a clock.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { listenLocally, type LocalServer } from '@stagecraft/testkit/local-server';
import { afterEach, describe, expect, it } from 'vitest';
import { startSidecar, type TestSidecar } from './helpers/sidecar.js';

/** An upstream advertising a short Keep-Alive timeout, recording how each connection ended. */
async function upstreamWithKeepAlive(keepAliveMs: number) {
  const endings: Promise<'client ended it' | 'server timed it out'>[] = [];
  const server: Server = createServer((_req, res) => res.end('ok'));
  server.keepAliveTimeout = keepAliveMs;
  server.on('connection', (socket: Socket) => {
    endings.push(
      new Promise((resolve) => {
        let ended = false;
        socket.on('end', () => (ended = true));
        socket.on('close', () => resolve(ended ? 'client ended it' : 'server timed it out'));
      }),
    );
  });
  const local: LocalServer = await listenLocally(server);
  return { url: local.url(''), endings, close: local.close };
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

describe("the sidecar's keep-alive pool to the API", () => {
  it('retires an idle connection before the API closes it', async () => {
    const upstream = await upstreamWithKeepAlive(3_000);
    cleanup.push(upstream.close);
    const sidecar: TestSidecar = await startSidecar(upstream.url);
    cleanup.push(sidecar.close);

    const answer = await fetch(`${sidecar.proxyUrl}/healthz`);
    expect(await answer.text()).toBe('ok');
    expect(upstream.endings).toHaveLength(1);
    // Bounded: the upstream's own timeout ends the connection at 3 s if the pool does not.
    await expect(upstream.endings[0]).resolves.toBe('client ended it');
  });

  it('is told apart from an upstream timing the connection out (the check can fail)', async () => {
    // 3 s, as above: at a 1 s hint Node's agent drops the socket at once, timeout or not.
    const upstream = await upstreamWithKeepAlive(3_000);
    cleanup.push(upstream.close);
    // A plain keep-alive client without a timeout of its own, as the pool was before.
    const { Agent, get } = await import('node:http');
    const agent = new Agent({ keepAlive: true });
    cleanup.push(async () => agent.destroy());
    await new Promise<void>((resolve, reject) =>
      get(`${upstream.url}/`, { agent }, (res) => res.resume().on('end', resolve)).on('error', reject),
    );
    await expect(upstream.endings[0]).resolves.toBe('server timed it out');
  });
});
