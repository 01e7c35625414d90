/**
 * The other floor for npm run bench:proxy: minimal-proxy.ts with undici's client
 * in place of node:http's (a Pool to the upstream, the body streamed both ways
 * through pool.stream, nothing else), to tell which client is the cheaper one to
 * forward with.
 *   node undici-proxy.ts <upstream port>   (prints "listening <port>")
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const pool = new Pool(`http://127.0.0.1:${process.argv[2]}`);
const server = createServer((req, res) => {
  const headers = { ...req.headers };
  // undici refuses to be handed the connection's own fields; it frames the request itself.
  delete headers.connection;
  delete headers['keep-alive'];
  const body = req.headers['content-length'] || req.headers['transfer-encoding'] ? req : null;
  pool.stream(
    { path: req.url ?? '/', method: req.method ?? 'GET', headers, body },
    ({ statusCode, headers: answer }) => {
      res.writeHead(statusCode, answer as Record<string, string | string[]>);
      return res;
    },
    (error) => {
      if (error) res.destroy();
    },
  );
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
