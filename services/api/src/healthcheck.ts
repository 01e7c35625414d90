/**
 * Container health check without shell tools (the production image has none):
 * `node dist/healthcheck.js` exits 0 when GET /healthz on this container answers
 * 200 within two seconds, 1 otherwise.
 */
import { get } from 'node:http';

// Empty means unset, as in config.ts.
const port = Number(process.env.PORT?.trim() || 3000);
const request = get({ host: '127.0.0.1', port, path: '/healthz', timeout: 2_000 }, (response) => {
  response.resume();
  process.exit(response.statusCode === 200 ? 0 : 1);
});
request.on('timeout', () => request.destroy(new Error('timeout')));
request.on('error', () => process.exit(1));
