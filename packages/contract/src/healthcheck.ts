/**
 * Container health check without shell tools (the production images have none),
 * one script for both services: exits 0 when GET <path> on 127.0.0.1:<port>
 * answers 200 within two seconds, 1 otherwise (Docker reads 0 as healthy, 1 as
 * unhealthy). The port follows the service's own variable at run time, so a
 * container started with another PORT is still checked where it listens:
 *
 *   node healthcheck.js --port-variable PORT --port 3000 --path /healthz
 *
 * reads PORT, or 3000 when PORT is unset or empty (as the services do). With
 * `--host-variable METRICS_HOST` it asks the address that variable names (an
 * address, or a network alias resolved to this container's own address, as the
 * service binds it) instead of 127.0.0.1, when the variable is set to more than a
 * wildcard.
 */
import { get } from 'node:http';
import { parseArgs } from 'node:util';
import { ownAddress } from './own-address.js';

function fail(message: string): never {
  // Docker keeps a health check's output: `docker inspect` shows why it failed.
  process.stderr.write(`healthcheck: ${message}\n`);
  process.exit(1);
}

let options: { 'port-variable'?: string; 'host-variable'?: string; port?: string; path?: string };
try {
  ({ values: options } = parseArgs({
    options: {
      'port-variable': { type: 'string' },
      'host-variable': { type: 'string' },
      port: { type: 'string' },
      path: { type: 'string' },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}
const variable = options['port-variable'];
const raw = (variable === undefined ? undefined : process.env[variable]?.trim()) || options.port;
if (raw === undefined) fail('give --port, --port-variable or both');
const port = Number(raw);
if (!/^\d+$/.test(raw) || port < 1 || port > 65_535) fail(`not a port: ${JSON.stringify(raw)}`);
const path = options.path ?? '/healthz';
if (!path.startsWith('/')) fail(`not a path: ${JSON.stringify(path)}`);

const named =
  options['host-variable'] === undefined ? '' : (process.env[options['host-variable']]?.trim() ?? '');
const wildcard = named === '' || named === '0.0.0.0' || named === '::';
const host = wildcard ? '127.0.0.1' : await ownAddress(named, { waitMs: 0 });
if (host === null) fail(`${named} resolves to no address of this container`);

const request = get({ host, port, path, timeout: 2_000 }, (response) => {
  response.resume();
  if (response.statusCode === 200) process.exit(0);
  fail(`GET ${path} on port ${port} answered ${response.statusCode}`);
});
request.on('timeout', () => request.destroy(new Error('no answer within 2 s')));
request.on('error', (error) => fail(`GET ${path} on port ${port}: ${error.message}`));
