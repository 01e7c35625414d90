// Test-only upstream for the gateway (e2e/images.test.ts runs it as `sidecar` next
// to a gateway container): answers each request with the request head exactly as
// nginx sent it, line by line, so the tests see what would reach the Node servers.
// Its answers carry its own copies of the gateway's security headers, which the
// gateway must replace rather than repeat.
import { createServer } from 'node:net';

const ANSWER_HEADERS = [
  'X-Request-Id: from-upstream',
  'X-Content-Type-Options: from-upstream',
  'X-Frame-Options: SAMEORIGIN',
  'Referrer-Policy: unsafe-url',
  'Content-Security-Policy: default-src *',
  'Cross-Origin-Resource-Policy: cross-origin',
];

createServer((socket) => {
  let received = Buffer.alloc(0);
  socket.on('error', () => undefined);
  socket.on('data', (chunk) => {
    received = Buffer.concat([received, chunk]);
    const end = received.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = received.subarray(0, end).toString('latin1').split('\r\n');
    const body = received.subarray(end + 4).toString('latin1');
    const length = /^content-length:\s*(\d+)$/im.exec(head.join('\n'));
    const chunked = head.some((line) => /^transfer-encoding:.*chunked/i.test(line));
    // Answer once the whole body is here.
    if (length && body.length < Number(length[1])) return;
    if (chunked && !body.includes('0\r\n\r\n')) return;
    const json = JSON.stringify({ head, body });
    socket.end(
      [
        'HTTP/1.1 200 OK',
        'Content-Type: application/json',
        ...ANSWER_HEADERS,
        `Content-Length: ${Buffer.byteLength(json)}`,
        'Connection: close',
        '',
        json,
      ].join('\r\n'),
    );
  });
}).listen(8080);
