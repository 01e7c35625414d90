/** listenLocally: the address, the connection counts, and a close() that leaves no socket open. */
import { createServer } from 'node:http';
import { connect, createServer as createTcpServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenLocally, type LocalServer } from '../src/local-server.js';

const open: LocalServer[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

const connected = (port: number, host = '127.0.0.1') =>
  new Promise<ReturnType<typeof connect>>((resolve) => {
    const socket = connect(port, host, () => resolve(socket));
  });

describe('listenLocally', () => {
  it('listens on 127.0.0.1 at a free port and names its URLs', async () => {
    const server = await listenLocally(createServer((_req, res) => res.end('hi')));
    open.push(server);
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url('/x')).toBe(`http://127.0.0.1:${server.port}/x`);
    expect(await (await fetch(server.url())).text()).toBe('hi');
  });

  it('puts an IPv6 host in brackets', async () => {
    const server = await listenLocally(createServer(), '::1');
    open.push(server);
    expect(server.url('/')).toBe(`http://[::1]:${server.port}/`);
  });

  it('counts connections accepted and open, and close() destroys the open ones', async () => {
    const server = await listenLocally(createTcpServer(() => undefined));
    expect(server.connections()).toBe(0);
    const first = await connected(server.port);
    const second = await connected(server.port);
    first.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(server.connections()).toBe(2);
    expect(server.openSockets()).toBe(1);
    const closedByServer = new Promise((resolve) => second.once('close', resolve));
    await server.close();
    await closedByServer;
    expect(server.openSockets()).toBe(0);
  });

  it('rejects when the port is taken', async () => {
    const server = await listenLocally(createTcpServer());
    open.push(server);
    await expect(listenLocally(createTcpServer(), '127.0.0.1', server.port)).rejects.toThrow(/EADDRINUSE/);
  });
});
