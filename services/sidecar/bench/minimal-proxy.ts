/**
 * The floor for npm run bench:proxy: the least a separate Node process can do to
 * forward HTTP (keep-alive agent, pipe both ways, nothing else). Whatever it
 * costs next to the direct path, no proxy written in Node can beat on this machine;
 * the sidecar's own overhead is what it costs beyond this.
 *   node minimal-proxy.ts <upstream port>   (prints "listening <port>")
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const upstream = Number(process.argv[2]);
const agent = new Agent({ keepAlive: true });
const server = createServer((req, res) => {
  const forward = request(
    { host: '127.0.0.1', port: upstream, path: req.url, method: req.method, headers: req.headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  forward.on('error', () => res.destroy());
  req.pipe(forward);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
