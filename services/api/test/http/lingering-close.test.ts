/**
 * Answers sent before the request body was read (413 over FETCH_MAX_BYTES, 401
 * without the token) reach a client that is still uploading, and the connection
 * they close is closed in bounded time (src/http/lingering-close.ts).
 *
 * The API runs as its own process: a reset that throws an answer away is a race
 * between two processes' reads, which a client in the server's own event loop
 * almost never loses (the old code passed 12 of 12 here in-process, and lost 2
 * uploads in 10 as a process). Only 127.0.0.1 is contacted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINGER_MS } from '../../src/http/lingering-close.js';
import { startApiProcess, type ApiProcess } from '../helpers/api-process.js';

const TOKEN = 'lingering-close-token-0123456789abcdef';
const COUNT = `/api/v1/count?base=${encodeURIComponent('http://example.com/')}`;
/** Far over the 4 KB limit, and more than a socket's buffers take in at once. */
const UPLOAD = Buffer.alloc(8 * 1024 * 1024, 'a');
const ROUNDS = 20;

let api: ApiProcess;
let port: number;
let url: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stagecraft-linger-'));
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  api = await startApiProcess({ DATA_DIR: dir, FETCH_MAX_BYTES: '4096', API_TOKEN_FILE: join(dir, 'token') });
  port = api.port;
  url = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  api?.child.kill('SIGTERM');
  await api?.exited;
  rmSync(dir, { recursive: true, force: true });
});

/** The status a fetch() client reads, or the error code it got instead (ECONNRESET before the fix). */
async function statusOf(path: string, init: RequestInit): Promise<string> {
  try {
    const response = await fetch(url + path, { method: 'POST', ...init });
    await response.arrayBuffer();
    return String(response.status);
  } catch (error) {
    return `error ${(error as { cause?: { code?: string } }).cause?.code ?? String(error)}`;
  }
}

const tally = (results: string[]) =>
  results.reduce<Record<string, number>>((counts, r) => ({ ...counts, [r]: (counts[r] ?? 0) + 1 }), {});

/** 8 MB in 64 KB chunks with no Content-Length: refused midway, while more keeps coming. */
function chunkedUpload(): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= UPLOAD.length) return controller.close();
      controller.enqueue(UPLOAD.subarray(sent, sent + 65_536));
      sent += 65_536;
    },
  });
}

describe('an answer sent before the body was read reaches a client that is still uploading', () => {
  it(`413 for a declared 8 MB body, ${ROUNDS} times in a row`, async () => {
    const results: string[] = [];
    for (let i = 0; i < ROUNDS; i++)
      results.push(await statusOf(COUNT, { headers: { 'content-type': 'text/html' }, body: UPLOAD }));
    expect(tally(results)).toEqual({ 413: ROUNDS });
  });

  it(`413 for a chunked body that crosses the limit midway, ${ROUNDS} times in a row`, async () => {
    const results: string[] = [];
    for (let i = 0; i < ROUNDS; i++)
      results.push(
        await statusOf(COUNT, {
          headers: { 'content-type': 'text/html' },
          body: chunkedUpload(),
          duplex: 'half',
        } as RequestInit),
      );
    expect(tally(results)).toEqual({ 413: ROUNDS });
  });

  it(`401 for a stored-report write without the token, ${ROUNDS} times in a row`, async () => {
    const results: string[] = [];
    for (let i = 0; i < ROUNDS; i++)
      results.push(
        await statusOf('/api/v1/reports', { headers: { 'content-type': 'application/json' }, body: UPLOAD }),
      );
    expect(tally(results)).toEqual({ 401: ROUNDS });
  });
});

interface Lingered {
  /** Everything the API sent, latin1. */
  answer: string;
  /** Milliseconds from the first byte of the answer to the API's close (FIN or reset). */
  closedAfterMs: number;
}

/**
 * A raw client: sends `head`, then `body` and afterwards, when `halfClose`, its
 * FIN; when `trickle`, 16 KB every 20 ms for as long as the connection lasts.
 */
function lingerExchange(
  head: string,
  { body = Buffer.alloc(0), halfClose = false, trickle = false } = {},
): Promise<Lingered> {
  return new Promise((resolve, reject) => {
    // Half-open: the API's FIN after its answer must not stop this client sending.
    const socket: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const received: Buffer[] = [];
    let answeredAt = 0;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(`the API kept the connection open for 15 s: ${Buffer.concat(received).toString('latin1')}`),
      );
    }, 15_000);
    const closed = () => {
      clearTimeout(giveUp);
      clearInterval(timer);
      resolve({ answer: Buffer.concat(received).toString('latin1'), closedAfterMs: Date.now() - answeredAt });
    };
    socket.on('data', (chunk: Buffer) => {
      if (received.length === 0) answeredAt = Date.now();
      received.push(chunk);
    });
    socket.on('error', () => undefined); // a reset after the lingering time is the point of the bound
    // The API's FIN: a client with nothing more to send closes its side too.
    socket.on('end', () => {
      if (!trickle) socket.end();
    });
    socket.on('close', closed);
    socket.write(head);
    socket.write(body, () => {
      if (halfClose) socket.end();
    });
    if (trickle) {
      const chunk = Buffer.alloc(16 * 1024, 'b');
      timer = setInterval(() => socket.writable && socket.write(chunk), 20);
    }
  });
}

/** Bodies the API counted (POST /api/v1/count answered 200), from its metrics port. */
async function bodiesCounted(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${api.metricsPort}/metrics`)).text();
  return Number(/^stagecraft_link_counts_total\{source="body",outcome="ok"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

/** A small page to count: each request pipelined behind the refused body would be a 200. */
const SMALL_COUNT = `POST ${COUNT} HTTP/1.1\r\nHost: api\r\nContent-Type: text/html\r\nContent-Length: 14\r\n\r\n<a href=x></a>`;

/**
 * A raw client: sends `head` and `body`; once the answer arrives, pipelines 20
 * small count requests every 50 ms for half a second (while the API lingers),
 * then its FIN. Resolves at the close with everything the API sent.
 */
function pipelineAfterAnswer(head: string, body: Buffer): Promise<{ answer: string }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const received: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error('the API kept the connection open for 15 s'));
    }, 15_000);
    socket.on('data', (chunk: Buffer) => {
      if (received.length === 0) {
        let rounds = 0;
        timer = setInterval(() => {
          if (rounds++ === 10 || !socket.writable) {
            clearInterval(timer);
            socket.end();
          } else socket.write(SMALL_COUNT.repeat(20));
        }, 50);
      }
      received.push(chunk);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(giveUp);
      clearInterval(timer);
      resolve({ answer: Buffer.concat(received).toString('latin1') });
    });
    socket.write(head);
    socket.write(body);
  });
}

const countHead = (length: number) =>
  `POST ${COUNT} HTTP/1.1\r\nHost: api\r\nContent-Type: text/html\r\nContent-Length: ${length}\r\n\r\n`;

describe('the connection closed after such an answer', () => {
  it('closes as soon as the client has sent all it meant to (its FIN), not LINGER_MS later', async () => {
    const { answer, closedAfterMs } = await lingerExchange(countHead(200_000), {
      body: Buffer.alloc(200_000, 'a'),
      halfClose: true,
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(closedAfterMs).toBeLessThan(LINGER_MS);
  });

  it('closes a client that never stops sending once LINGER_MS has passed', async () => {
    const { answer, closedAfterMs } = await lingerExchange(countHead(1_000_000_000), { trickle: true });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(closedAfterMs).toBeGreaterThanOrEqual(LINGER_MS - 50);
    expect(closedAfterMs).toBeLessThan(LINGER_MS + 5_000);
  });

  it('runs nothing the client pipelines after the answer (RFC 9112 section 9.6)', async () => {
    const before = await bodiesCounted();
    const { answer } = await pipelineAfterAnswer(countHead(5_000), Buffer.alloc(5_000, 'a'));
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(1);
    // Were they handed to the app, each would be counted (and answered to no one).
    expect((await bodiesCounted()) - before).toBe(0);
  });

  it('answers nothing pipelined behind the refused body', async () => {
    const body = Buffer.concat([
      Buffer.alloc(5_000, 'a'),
      Buffer.from('GET /healthz HTTP/1.1\r\nHost: api\r\n\r\n'),
    ]);
    const { answer } = await lingerExchange(countHead(5_000), { body });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(1);
  });
});
