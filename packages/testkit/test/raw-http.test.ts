/** The raw-socket client against TCP servers of the test's own on 127.0.0.1, which see every byte. */
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenLocally, type LocalServer } from '../src/local-server.js';
import { headerValues, problemOf, rawExchange } from '../src/raw-http.js';

const open: LocalServer[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

/** A TCP server that hands each connection to `onSocket`. */
async function tcp(onSocket: (socket: Socket) => void): Promise<LocalServer> {
  const server = await listenLocally(createServer(onSocket));
  open.push(server);
  return server;
}

/** A server that records the bytes it receives, with when they came, and answers `reply` after `after` bytes. */
async function recorder(after: number, reply: string) {
  const got: { at: number; bytes: Buffer }[] = [];
  const started = Date.now();
  const server = await tcp((socket) => {
    let total = 0;
    socket.on('data', (c: Buffer) => {
      got.push({ at: Date.now() - started, bytes: c });
      total += c.length;
      if (total >= after) socket.end(reply);
    });
  });
  return { server, got, bytes: () => Buffer.concat(got.map((g) => g.bytes)) };
}

describe('rawExchange', () => {
  it('sends strings UTF-8 encoded and Buffers byte for byte, and parses the answer', async () => {
    const answer =
      'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nX-Twice: a\r\nx-twice: b\r\n\r\nno\r\n\r\nmore';
    const { server, bytes } = await recorder(6, answer);
    const result = await rawExchange(server.port, ['１', Buffer.from([0xff, 0x00, 0x0a])]);
    expect([...bytes()]).toEqual([0xef, 0xbc, 0x91, 0xff, 0x00, 0x0a]);
    expect(result.status).toBe(400);
    expect(result.head).toBe(
      'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nX-Twice: a\r\nx-twice: b',
    );
    expect(result.headers).toEqual({ 'content-type': 'text/plain', 'x-twice': 'b' });
    expect(headerValues(result.head, 'X-TWICE')).toEqual(['a', 'b']);
    expect(result.body).toBe('no\r\n\r\nmore');
    expect(result.text).toBe(answer);
    expect(result.closedByServer).toBe(true);
  });

  it('waits each chunk’s delay after the previous one', async () => {
    const { server, got } = await recorder(3, 'HTTP/1.1 204 No Content\r\n\r\n');
    const result = await rawExchange(server.port, ['a', [300, 'b'], [300, 'c']]);
    expect(got.map((g) => g.bytes.toString())).toEqual(['a', 'b', 'c']);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(250);
    expect(got[2]!.at - got[0]!.at).toBeGreaterThanOrEqual(550);
    expect(result.status).toBe(204);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(590);
  });

  it('gives up after waitMs when the server keeps the connection open, keeping what came', async () => {
    const server = await tcp((socket) => socket.write('HTTP/1.1 100 Continue\r\n\r\n'));
    const result = await rawExchange(server.port, ['GET / HTTP/1.1\r\n\r\n'], 400);
    expect(result.closedByServer).toBe(false);
    expect(result.status).toBe(100);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(395);
    expect(result.elapsedMs).toBeLessThan(2_000);
  });

  it('has no status when the server answers no status line, and the head is all there is', async () => {
    const server = await tcp((socket) => socket.end('garbage'));
    const result = await rawExchange(server.port, ['x']);
    expect(result.status).toBeUndefined();
    expect(result.head).toBe('garbage');
    expect(result.body).toBe('');
    expect(result.closedByServer).toBe(true);
  });
});

describe('problemOf', () => {
  it('reads a problem document from a labelled answer', async () => {
    const server = await tcp((socket) =>
      socket.end(
        'HTTP/1.1 404 Not Found\r\ncontent-type: application/problem+json\r\n\r\n{"type":"urn:x","status":404}',
      ),
    );
    expect(problemOf(await rawExchange(server.port, ['x']))).toEqual({ type: 'urn:x', status: 404 });
  });

  it('refuses an answer not labelled as one, showing its head', async () => {
    const server = await tcp((socket) =>
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n\r\n{"type":"urn:x"}'),
    );
    const answer = await rawExchange(server.port, ['x']);
    expect(() => problemOf(answer)).toThrow(/not a problem document:\nHTTP\/1.1 404 Not Found/);
  });
});
