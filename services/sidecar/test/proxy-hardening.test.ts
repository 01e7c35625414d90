/**
 * The sidecar attacked the way a review would: metrics paths in every spelling,
 * an upstream that switches protocols unasked or streams 1xx answers forever,
 * hop-by-hop headers both ways over the shared keep-alive pool, Upgrade and
 * Expect requests, requests RFC 9112 says to refuse, slow clients, and a full
 * upstream pool. Real sockets on 127.0.0.1 only.
 */
import { createServer as createHttpServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenLocally } from '@stagecraft/testkit/local-server';
import { problemOf, rawExchange } from '@stagecraft/testkit/raw-http';
import { parsePrometheusText, sampleValue } from './helpers/prometheus-text.js';
import { startSidecar, type TestSidecar } from './helpers/sidecar.js';
import { startUpstream } from './helpers/upstream.js';

const open: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

async function sidecarFor(upstream: string, env: Record<string, string> = {}): Promise<TestSidecar> {
  const sidecar = await startSidecar(upstream, env);
  open.push(sidecar);
  return sidecar;
}

async function scrape(sidecar: TestSidecar) {
  return parsePrometheusText(await (await fetch(`${sidecar.metricsUrl}/metrics`)).text());
}

const portOf = (url: string) => Number(new URL(url).port);

/** An upstream that speaks raw bytes: `onRequest` gets the socket once a request's head has arrived. */
async function rawUpstream(onRequest: (socket: Socket) => void): Promise<string> {
  const server = createTcpServer((socket) => {
    socket.on('error', () => undefined);
    let head = '';
    const onData = (c: Buffer) => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      onRequest(socket);
    };
    socket.on('data', onData);
  });
  const local = await listenLocally(server);
  open.push(local);
  return local.url('');
}

const get = (path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: sidecar\r\n${extra}Connection: close\r\n\r\n`;

describe('metrics paths, in every spelling', () => {
  it.each([
    '/METRICS',
    '/Metrics',
    '/metrics#x',
    '/%6Detrics',
    '/metrics;x',
    '//metrics',
    '/api/v1/../metrics',
    '/api/v1/reports;/../../metrics',
    '/api%2Fmetrics',
    'http://evil/metrics',
  ])('answers %s with a 404 problem, and the upstream never sees it', async (target) => {
    let hits = 0;
    const upstream = await startUpstream((_req, res) => {
      hits++;
      res.end('# upstream metrics\nprocess_cpu_user_seconds_total 1\n');
    });
    open.push(upstream);
    const sidecar = await sidecarFor(upstream.url);
    const answer = await rawExchange(portOf(sidecar.proxyUrl), [get(target)]);
    expect(answer.status).toBe(404);
    expect(problemOf(answer).type).toBe('urn:stagecraft:problem:not-found');
    expect(hits).toBe(0);
  });
});

describe('upstream answers that are not a plain HTTP/1.1 response', () => {
  it('answers 502 at once when the upstream switches protocols on a plain request', async () => {
    const upstream = await rawUpstream((socket) => socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n'));
    const sidecar = await sidecarFor(upstream); // UPSTREAM_TIMEOUT_MS: the default 30 s
    const answer = await rawExchange(portOf(sidecar.proxyUrl), [get('/api/v1/reports')]);
    expect(answer.status).toBe(502);
    expect(problemOf(answer)).toMatchObject({
      type: 'urn:stagecraft:problem:upstream-protocol',
      status: 502,
    });
    expect(answer.elapsedMs).toBeLessThan(2_000);
    const expo = await scrape(sidecar);
    expect(sampleValue(expo, 'stagecraft_proxy_upstream_failures_total', { kind: 'protocol' })).toBe(1);
    expect(sampleValue(expo, 'http_server_active_requests', { http_request_method: 'GET' })).toBe(0);
  });

  it('answers 502 when the upstream switches protocols on a client Upgrade request too', async () => {
    const upstream = await rawUpstream((socket) =>
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'),
    );
    const sidecar = await sidecarFor(upstream);
    const answer = await rawExchange(portOf(sidecar.proxyUrl), [
      'GET /api/v1/reports HTTP/1.1\r\nHost: s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    ]);
    expect(answer.status).toBe(502);
    expect(answer.elapsedMs).toBeLessThan(2_000);
  });

  it.each([
    ['a stream of 103 Early Hints', 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n'],
    ['a stream of 100 Continue', 'HTTP/1.1 100 Continue\r\n\r\n'],
  ])(
    'answers 504 at UPSTREAM_TIMEOUT_MS when the upstream sends %s and never a response',
    async (_name, line) => {
      const upstream = await rawUpstream((socket) => {
        const timer = setInterval(() => (socket.writable ? socket.write(line) : clearInterval(timer)), 100);
        socket.on('close', () => clearInterval(timer));
      });
      const sidecar = await sidecarFor(upstream, { UPSTREAM_TIMEOUT_MS: '800' });
      const answer = await rawExchange(portOf(sidecar.proxyUrl), [get('/api/v1/reports')], 8_000);
      expect(answer.status).toBe(504);
      expect(problemOf(answer).type).toBe('urn:stagecraft:problem:upstream-timeout');
      expect(answer.elapsedMs).toBeGreaterThanOrEqual(750);
      expect(answer.elapsedMs).toBeLessThan(2_000);
    },
  );

  it('answers 502 for an upstream answer that is not HTTP, without retrying it', async () => {
    let attempts = 0;
    const upstream = await rawUpstream((socket) => {
      attempts++;
      socket.end('SSH-2.0-OpenSSH_9.6\r\n');
    });
    const sidecar = await sidecarFor(upstream);
    const answer = await rawExchange(portOf(sidecar.proxyUrl), [get('/api/v1/reports')]);
    expect(answer.status).toBe(502);
    expect(problemOf(answer).type).toBe('urn:stagecraft:problem:upstream-protocol');
    expect(attempts).toBe(1);
  });

  it('bounds the wait for a pooled socket: a request queued behind 256 hung ones gets its 504 on time', async () => {
    const upstream = await startUpstream(() => undefined); // never answers
    open.push(upstream);
    // Two seconds, so that opening 257 connections on a busy machine stays far
    // inside the margin: "on time" means near one timeout, not a socket wait
    // followed by a whole second timeout (twice as long).
    const timeoutMs = 2_000;
    const sidecar = await sidecarFor(upstream.url, { UPSTREAM_TIMEOUT_MS: String(timeoutMs) });
    const port = portOf(sidecar.proxyUrl);
    const hung = Array.from({ length: 256 }, () => rawExchange(port, [get('/api/v1/reports')], 10_000));
    await new Promise((resolve) => setTimeout(resolve, 300)); // the pool is full
    const queued = await rawExchange(port, [get('/api/v1/reports')], 10_000);
    expect(queued.status).toBe(504);
    expect(queued.elapsedMs).toBeLessThan(1.6 * timeoutMs);
    for (const answer of await Promise.all(hung)) expect(answer.status).toBe(504);
  });
});

describe('hop-by-hop headers', () => {
  it('strips them from requests, with every field the Connection lines name, and keeps the body and id', async () => {
    let seen: { headers: IncomingMessage['headers']; body: string } | undefined;
    const upstream = await startUpstream((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen = { headers: req.headers, body };
        res.end('ok');
      });
    });
    open.push(upstream);
    const sidecar = await sidecarFor(upstream.url);
    const answer = await rawExchange(portOf(sidecar.proxyUrl), [
      'POST /api/v1/count?base=x HTTP/1.1\r\nHost: sidecar\r\n' +
        'Connection: keep-alive, X-Secret , x-other,Content-Length, Host, X-Request-Id\r\n' +
        'connection: X-Third\r\n' +
        'X-Secret: s\r\nX-Other: o\r\nX-Third: t\r\nX-Kept: k\r\n' +
        'Keep-Alive: timeout=1\r\nTE: trailers\r\nTrailer: X-Sum\r\nProxy-Authorization: Basic eDp5\r\n' +
        'Proxy-Connection: close\r\nX-Request-Id: trace-1\r\nContent-Type: text/html\r\nContent-Length: 11\r\n\r\n' +
        '<a href=x>.',
    ]);
    expect(answer.status).toBe(200);
    expect(seen?.body).toBe('<a href=x>.');
    for (const name of [
      'x-secret',
      'x-other',
      'x-third',
      'keep-alive',
      'te',
      'trailer',
      'proxy-authorization',
      'proxy-connection',
    ]) {
      expect(seen?.headers[name], name).toBeUndefined();
    }
    expect(seen?.headers.connection).toBe('keep-alive'); // the sidecar's own, to its pool
    expect(seen?.headers).toMatchObject({
      'x-kept': 'k',
      'x-request-id': 'trace-1',
      'content-length': '11',
      host: 'sidecar',
    });
  });

  it('streams a chunked request body whose Connection names Transfer-Encoding', async () => {
    let seen: { te?: string; body: string } | undefined;
    const upstream = await startUpstream((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen = { te: req.headers['transfer-encoding'], body };
        res.end('ok');
      });
    });
    open.push(upstream);
    const sidecar = await sidecarFor(upstream.url);
    const answer = await rawExchange(portOf(sidecar.proxyUrl), [
      'DELETE /api/v1/reports/1 HTTP/1.1\r\nHost: s\r\nConnection: Transfer-Encoding, close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
      [100, '6\r\n world\r\n0\r\n\r\n'],
    ]);
    expect(answer.status).toBe(200);
    expect(seen).toEqual({ te: 'chunked', body: 'hello world' });
  });

  it('strips them from responses, and the client keeps its own keep-alive connection', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, {
        connection: 'close, X-Up-Secret',
        'x-up-secret': 's',
        'keep-alive': 'timeout=1',
        'proxy-authenticate': 'Basic realm="x"',
        'proxy-connection': 'close',
        trailer: 'X-Sum',
        upgrade: 'h2c',
        'x-kept': 'k',
        'content-type': 'text/plain',
      });
      res.end('body');
    });
    open.push(upstream);
    const sidecar = await sidecarFor(upstream.url);
    const answer = await rawExchange(portOf(sidecar.proxyUrl), [
      'GET /api/v1/reports HTTP/1.1\r\nHost: s\r\n\r\n',
      [300, get('/api/v1/reports')],
    ]);
    const heads = answer.text.split(/(?=HTTP\/1\.1 )/);
    expect(heads).toHaveLength(2); // the first answer left the connection open for the second
    const first = heads[0]!.toLowerCase();
    expect(first).toMatch(/\r\nconnection: keep-alive\r\n/);
    expect(first).toMatch(/\r\nx-kept: k\r\n/);
    for (const name of ['x-up-secret', 'proxy-authenticate', 'proxy-connection', 'trailer', 'upgrade']) {
      expect(first, name).not.toContain(`\r\n${name}:`);
    }
    expect(first).not.toMatch(/keep-alive: timeout=1\b/);
  });

  it("does not let a client's Connection: close cost the pooled upstream connection", async () => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      res.end('ok');
    });
    open.push(upstream);
    const sidecar = await sidecarFor(upstream.url);
    for (let i = 0; i < 3; i++) {
      const answer = await rawExchange(portOf(sidecar.proxyUrl), [get('/api/v1/reports')]);
      expect(answer.status).toBe(200);
      expect(answer.closedByServer).toBe(true); // the client's own connection closes, as it asked
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(upstream.openSockets()).toBe(1); // one pooled connection, still open, served all three
  });
});

describe('Upgrade and Expect requests', () => {
  it('serves an Upgrade request as a plain one: no upgrade upstream, an answer at once, then the connection closes', async () => {
    let upgrades = 0;
    let seen: IncomingMessage['headers'] | undefined;
    const server: Server = createHttpServer((req, res) => {
      seen = req.headers;
      res.end('plain');
    });
    server.on('upgrade', (_req, socket: Socket) => {
      upgrades++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({
      close: () => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
    });
    const sidecar = await sidecarFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const answer = await rawExchange(portOf(sidecar.proxyUrl), [
      'GET /api/v1/reports HTTP/1.1\r\nHost: s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    ]);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('plain');
    expect(answer.head).toMatch(/\r\nconnection: close/i);
    expect(answer.closedByServer).toBe(true);
    expect(answer.elapsedMs).toBeLessThan(2_000);
    expect(upgrades).toBe(0);
    expect(seen?.upgrade).toBeUndefined();
    expect(seen?.['sec-websocket-key']).toBe('dGhlIHNhbXBsZSBub25jZQ==');
  });

  it('forwards an Expect: 100-continue request without the expectation, metered like any other', async () => {
    let seen: { expect?: string; body: string } | undefined;
    const upstream = await startUpstream((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen = { expect: req.headers.expect, body };
        res.end('ok');
      });
    });
    open.push(upstream);
    const sidecar = await sidecarFor(upstream.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${sidecar.proxyUrl}/api/v1/count?base=x`, {
        method: 'POST',
        headers: { expect: '100-continue', 'content-type': 'text/html', 'content-length': '13' },
      });
      req.on('continue', () => req.end('<a href="/x">'));
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
    });
    expect(status).toBe(200);
    expect(seen).toEqual({ expect: undefined, body: '<a href="/x">' });
    const expo = await scrape(sidecar);
    expect(
      sampleValue(expo, 'http_server_request_body_size_bytes_sum', {
        http_request_method: 'POST',
        http_route: '/api/v1/count',
      }),
    ).toBe(13);
  });
});

describe('requests RFC 9112 says to refuse, on both ports', () => {
  const refused: [string, string, number][] = [
    ['two Host lines', 'GET /api/v1/reports HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['an HTTP/1.1 request without Host', 'GET /api/v1/reports HTTP/1.1\r\nX: y\r\n\r\n', 400],
    ['a Host that is not host[:port]', 'GET /api/v1/reports HTTP/1.1\r\nHost: a b\r\n\r\n', 400],
    ['an HTTP/0.9 request line', 'GET /api/v1/reports\r\n\r\n', 400],
    ['HTTP/2.0 spoken as text', 'GET /api/v1/reports HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    [
      'two Content-Length values',
      'POST /api/v1/reports HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      400,
    ],
  ];

  it.each(refused)(
    'refuses %s on the proxied port; the upstream never sees it',
    async (_name, text, status) => {
      let hits = 0;
      const upstream = await startUpstream((_req, res) => {
        hits++;
        res.end();
      });
      open.push(upstream);
      const sidecar = await sidecarFor(upstream.url);
      const answer = await rawExchange(portOf(sidecar.proxyUrl), [text]);
      expect(answer.status).toBe(status);
      expect(problemOf(answer).status).toBe(status);
      expect(answer.closedByServer).toBe(true);
      expect(hits).toBe(0);
    },
  );

  it.each(refused)('refuses %s on the metrics port', async (_name, text, status) => {
    const sidecar = await sidecarFor('http://127.0.0.1:9');
    const answer = await rawExchange(portOf(sidecar.metricsUrl), [
      text.replace('/api/v1/reports', '/metrics'),
    ]);
    expect(answer.status).toBe(status);
    expect(problemOf(answer).status).toBe(status);
  });
});

describe('slow clients', () => {
  const timeouts = { HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '3000' };

  it('cuts headers that trickle past HEADERS_TIMEOUT_MS with a 408 problem', async () => {
    const sidecar = await sidecarFor('http://127.0.0.1:9', timeouts);
    const trickle = Array.from({ length: 20 }, (_, i) => [250, `X-${i}: y\r\n`] as [number, string]);
    const answer = await rawExchange(portOf(sidecar.proxyUrl), [
      'GET /api/v1/reports HTTP/1.1\r\nHost: s\r\n',
      ...trickle,
    ]);
    expect(answer.status).toBe(408);
    expect(problemOf(answer).type).toBe('urn:stagecraft:problem:request-timeout');
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(950);
    expect(answer.elapsedMs).toBeLessThan(2_500);
  });

  it('cuts a body trickled one byte a second at REQUEST_TIMEOUT_MS with a metered 408, and the upstream attempt with it', async () => {
    let upstreamClosed = false;
    let upstreamBytes = 0;
    const upstream = await startUpstream((req, res) => {
      req.on('data', (c: Buffer) => (upstreamBytes += c.length));
      req.on('close', () => (upstreamClosed = true));
      req.on('end', () => res.end('complete'));
    });
    open.push(upstream);
    const sidecar = await sidecarFor(upstream.url, timeouts);
    const trickle = Array.from({ length: 30 }, () => [1_000, 'x'] as [number, string]);
    const answer = await rawExchange(
      portOf(sidecar.proxyUrl),
      [
        'POST /api/v1/count?base=x HTTP/1.1\r\nHost: s\r\nContent-Type: text/html\r\nContent-Length: 30\r\n\r\n',
        ...trickle,
      ],
      12_000,
    );
    expect(answer.status).toBe(408);
    expect(problemOf(answer).type).toBe('urn:stagecraft:problem:request-timeout');
    expect(answer.closedByServer).toBe(true);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(2_950);
    expect(answer.elapsedMs).toBeLessThan(4_500);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(upstreamBytes).toBeGreaterThan(0); // the body was streaming upstream...
    expect(upstreamBytes).toBeLessThan(30);
    expect(upstreamClosed).toBe(true); // ...and the attempt was cut with the client
    const expo = await scrape(sidecar);
    expect(
      sampleValue(expo, 'http_server_request_duration_seconds_count', {
        http_request_method: 'POST',
        http_route: '/api/v1/count',
        http_response_status_code: '408',
      }),
    ).toBe(1);
  });

  it('cuts a client that stops reading a large answer, without blaming the upstream', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const block = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (res.write(block));
        res.once('drain', pump);
      };
      pump();
    });
    open.push(upstream);
    const sidecar = await sidecarFor(upstream.url, { UPSTREAM_TIMEOUT_MS: '500' });
    const socket = connect(portOf(sidecar.proxyUrl), '127.0.0.1');
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(get('/api/v1/reports'));
    socket.once('data', () => socket.pause()); // read the head, then nothing more
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(upstream.openSockets()).toBe(0); // the sidecar let go of the upstream...
    socket.resume(); // (a paused socket notices no close: read what is left)
    await closed; // ...and of the client
    const expo = await scrape(sidecar);
    for (const kind of ['refused', 'reset', 'timeout', 'protocol', 'other'])
      expect(sampleValue(expo, 'stagecraft_proxy_upstream_failures_total', { kind }), kind).toBe(0);
  });

  it('keeps the upstream deadline off a body that is still arriving', async () => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      req.on('end', () => res.end('whole body'));
    });
    open.push(upstream);
    // The body takes 1.5 s, longer than UPSTREAM_TIMEOUT_MS; the upstream answers at once after it.
    const sidecar = await sidecarFor(upstream.url, { UPSTREAM_TIMEOUT_MS: '500' });
    const trickle = Array.from({ length: 6 }, () => [250, 'x'] as [number, string]);
    const answer = await rawExchange(
      portOf(sidecar.proxyUrl),
      [
        'POST /api/v1/count?base=x HTTP/1.1\r\nHost: s\r\nContent-Length: 6\r\nConnection: close\r\n\r\n',
        ...trickle,
      ],
      8_000,
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('whole body');
  });
});
