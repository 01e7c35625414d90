/**
 * Hostile input against the production stack through its only door, the gateway
 * (own project, 127.0.0.1:18083). Everything behind the gateway is on an internal
 * network with no way out (e2e/compose.sealed.yml), and SSRF probes use loopback
 * forms and the stack's own container names only. Each hostile request must get a
 * clear 4xx problem document, store nothing, and leave every service up. Then the
 * containers' hardening is tried from inside.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, composeEnv, mustCompose, type ComposeProject } from './helpers/compose.js';
import { REPO_ROOT, docker, nodeInContainer, requireDocker, run } from './helpers/docker.js';
import { call } from './helpers/load.js';

const stack: ComposeProject = {
  project: 'stagecraft-e2e-hostile',
  files: ['docker-compose.prod.yml', 'e2e/compose.fixtures.yml', 'e2e/compose.sealed.yml'],
  cwd: REPO_ROOT,
  env: composeEnv({ gateway: 18083, prometheus: 19093 }),
};
const PORT = 18083;
const gateway = `http://127.0.0.1:${PORT}`;

interface RawAnswer {
  status?: number;
  head: string;
  body: string;
  /** Milliseconds until the gateway closed the connection (or the test gave up). */
  closedAfterMs: number;
}

/** Writes bytes exactly as given (no client normalises them) and reads until the server closes. */
function rawRequest(
  chunks: (string | Buffer)[],
  options: { gapMs?: number; giveUpMs?: number } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(PORT, '127.0.0.1');
    const received: Buffer[] = [];
    const finish = () => {
      clearTimeout(giveUp);
      const text = Buffer.concat(received).toString('latin1');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
      resolve({
        status: status === undefined ? undefined : Number(status),
        head,
        body: rest.join('\r\n\r\n'),
        closedAfterMs: Date.now() - started,
      });
    };
    const giveUp = setTimeout(() => socket.destroy(), options.giveUpMs ?? 30_000);
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('close', finish);
    socket.on('error', () => undefined);
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
      }
    });
  });
}

function problemOf(answer: { body?: string; contentType?: string }): { type: string; status: number } {
  expect(answer.contentType ?? '').toMatch(/^application\/problem\+json/);
  return JSON.parse(answer.body!) as { type: string; status: number };
}

async function reportCount(): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const r = await call(`${gateway}/api/v1/reports?limit=100${cursor ? `&cursor=${cursor}` : ''}`, {});
    const page = JSON.parse(r.body!) as { items: unknown[]; nextCursor: string | null };
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return count;
}

const json = (body: string, type = 'application/json') => ({
  method: 'POST',
  headers: { 'content-type': type },
  body,
});

let storedBefore = 0;

beforeAll(async () => {
  requireDocker();
  compose(stack, 'down', '-v', '--remove-orphans');
  mustCompose(stack, 'up', '-d', '--build', '--wait', '--wait-timeout', '180');
  // One real report, so "nothing stored" is measured against a non-empty store.
  const seeded = await call(
    `${gateway}/api/v1/reports`,
    json(JSON.stringify({ url: 'http://fixtures:8000/page.html' })),
  );
  expect(seeded.status).toBe(201);
  storedBefore = await reportCount();
});

afterAll(() => {
  compose(stack, 'down', '-v', '--remove-orphans');
});

describe('malformed requests', () => {
  it.each([
    ['malformed JSON', json('{"url": '), 400, 'malformed-json'],
    ['JSON that is not an object', json('"http://fixtures:8000/"'), 400, 'invalid-body'],
    [
      'a wrong content type',
      json('url=http://fixtures:8000/', 'application/x-www-form-urlencoded'),
      415,
      'unsupported-media-type',
    ],
    [
      'no content type',
      { method: 'POST', body: '{"url":"http://fixtures:8000/page.html"}' },
      415,
      'unsupported-media-type',
    ],
    [
      'a JSON body over the API limit',
      json(JSON.stringify({ url: 'http://x.invalid/' + 'a'.repeat(20_000) })),
      413,
      'body-too-large',
    ],
  ])('POST /api/v1/reports with %s: %i %s', async (_name, init, status, slug) => {
    const r = await call(`${gateway}/api/v1/reports`, init as Parameters<typeof call>[1]);
    expect(r.status).toBe(status);
    expect(problemOf(r).type).toBe(`urn:stagecraft:problem:${slug}`);
  });

  it('refuses a 12 MB body at the gateway (413) before it reaches the API', async () => {
    const sidecarSeenBefore = mustCompose(stack, 'logs', '--no-color', 'sidecar').split('\n').length;
    const r = await call(`${gateway}/api/v1/count?base=http://x.invalid/`, {
      method: 'POST',
      headers: { 'content-type': 'text/html', 'content-length': String(12 * 1024 * 1024) },
      body: 'x'.repeat(12 * 1024 * 1024),
    });
    expect(r.status).toBe(413);
    expect(problemOf(r)).toMatchObject({ type: 'urn:stagecraft:problem:body-too-large' });
    expect(JSON.parse(r.body!).detail).toMatch(/gateway/);
    const sidecarLog = mustCompose(stack, 'logs', '--no-color', 'sidecar').split('\n');
    expect(sidecarLog.slice(sidecarSeenBefore - 1).join('\n')).not.toMatch(/\/api\/v1\/count/);
  });

  it.each([
    ['an unknown method', 'BREW', '/api/v1/reports', 405],
    ['TRACE', 'TRACE', '/api/v1/reports', 405],
    ['PATCH on a report', 'PATCH', '/api/v1/reports/1', 405],
  ])('answers %s with a problem document', async (_name, method, path, status) => {
    const r = await call(gateway + path, { method });
    expect(r.status).toBe(status);
    expect(problemOf(r).status).toBe(status);
  });

  it.each([
    '/api/v1/reports/../../../etc/passwd',
    '/api/v1/reports/..%2f..%2f..%2fetc%2fpasswd',
    '/api/v1/%2e%2e/%2e%2e/metrics',
    '/api/v1/reports/%c0%ae%c0%ae%c0%af',
    '/api/v1/reports/%00',
    '/api/v1/reports/1%20OR%201=1',
    '/api/v1/reports/%ff%fe',
    '/api/v1/reports/１',
    '/api/v1/reports;/../../metrics',
    '/api/v1//reports//1',
  ])('answers the odd path %s with a 4xx problem document', async (path) => {
    const answer = await rawRequest([`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`]);
    expect(answer.status, answer.head).toBeGreaterThanOrEqual(400);
    expect(answer.status, answer.head).toBeLessThan(500);
    expect(answer.head).toMatch(/content-type: application\/problem\+json/i);
    expect(answer.body).not.toMatch(/root:|# HELP/);
  });

  it('answers a 100 KB query string with 414 and a header flood with 431, as problem documents', async () => {
    const longQuery = await rawRequest([
      `GET /api/v1/reports?q=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    ]);
    expect(longQuery.status).toBe(414);
    expect(JSON.parse(longQuery.body)).toMatchObject({ type: 'urn:stagecraft:problem:uri-too-long' });

    const headers = Array.from({ length: 64 }, (_, i) => `X-Flood-${i}: ${'v'.repeat(7_000)}\r\n`).join('');
    const flood = await rawRequest([
      `GET /api/v1/reports HTTP/1.1\r\nHost: localhost\r\n${headers}Connection: close\r\n\r\n`,
    ]);
    expect(flood.status).toBe(431);
    expect(JSON.parse(flood.body)).toMatchObject({ type: 'urn:stagecraft:problem:header-fields-too-large' });
  });

  it('cuts off clients that send headers or a body too slowly, within its timeouts', async () => {
    const [slowHeaders, slowBody] = await Promise.all([
      // A header byte every 2 s: the 10 s header timeout ends it.
      rawRequest(
        [
          'GET /api/v1/reports HTTP/1.1\r\n',
          'Host: localhost\r\n',
          'X-Slow: 1\r\n',
          'X-Slow: 2\r\n',
          'X-Slow: 3\r\n',
          'X-Slow: 4\r\n',
          'X-Slow: 5\r\n',
          'X-Slow: 6\r\n',
          'X-Slow: 7\r\n',
        ],
        { gapMs: 2_000 },
      ),
      // A body announced but never sent: the 15 s body timeout ends it.
      rawRequest([
        'POST /api/v1/count?base=http://x.invalid/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n<a href=x>',
      ]),
    ]);
    console.log(
      `slow headers cut after ${slowHeaders.closedAfterMs} ms, slow body after ${slowBody.closedAfterMs} ms`,
    );
    expect(slowHeaders.closedAfterMs).toBeGreaterThan(9_000);
    expect(slowHeaders.closedAfterMs).toBeLessThan(20_000);
    expect(slowHeaders.status ?? 408).toBe(408);
    expect(slowBody.closedAfterMs).toBeLessThan(25_000);
    expect([undefined, 400, 408]).toContain(slowBody.status);
  });
});

describe("SSRF attempts through the gateway (loopback forms and the stack's own names only)", () => {
  const targets = [
    'http://127.0.0.1:3000/healthz',
    'http://localhost:3000/healthz',
    'http://[::1]:3000/healthz',
    'http://[::ffff:127.0.0.1]:3000/healthz',
    'http://2130706433:3000/healthz',
    'http://0177.0.0.1:3000/healthz',
    'http://0x7f.0.0.1:3000/healthz',
    'http://127.1:3000/healthz',
    'http://0.0.0.0:3000/healthz',
    // Names of this stack's own containers: they resolve to private addresses.
    'http://api:3000/healthz',
    'http://sidecar:9464/metrics',
    'http://gateway:8080/gateway/status',
    // Redirects from an allowed page to each kind of refused destination.
    'http://fixtures:8000/redirect?to=http%3A%2F%2F127.0.0.1%3A3000%2Fhealthz',
    'http://fixtures:8000/redirect?to=http%3A%2F%2F%5B%3A%3A1%5D%3A3000%2F',
    'http://fixtures:8000/redirect?to=http%3A%2F%2F2130706433%3A3000%2F',
    'http://fixtures:8000/redirect?to=http%3A%2F%2Fapi%3A3000%2Fmetrics',
  ];

  it.each(targets)('refuses %s with 403, for counting and for reports, storing nothing', async (target) => {
    const counted = await call(`${gateway}/api/v1/count?url=${encodeURIComponent(target)}`, {});
    expect(counted.status).toBe(403);
    expect(problemOf(counted).type).toBe('urn:stagecraft:problem:forbidden-destination');
    const stored = await call(`${gateway}/api/v1/reports`, json(JSON.stringify({ url: target })));
    expect(stored.status).toBe(403);
  });

  it.each([
    'file:///etc/passwd',
    'gopher://127.0.0.1:3000/',
    'ftp://fixtures/',
    'javascript:alert(1)',
    'http://user:pw@fixtures:8000/page.html',
  ])('refuses %s with a 4xx problem document', async (target) => {
    const r = await call(`${gateway}/api/v1/count?url=${encodeURIComponent(target)}`, {});
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    problemOf(r);
  });
});

describe('pathological pages', () => {
  it.each([
    ['200,000 levels of nesting', '/deep.html', { internal: 1, external: 0 }],
    ['a million links', '/million-links.html', { internal: 1_000_000, external: 0 }],
    ['unterminated tags', '/unterminated.html', { internal: 1, external: 0 }],
    ['binary data served as text/html', '/binary.html', undefined],
  ])('counts a page with %s without failing', async (_name, path, counts) => {
    const r = await call(`${gateway}/api/v1/count?url=${encodeURIComponent(`http://fixtures:8000${path}`)}`, {
      timeoutMs: 60_000,
    });
    expect(r.status, r.body).toBe(200);
    const body = JSON.parse(r.body!) as { internal: number; external: number };
    if (counts !== undefined) expect(body).toMatchObject(counts);
    else expect(Number.isInteger(body.internal) && Number.isInteger(body.external)).toBe(true);
  });
});

describe('a bounded fuzz run', () => {
  /** Random URL-ish strings whose hosts are this stack's fixture site, loopback forms or .invalid names. */
  function fuzzUrl(): string {
    const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
    const junk = (n: number) =>
      Array.from({ length: Math.floor(Math.random() * n) }, () =>
        String.fromCharCode(Math.floor(Math.random() * 0x3000)),
      ).join('');
    const scheme = pick([
      'http://',
      'https://',
      'HTTP://',
      'ftp://',
      'http:/',
      'http:\\\\',
      '',
      '//',
      'data:',
      junk(8),
    ]);
    const host = pick([
      'fixtures:8000',
      '127.0.0.1',
      '[::1]',
      `${randomBytes(4).toString('hex')}.invalid`,
      'fixtures:99999',
      'fixtures:-1',
      junk(12),
      '%00',
      '',
    ]);
    return (
      scheme +
      pick(['', 'u:p@']) +
      host +
      pick(['/', '/page.html', '/redirect?to=' + junk(20), '/' + junk(40), '?' + junk(30), '#' + junk(10)])
    );
  }

  it('500 random pages and 500 random URLs: no crash, no 5xx but upstream errors, nothing stored', async () => {
    const statuses = new Map<number, number>();
    const count = (s: number | undefined) => statuses.set(s ?? 0, (statuses.get(s ?? 0) ?? 0) + 1);
    for (let i = 0; i < 500; i++) {
      const page = randomBytes(Math.floor(Math.random() * 20_000));
      const r = await call(`${gateway}/api/v1/count?base=${encodeURIComponent('http://fuzz.invalid/')}`, {
        method: 'POST',
        headers: { 'content-type': 'text/html' },
        body: page.toString('latin1'),
      });
      count(r.status);
      expect(r.status, `random page ${i}`).toBe(200);
    }
    for (let i = 0; i < 500; i++) {
      const url = fuzzUrl();
      const r = await call(`${gateway}/api/v1/count?url=${encodeURIComponent(url)}`, { timeoutMs: 30_000 });
      count(r.status);
      // 502 and 504 are the page server's failures (a .invalid name does not resolve); anything else must be a 4xx.
      expect([200, 400, 403, 404, 422, 502, 504], `${url} -> ${r.status} ${r.body}`).toContain(r.status);
      if (r.status !== 200) problemOf(r);
    }
    console.log(`fuzz statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  });

  it('left every service up and stored nothing', async () => {
    expect(await reportCount()).toBe(storedBefore);
    const states = mustCompose(stack, 'ps', '--all', '--format', '{{.Service}} {{.State}} {{.Health}}')
      .trim()
      .split('\n');
    for (const line of states) expect(line).toMatch(/ running (healthy|)$/);
    expect(
      run('docker', [
        'inspect',
        '--format',
        '{{.RestartCount}}',
        ...mustCompose(stack, 'ps', '-q').trim().split('\n'),
      ])
        .stdout.trim()
        .split('\n')
        .every((n) => n === '0'),
    ).toBe(true);
  });
});

describe('production containers, tried from inside', () => {
  const tryInside = (service: string, script: string): string => {
    const [id] = mustCompose(stack, 'ps', '-q', service).trim().split('\n');
    return nodeInContainer(id!, script);
  };
  const probe = `
    const fs = require('node:fs'), net = require('node:net');
    const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return e.code; } };
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const field = (name) => status.split('\\n').find((l) => l.startsWith(name + ':')).split(/\\s+/)[1];
    const server = net.createServer().on('error', (e) => done(e.code)).listen(80, '0.0.0.0', () => done('ok'));
    function done(bind) {
      server.close();
      process.stdout.write(JSON.stringify({
        uid: process.getuid(),
        writeRoot: attempt(() => fs.writeFileSync('/app-owned', 'x')),
        writeApp: attempt(() => fs.writeFileSync(process.cwd() + '/x', 'x')),
        writeTmp: attempt(() => fs.writeFileSync('/tmp/x', 'x')),
        bindLowPort: bind,
        capEff: field('CapEff'),
        noNewPrivs: field('NoNewPrivs'),
      }));
    }`;

  it.each(['api', 'sidecar'])(
    '%s: non-root, read-only root, writable tmpfs, no capabilities, no low port',
    (service) => {
      const facts = JSON.parse(tryInside(service, probe)) as Record<string, string | number>;
      expect(facts).toEqual({
        uid: 65532,
        writeRoot: 'EROFS',
        writeApp: 'EROFS',
        writeTmp: 'ok',
        bindLowPort: 'EACCES',
        capEff: '0000000000000000',
        noNewPrivs: '1',
      });
    },
  );

  it('gateway: runs as nginx, read-only root, no capabilities', () => {
    const [id] = mustCompose(stack, 'ps', '-q', 'gateway').trim().split('\n');
    const out = docker(
      'exec',
      id!,
      'bash',
      '-c',
      'id -u; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status; touch /etc/nginx/x 2>&1 || true; touch /var/cache/nginx/x && echo tmpfs-ok',
    );
    expect(out).toMatch(/^101\n/);
    expect(out).toMatch(/CapEff:\s+0000000000000000/);
    expect(out).toMatch(/NoNewPrivs:\s+1/);
    expect(out).toMatch(/Read-only file system/);
    expect(out).toMatch(/tmpfs-ok/);
  });
});
