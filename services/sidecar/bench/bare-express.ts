/**
 * The API's yardstick for npm run bench:proxy: a bare Express 5 app answering
 * GET /healthz with the API's handler and the same body, and nothing around it
 * (no request context, no access log, no metrics, no strict server). ETags are
 * off, as in the API: Express's default would hash every body, work the API's
 * answer does not do. Whatever the API spends on /healthz beyond this is the
 * cost of what the API wraps around a trivial handler.
 *   node bare-express.ts   (prints "listening <port>")
 */
import type { AddressInfo } from 'node:net';
import express from 'express';

const app = express();
app.set('etag', false);
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
