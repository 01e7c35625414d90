/**
 * Problem documents and the answers both services give before any handler runs,
 * over real sockets: one implementation, so the API and the sidecar answer a
 * parse error, a timeout or an ambiguous request byte for byte alike.
 */
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { problemDocument, problemType, sendProblem } from '../src/problem.js';
import { exchange, startServer, stopServer } from './raw-http.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(stopServer));
});

/** A server answering 200 "ok" to whatever strictServer lets through. */
async function okServer(): Promise<number> {
  const { server, port } = await startServer((_req, res) => res.end('ok'));
  servers.push(server);
  return port;
}

describe('problem documents', () => {
  it('name their type with a URN and keep the RFC 9457 member order', () => {
    expect(problemType('not-found')).toBe('urn:stagecraft:problem:not-found');
    const body = problemDocument(404, 'not-found', 'Not found', 'no route', {
      requestId: 'r1',
      instance: '/x',
    });
    expect(JSON.stringify(body)).toBe(
      '{"type":"urn:stagecraft:problem:not-found","title":"Not found","status":404,"detail":"no route","instance":"/x","requestId":"r1"}',
    );
    expect(problemDocument(500, 'internal-error', 'Internal server error')).toEqual({
      type: 'urn:stagecraft:problem:internal-error',
      title: 'Internal server error',
      status: 500,
    });
  });

  it('are sent uncached with the response request id, keeping the connection unless told to close', async () => {
    const { server, port } = await startServer((req, res) => {
      res.setHeader('x-request-id', 'abc-1');
      sendProblem(res, 502, 'upstream-reset', 'Upstream unavailable', 'reset', {
        close: req.url === '/close',
        headers: { 'x-content-type-options': 'nosniff' },
      });
    });
    servers.push(server);
    const kept = await exchange(port, 'GET /keep HTTP/1.1\r\nHost: a\r\n\r\n', 500);
    expect(kept.status).toBe(502);
    expect(kept.closedByServer).toBe(false);
    expect(kept.headers).toMatchObject({
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-length': String(Buffer.byteLength(kept.body)),
    });
    expect(JSON.parse(kept.body)).toEqual({
      type: 'urn:stagecraft:problem:upstream-reset',
      title: 'Upstream unavailable',
      status: 502,
      detail: 'reset',
      requestId: 'abc-1',
    });
    const closed = await exchange(port, 'GET /close HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(closed.closedByServer).toBe(true);
    expect(closed.headers.connection).toBe('close');
  });
});

describe('refuseAmbiguousRequest (through strictServer)', () => {
  it.each([
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, /more than one Host/],
    ['an HTTP/1.1 request without Host', 'GET / HTTP/1.1\r\n\r\n', 400, /needs a Host/],
    ['a Host that is no host[:port]', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400, /host\[:port\]/],
    ['HTTP/2 spoken as text', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505, /HTTP\/2\.0/],
  ])('answers %s with a problem document and closes', async (_name, request, status, detail) => {
    const answer = await exchange(await okServer(), request);
    expect(answer.status).toBe(status);
    expect(answer.closedByServer).toBe(true);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect((JSON.parse(answer.body) as { detail: string }).detail).toMatch(detail);
  });

  it('lets HTTP/1.0 without Host, an empty Host and a bracketed address through', async () => {
    const port = await okServer();
    for (const request of [
      'GET / HTTP/1.0\r\n\r\n',
      'GET / HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n',
    ]) {
      const answer = await exchange(port, request);
      expect(answer.status, request).toBe(200);
      expect(answer.body, request).toBe('ok');
    }
  });

  it('closes after answering an Upgrade request: Node drops what was pipelined behind it', async () => {
    const answer = await exchange(
      await okServer(),
      'GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(answer.closedByServer).toBe(true);
  });
});

describe('answerClientErrors (through strictServer)', () => {
  it('answers what the parser rejects with 400, and an oversized header with 431', async () => {
    const port = await okServer();
    const malformed = await exchange(
      port,
      'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    );
    expect(malformed.status).toBe(400);
    expect(malformed.closedByServer).toBe(true);
    expect(JSON.parse(malformed.body)).toMatchObject({
      type: 'urn:stagecraft:problem:bad-request',
      status: 400,
      detail: expect.stringMatching(/^the request could not be parsed as HTTP\/1\.1/),
    });
    const huge = await exchange(port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`);
    expect(huge.status).toBe(431);
    expect(JSON.parse(huge.body)).toMatchObject({ type: 'urn:stagecraft:problem:header-fields-too-large' });
  });

  it('answers headers that stop arriving with 408 at headersTimeout', async () => {
    const answer = await exchange(await okServer(), 'GET / HTTP/1.1\r\nHost: a\r\n', 5_000);
    expect(answer.status).toBe(408);
    expect(answer.closedByServer).toBe(true);
    expect(JSON.parse(answer.body)).toMatchObject({
      type: 'urn:stagecraft:problem:request-timeout',
      detail: 'the request did not arrive in time',
    });
  });

  it('answers a body that stops arriving with 408 through the request in flight', async () => {
    const { server, port } = await startServer((req, res) => {
      res.setHeader('x-request-id', 'slow-1');
      req.resume();
      req.on('end', () => res.end('whole'));
    });
    servers.push(server);
    const answer = await exchange(port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc', 5_000);
    expect(answer.status).toBe(408);
    expect(answer.headers.connection).toBe('close');
    // Answered through the request's own response: its request id is in the body.
    expect(JSON.parse(answer.body)).toMatchObject({ status: 408, requestId: 'slow-1' });
  });
});
