/**
 * The fetcher against recording fakes: the resolver and the socket factory are
 * injected, so a test sees every address the fetcher would connect to, and no
 * destination outside 127.0.0.1 is ever really contacted. Real connections go
 * only to fixture servers on loopback addresses.
 */
import { Duplex } from 'node:stream';
import {
  createServer as createTcpServer,
  connect as netConnect,
  type AddressInfo,
  type Socket,
} from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectOptions, type FetchOptions, type SocketFactory } from '../../src/fetch/fetch-page.js';
import { AllowList, SsrfGuard } from '../../src/fetch/ssrf-guard.js';
import { fetchRaw } from '../helpers/fetch-raw.js';
import { html, redirect, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';

/** A socket factory that records the attempt and refuses it: nothing leaves the process. */
function refusingFactory(): { connect: SocketFactory; attempts: ConnectOptions[] } {
  const attempts: ConnectOptions[] = [];
  return {
    attempts,
    connect: (options) => {
      attempts.push(options);
      const socket = new Duplex({
        read() {},
        write(_c, _e, cb) {
          cb();
        },
      });
      process.nextTick(() =>
        socket.destroy(Object.assign(new Error('refused by test'), { code: 'ECONNREFUSED' })),
      );
      return socket;
    },
  };
}

/** A socket factory that only ever dials 127.0.0.1, whatever address the fetcher asks for. */
function loopbackOnlyFactory(attempts: ConnectOptions[]): SocketFactory {
  return (options) => {
    attempts.push(options);
    if (!options.address.startsWith('127.')) throw new Error(`test would have dialled ${options.address}`);
    return netConnect({ host: options.address, port: options.port });
  };
}

function options(overrides: Partial<FetchOptions> = {}): FetchOptions {
  return {
    guard: new SsrfGuard(new AllowList([])),
    timeoutMs: 3_000,
    connectTimeoutMs: 1_000,
    maxBytes: 1024 * 1024,
    maxRedirects: 5,
    ...overrides,
  };
}

const sink = () => undefined;

describe('SSRF guard at connect time (resolver and sockets faked)', () => {
  it.each([
    ['private', '10.0.0.5'],
    ['loopback', '127.0.0.1'],
    ['cloud metadata', '169.254.169.254'],
    ['link-local', '169.254.1.1'],
    ['CGNAT', '100.64.1.1'],
    ['unique-local IPv6', 'fd00::1'],
    ['IPv4-mapped IPv6 loopback', '::ffff:127.0.0.1'],
    ['IPv6 loopback', '::1'],
  ])('a name resolving to a %s address is refused before any socket opens', async (_range, address) => {
    const { connect, attempts } = refusingFactory();
    const resolved: string[] = [];
    const resolve = async (hostname: string) => {
      resolved.push(hostname);
      return [{ address, family: address.includes(':') ? 6 : 4 }];
    };
    await expect(
      fetchRaw('http://innocent.example/', sink, options({ resolve, connect })),
    ).rejects.toMatchObject({
      failure: 'forbidden-destination',
    });
    expect(resolved).toEqual(['innocent.example']);
    expect(attempts).toEqual([]);
  });

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]/',
    'http://[::ffff:a00:1]/',
    'http://[fe80::1]/',
    'http://0x7f000001/', // WHATWG URL turns hex, octal and decimal forms into dotted quads
    'http://017700000001/',
    'http://2130706433/',
    'http://127.1/',
  ])('an address literal %s is refused without resolving or connecting', async (url) => {
    const { connect, attempts } = refusingFactory();
    let resolved = 0;
    const resolve = async () => {
      resolved++;
      return [];
    };
    await expect(fetchRaw(url, sink, options({ resolve, connect }))).rejects.toMatchObject({
      failure: 'forbidden-destination',
    });
    expect(resolved).toBe(0);
    expect(attempts).toEqual([]);
  });

  it('a name resolving to public and private addresses is refused as a whole', async () => {
    const { connect, attempts } = refusingFactory();
    const resolve = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '10.0.0.1', family: 4 },
    ];
    await expect(
      fetchRaw('http://mixed.example/', sink, options({ resolve, connect })),
    ).rejects.toMatchObject({
      failure: 'forbidden-destination',
    });
    expect(attempts).toEqual([]);
  });

  it('a public address passes the guard and reaches the socket factory (which refuses it)', async () => {
    const { connect, attempts } = refusingFactory();
    const resolve = async () => [{ address: '93.184.215.14', family: 4 }];
    await expect(
      fetchRaw('https://public.example/x', sink, options({ resolve, connect })),
    ).rejects.toMatchObject({
      failure: 'connect-failure',
    });
    expect(attempts).toEqual([
      { address: '93.184.215.14', port: 443, tls: true, servername: 'public.example' },
    ]);
  });

  it('an allow-listed name rebound to loopback is refused before any socket opens', async () => {
    const { connect, attempts } = refusingFactory();
    const guard = new SsrfGuard(new AllowList(['fixtures.internal']));
    for (const address of ['127.0.0.1', '169.254.169.254', '::1']) {
      const resolve = async () => [{ address, family: address.includes(':') ? 6 : 4 }];
      await expect(
        fetchRaw('http://fixtures.internal/', sink, options({ guard, resolve, connect })),
      ).rejects.toMatchObject({ failure: 'forbidden-destination' });
    }
    expect(attempts).toEqual([]);
  });

  it('an allow-listed name matches whatever case, trailing dot or width the URL spells it in', async () => {
    const { connect, attempts } = refusingFactory();
    const guard = new SsrfGuard(new AllowList(['fixtures.internal']));
    const resolve = async () => [{ address: '10.0.0.7', family: 4 }];
    for (const url of [
      'http://FIXTURES.Internal/',
      'http://fixtures.internal./',
      'http://\uff46\uff49\uff58\uff54\uff55\uff52\uff45\uff53.internal/',
    ]) {
      await expect(fetchRaw(url, sink, options({ guard, resolve, connect }))).rejects.toMatchObject({
        failure: 'connect-failure', // allowed by the guard, then refused by the test's socket factory
      });
    }
    expect(attempts.map((a) => a.address)).toEqual(['10.0.0.7', '10.0.0.7', '10.0.0.7']);
    await expect(
      fetchRaw('http://fixtures.internal.evil/', sink, options({ guard, resolve, connect })),
    ).rejects.toMatchObject({ failure: 'forbidden-destination' });
    expect(attempts).toHaveLength(3);
  });

  it('a bad port is refused before DNS and before any socket opens', async () => {
    const { connect, attempts } = refusingFactory();
    const resolved: string[] = [];
    const resolve = async (hostname: string) => {
      resolved.push(hostname);
      return [{ address: '93.184.215.14', family: 4 }];
    };
    for (const url of ['http://mail.example:25/', 'http://93.184.215.14:22/', 'https://irc.example:6697/']) {
      await expect(fetchRaw(url, sink, options({ resolve, connect }))).rejects.toMatchObject({
        failure: 'forbidden-destination',
      });
    }
    expect(resolved).toEqual([]);
    expect(attempts).toEqual([]);
  });

  it('a bad port is reached only when the allow list names that host and port', async () => {
    const { connect, attempts } = refusingFactory();
    const resolve = async () => [{ address: '93.184.215.14', family: 4 }];
    const guard = new SsrfGuard(new AllowList(['mail.example:25']));
    await expect(
      fetchRaw('http://mail.example:25/', sink, options({ guard, resolve, connect })),
    ).rejects.toMatchObject({ failure: 'connect-failure' });
    await expect(
      fetchRaw('http://other.example:25/', sink, options({ guard, resolve, connect })),
    ).rejects.toMatchObject({ failure: 'forbidden-destination' });
    expect(attempts.map((a) => `${a.address}:${a.port}`)).toEqual(['93.184.215.14:25']);
  });

  it('DNS rebinding: the address checked is the address connected to, on every hop', async () => {
    const fixture = await startFixtureServer({ '/start': redirect('http://rebind.example/next') });
    try {
      const attempts: ConnectOptions[] = [];
      const answers = ['127.0.0.1', '10.0.0.9']; // first lookup fine (allow-listed), second rebinds to private
      const resolve = async () => [{ address: answers.shift() ?? '10.0.0.9', family: 4 }];
      const guard = new SsrfGuard(new AllowList(['127.0.0.1']));
      await expect(
        fetchRaw(
          `http://rebind.example:${fixture.port}/start`,
          sink,
          options({ guard, resolve, connect: loopbackOnlyFactory(attempts) }),
        ),
      ).rejects.toMatchObject({ failure: 'forbidden-destination' });
      expect(attempts.map((a) => a.address)).toEqual(['127.0.0.1']);
    } finally {
      await fixture.close();
    }
  });
});

describe('fetching from fixture servers on 127.0.0.1', () => {
  let fixture: FixtureServer;
  let blocked: FixtureServer;
  const guard = new SsrfGuard(new AllowList(['127.0.0.1']));

  beforeAll(async () => {
    // 127.0.0.2 is loopback too, but not allow-listed: a server there must never see a connection.
    blocked = await startFixtureServer({ '/': html('<a href="/secret">') }, '127.0.0.2');
    fixture = await startFixtureServer({
      '/page': html('<a href="/x"><a href="http://o.org/">'),
      '/chain/1': redirect('/chain/2', 301),
      '/chain/2': redirect('/chain/3', 307),
      '/chain/3': redirect('/page', 308),
      '/loop': redirect('/loop'),
      '/to-blocked': (_req, res) => res.writeHead(302, { location: blocked.url('/') }).end(),
      '/to-ftp': redirect('ftp://files.example/x'),
      '/json': html('{}', 200, 'application/json'),
      '/no-type': (_req, res) => res.end('<a href="/x">'),
      '/big': html('<p>' + 'x'.repeat(4096) + '</p>'),
      '/big-chunked': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        for (let i = 0; i < 64; i++) res.write('y'.repeat(1024));
        res.end();
      },
      '/hang': () => undefined,
      '/reset': (req) => req.socket.destroy(),
      '/half': (req, res) => {
        res.writeHead(200, { 'content-type': 'text/html', 'content-length': '1000' });
        res.write('<a href="/x">');
        setTimeout(() => req.socket.destroy(), 20);
      },
      '/not-found': html('<a href="/home">', 404),
      '/to-smtp': redirect('http://127.0.0.1:25/'),
      '/to-long': (_req, res) => res.writeHead(302, { location: '/page?' + 'q'.repeat(3000) }).end(),
      '/trickle': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        const timer = setInterval(() => res.write('<'), 20);
        res.once('close', () => clearInterval(timer));
      },
    });
  });
  afterAll(async () => {
    await fixture.close();
    await blocked.close();
  });

  it('streams the body to the sink and reports the facts', async () => {
    const chunks: Buffer[] = [];
    const facts = await fetchRaw(fixture.url('/page'), (c) => chunks.push(c), options({ guard }));
    expect(Buffer.concat(chunks).toString()).toBe('<a href="/x"><a href="http://o.org/">');
    expect(facts).toMatchObject({
      finalUrl: fixture.url('/page'),
      status: 200,
      contentType: 'text/html',
      bytes: 37,
      redirects: 0,
    });
    expect(facts.durationMs).toBeGreaterThan(0);
  });

  it('follows a redirect chain and says where it ended', async () => {
    const facts = await fetchRaw(fixture.url('/chain/1'), sink, options({ guard }));
    expect(facts).toMatchObject({ finalUrl: fixture.url('/page'), redirects: 3 });
  });

  it('stops a redirect loop', async () => {
    await expect(fetchRaw(fixture.url('/loop'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'too-many-redirects',
    });
  });

  it('counts a limit of redirects exactly', async () => {
    await expect(
      fetchRaw(fixture.url('/chain/1'), sink, options({ guard, maxRedirects: 2 })),
    ).rejects.toMatchObject({
      failure: 'too-many-redirects',
    });
  });

  it('refuses a redirect to a blocked address, which never sees a connection', async () => {
    await expect(fetchRaw(fixture.url('/to-blocked'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'forbidden-destination',
    });
    expect(blocked.connections()).toBe(0);
  });

  it('refuses a blocked address given directly, which never sees a connection', async () => {
    await expect(fetchRaw(blocked.url('/'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'forbidden-destination',
    });
    expect(blocked.connections()).toBe(0);
  });

  it('refuses a redirect to another scheme', async () => {
    await expect(fetchRaw(fixture.url('/to-ftp'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'bad-redirect',
    });
  });

  it('refuses what is not HTML', async () => {
    await expect(fetchRaw(fixture.url('/json'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'not-html',
    });
    await expect(fetchRaw(fixture.url('/no-type'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'not-html',
    });
  });

  it('enforces the size cap from Content-Length and while streaming', async () => {
    await expect(
      fetchRaw(fixture.url('/big'), sink, options({ guard, maxBytes: 1024 })),
    ).rejects.toMatchObject({
      failure: 'page-too-large',
    });
    let received = 0;
    await expect(
      fetchRaw(
        fixture.url('/big-chunked'),
        (c) => (received += c.length),
        options({ guard, maxBytes: 10 * 1024 }),
      ),
    ).rejects.toMatchObject({ failure: 'page-too-large' });
    expect(received).toBeLessThanOrEqual(10 * 1024);
  });

  it('times out a server that never answers', async () => {
    const started = Date.now();
    await expect(
      fetchRaw(fixture.url('/hang'), sink, options({ guard, timeoutMs: 300 })),
    ).rejects.toMatchObject({
      failure: 'timeout',
    });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('reports a reset connection and a body cut short', async () => {
    await expect(fetchRaw(fixture.url('/reset'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'upstream-reset',
    });
    await expect(fetchRaw(fixture.url('/half'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'upstream-reset',
    });
  });

  it('reports a refused connection', async () => {
    const gone = await startFixtureServer({});
    const url = gone.url('/');
    await gone.close();
    await expect(fetchRaw(url, sink, options({ guard }))).rejects.toMatchObject({
      failure: 'connect-failure',
    });
  });

  it('refuses a redirect to a bad port of an allowed address, which is never dialled', async () => {
    const attempts: ConnectOptions[] = [];
    await expect(
      fetchRaw(fixture.url('/to-smtp'), sink, options({ guard, connect: loopbackOnlyFactory(attempts) })),
    ).rejects.toMatchObject({ failure: 'forbidden-destination' });
    expect(attempts.map((a) => a.port)).toEqual([fixture.port]);
  });

  it('refuses a redirect to a URL longer than a client may send (2048 characters)', async () => {
    await expect(fetchRaw(fixture.url('/to-long'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'bad-redirect',
    });
  });

  it('sends the page server no header beyond the four a fetch needs (no X-Request-Id)', async () => {
    await fetchRaw(fixture.url('/page'), sink, options({ guard }));
    const headers = Object.keys(fixture.requests.at(-1)!.headers).sort();
    expect(headers).toEqual(['accept', 'accept-encoding', 'connection', 'host', 'user-agent']);
  });

  it('times out a body trickled a byte at a time, at the total deadline', async () => {
    const started = performance.now();
    let received = 0;
    await expect(
      fetchRaw(fixture.url('/trickle'), (c) => (received += c.length), options({ guard, timeoutMs: 400 })),
    ).rejects.toMatchObject({ failure: 'timeout' });
    expect(performance.now() - started).toBeLessThan(400 + 300);
    expect(received).toBeGreaterThan(0); // the body was flowing, one byte at a time
  });

  it('counts an error page like any page, with its status', async () => {
    const facts = await fetchRaw(fixture.url('/not-found'), sink, options({ guard }));
    expect(facts.status).toBe(404);
  });

  it('rejects other schemes and credentials before any I/O', async () => {
    await expect(fetchRaw('ftp://127.0.0.1/', sink, options({ guard }))).rejects.toMatchObject({
      failure: 'unsupported-scheme',
    });
    await expect(fetchRaw('file:///etc/passwd', sink, options({ guard }))).rejects.toMatchObject({
      failure: 'unsupported-scheme',
    });
    await expect(fetchRaw('http://u:p@127.0.0.1/', sink, options({ guard }))).rejects.toMatchObject({
      failure: 'invalid-url',
    });
    await expect(fetchRaw('/relative', sink, options({ guard }))).rejects.toMatchObject({
      failure: 'invalid-url',
    });
  });
});

/** A TCP server on 127.0.0.1 that does what `onSocket` says (usually: nearly nothing), and reports closes. */
async function startRawServer(
  onSocket: (socket: Socket) => void,
): Promise<{ port: number; closedAt: number[]; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const closedAt: number[] = [];
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      sockets.delete(socket);
      closedAt.push(performance.now());
    });
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    closedAt,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the total deadline covers every phase (servers on 127.0.0.1)', () => {
  const guard = new SsrfGuard(new AllowList(['127.0.0.1']));

  it('cuts a TLS handshake that never completes at the deadline, and closes its socket then', async () => {
    // Reads the ClientHello (so it sees the client's close) and never answers it.
    const silent = await startRawServer((socket) => socket.resume());
    try {
      const started = performance.now();
      await expect(
        fetchRaw(
          `https://127.0.0.1:${silent.port}/`,
          sink,
          options({ guard, timeoutMs: 300, connectTimeoutMs: 5_000 }),
        ),
      ).rejects.toMatchObject({ failure: 'timeout' });
      const failedAt = performance.now();
      expect(failedAt - started).toBeLessThan(300 + 300);
      // Nothing the fetch opened outlives it: the socket is closed at the deadline,
      // not when the (longer) connect timeout would have fired.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(silent.closedAt).toHaveLength(1);
      expect(silent.closedAt[0]! - failedAt).toBeLessThan(250);
    } finally {
      await silent.close();
    }
  });

  it('cuts response headers trickled a byte at a time at the deadline', async () => {
    const head = 'HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nx-slow: ' + 'a'.repeat(10_000);
    const trickler = await startRawServer((socket) => {
      let i = 0;
      const timer = setInterval(() => socket.write(head[i++ % head.length]!), 20);
      socket.once('close', () => clearInterval(timer));
    });
    try {
      const started = performance.now();
      await expect(
        fetchRaw(`http://127.0.0.1:${trickler.port}/`, sink, options({ guard, timeoutMs: 400 })),
      ).rejects.toMatchObject({ failure: 'timeout' });
      expect(performance.now() - started).toBeLessThan(400 + 300);
    } finally {
      await trickler.close();
    }
  });
});
