/**
 * The fetcher against recording fakes: the resolver and the socket factory are
 * injected, so a test sees every address the fetcher would connect to, and no
 * destination outside 127.0.0.1 is ever really contacted. Real connections go
 * only to fixture servers on loopback addresses.
 */
import { Duplex } from 'node:stream';
import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fetchPage,
  type ConnectOptions,
  type FetchOptions,
  type SocketFactory,
} from '../../src/fetch/fetch-page.js';
import { AllowList, SsrfGuard } from '../../src/fetch/ssrf-guard.js';
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
    ['link-local (cloud metadata)', '169.254.169.254'],
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
      fetchPage('http://innocent.example/', sink, options({ resolve, connect })),
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
    await expect(fetchPage(url, sink, options({ resolve, connect }))).rejects.toMatchObject({
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
      fetchPage('http://mixed.example/', sink, options({ resolve, connect })),
    ).rejects.toMatchObject({
      failure: 'forbidden-destination',
    });
    expect(attempts).toEqual([]);
  });

  it('a public address passes the guard and reaches the socket factory (which refuses it)', async () => {
    const { connect, attempts } = refusingFactory();
    const resolve = async () => [{ address: '93.184.215.14', family: 4 }];
    await expect(
      fetchPage('https://public.example/x', sink, options({ resolve, connect })),
    ).rejects.toMatchObject({
      failure: 'connect-failure',
    });
    expect(attempts).toEqual([
      { address: '93.184.215.14', port: 443, tls: true, servername: 'public.example' },
    ]);
  });

  it('DNS rebinding: the address checked is the address connected to, on every hop', async () => {
    const fixture = await startFixtureServer({ '/start': redirect('http://rebind.example/next') });
    try {
      const attempts: ConnectOptions[] = [];
      const answers = ['127.0.0.1', '10.0.0.9']; // first lookup fine (allow-listed), second rebinds to private
      const resolve = async () => [{ address: answers.shift() ?? '10.0.0.9', family: 4 }];
      const guard = new SsrfGuard(new AllowList(['127.0.0.1']));
      await expect(
        fetchPage(
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
    });
  });
  afterAll(async () => {
    await fixture.close();
    await blocked.close();
  });

  it('streams the body to the sink and reports the facts', async () => {
    const chunks: Buffer[] = [];
    const facts = await fetchPage(fixture.url('/page'), (c) => chunks.push(c), options({ guard }));
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
    const facts = await fetchPage(fixture.url('/chain/1'), sink, options({ guard }));
    expect(facts).toMatchObject({ finalUrl: fixture.url('/page'), redirects: 3 });
  });

  it('stops a redirect loop', async () => {
    await expect(fetchPage(fixture.url('/loop'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'too-many-redirects',
    });
  });

  it('counts a limit of redirects exactly', async () => {
    await expect(
      fetchPage(fixture.url('/chain/1'), sink, options({ guard, maxRedirects: 2 })),
    ).rejects.toMatchObject({
      failure: 'too-many-redirects',
    });
  });

  it('refuses a redirect to a blocked address, which never sees a connection', async () => {
    await expect(fetchPage(fixture.url('/to-blocked'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'forbidden-destination',
    });
    expect(blocked.connections()).toBe(0);
  });

  it('refuses a blocked address given directly, which never sees a connection', async () => {
    await expect(fetchPage(blocked.url('/'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'forbidden-destination',
    });
    expect(blocked.connections()).toBe(0);
  });

  it('refuses a redirect to another scheme', async () => {
    await expect(fetchPage(fixture.url('/to-ftp'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'bad-redirect',
    });
  });

  it('refuses what is not HTML', async () => {
    await expect(fetchPage(fixture.url('/json'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'not-html',
    });
    await expect(fetchPage(fixture.url('/no-type'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'not-html',
    });
  });

  it('enforces the size cap from Content-Length and while streaming', async () => {
    await expect(
      fetchPage(fixture.url('/big'), sink, options({ guard, maxBytes: 1024 })),
    ).rejects.toMatchObject({
      failure: 'page-too-large',
    });
    let received = 0;
    await expect(
      fetchPage(
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
      fetchPage(fixture.url('/hang'), sink, options({ guard, timeoutMs: 300 })),
    ).rejects.toMatchObject({
      failure: 'timeout',
    });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('reports a reset connection and a body cut short', async () => {
    await expect(fetchPage(fixture.url('/reset'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'upstream-reset',
    });
    await expect(fetchPage(fixture.url('/half'), sink, options({ guard }))).rejects.toMatchObject({
      failure: 'upstream-reset',
    });
  });

  it('reports a refused connection', async () => {
    const gone = await startFixtureServer({});
    const url = gone.url('/');
    await gone.close();
    await expect(fetchPage(url, sink, options({ guard }))).rejects.toMatchObject({
      failure: 'connect-failure',
    });
  });

  it('counts an error page like any page, with its status', async () => {
    const facts = await fetchPage(fixture.url('/not-found'), sink, options({ guard }));
    expect(facts.status).toBe(404);
  });

  it('rejects other schemes and credentials before any I/O', async () => {
    await expect(fetchPage('ftp://127.0.0.1/', sink, options({ guard }))).rejects.toMatchObject({
      failure: 'unsupported-scheme',
    });
    await expect(fetchPage('file:///etc/passwd', sink, options({ guard }))).rejects.toMatchObject({
      failure: 'unsupported-scheme',
    });
    await expect(fetchPage('http://u:p@127.0.0.1/', sink, options({ guard }))).rejects.toMatchObject({
      failure: 'invalid-url',
    });
    await expect(fetchPage('/relative', sink, options({ guard }))).rejects.toMatchObject({
      failure: 'invalid-url',
    });
  });
});
