/**
 * Raw HTTP for the gateway tests: requests written byte for byte (no client
 * normalises them), answers read until the server closes, and the gateway's
 * response headers checked line by line, so a header sent twice is seen twice.
 * Only ever aimed at 127.0.0.1.
 */
import { connect } from 'node:net';
import { expect } from 'vitest';

export interface RawAnswer {
  status?: number;
  head: string;
  body: string;
  /** Milliseconds until the server closed the connection (or the test gave up). */
  closedAfterMs: number;
}

/** Writes each chunk (waiting gapMs between them) to 127.0.0.1:port and reads until the server closes. */
export function rawRequest(
  port: number,
  chunks: (string | Buffer)[],
  options: { gapMs?: number; giveUpMs?: number } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
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

/** A GET (or another method) with Connection: close, as raw bytes. */
export function rawGet(port: number, path: string, method = 'GET', extra = ''): Promise<RawAnswer> {
  return rawRequest(port, [
    `${method} ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`,
  ]);
}

/** The values of one header field in a raw response head, one entry per line that carries it. */
export function headerValues(head: string, name: string): string[] {
  return head
    .split('\r\n')
    .slice(1)
    .filter((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((line) => line.slice(name.length + 1).trim());
}

/** What the gateway sends on every answer (nginx/snippets/security-headers.conf). */
export const SECURITY_HEADERS: Record<string, RegExp> = {
  'X-Request-Id': /^[A-Za-z0-9._:-]{1,128}$/,
  'X-Content-Type-Options': /^nosniff$/,
  'X-Frame-Options': /^DENY$/,
  'Referrer-Policy': /^no-referrer$/,
  'Content-Security-Policy': /^default-src 'none'; frame-ancestors 'none'$/,
  'Cross-Origin-Resource-Policy': /^same-origin$/,
};

/** Every security header exactly once, with its value; `what` names the answer in failures. */
export function expectSecurityHeaders(head: string, what: string): void {
  const found = Object.fromEntries(
    Object.keys(SECURITY_HEADERS).map((name) => [name, headerValues(head, name)]),
  );
  for (const [name, pattern] of Object.entries(SECURITY_HEADERS)) {
    expect(found[name], `${what}: ${name} once\n${head}`).toHaveLength(1);
    expect(found[name]![0], `${what}: ${name}`).toMatch(pattern);
  }
}

/** The same, for header lines as Node's client keeps them (IncomingMessage.rawHeaders). */
export function expectSecurityHeadersIn(rawHeaders: string[], what: string): void {
  const lines: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  expectSecurityHeaders(['HTTP/1.1', ...lines].join('\r\n'), what);
}

/** A problem document the gateway wrote itself: the security headers, no caching, the status in the body. */
export function expectGatewayProblem(answer: RawAnswer, status: number, what: string): { type: string } {
  expect(answer.status, `${what}\n${answer.head}`).toBe(status);
  expectSecurityHeaders(answer.head, what);
  expect(headerValues(answer.head, 'Content-Type'), what).toEqual(['application/problem+json']);
  expect(headerValues(answer.head, 'Cache-Control'), what).toEqual(['no-store']);
  const problem = JSON.parse(answer.body) as { type: string; status: number };
  expect(problem.status, what).toBe(status);
  return problem;
}
