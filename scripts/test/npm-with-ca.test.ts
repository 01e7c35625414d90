/**
 * scripts/npm-with-ca.sh and scripts/ca-bundle.sh against a TLS-intercepting
 * proxy played on 127.0.0.1: an HTTPS "registry" whose certificate a CA of the
 * test's own signs, presented with that CA as the chain, as such proxies do. npm
 * fails on the certificate and the wrapper ends with one line naming
 * STAGECRAFT_CA_BUNDLE; given that CA through STAGECRAFT_CA_BUNDLE, npm gets past
 * TLS (the registry answers 404, so npm still fails, and says nothing of certificates).
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenLocally, type LocalServer } from '@stagecraft/testkit/local-server';
import { run, runAsync } from '@stagecraft/testkit/command';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issue } from './helpers/certificates.js';

const ca = issue('stagecraft test proxy CA', { ca: true });
const server = issue('127.0.0.1', { ca: false, issuer: ca });
let registry: LocalServer;
let work = '';
const requested: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'stagecraft-npm-ca-'));
  writeFileSync(join(work, 'proxy-ca.crt'), ca.cert);
  writeFileSync(join(work, 'npmrc'), '');
  const https = createServer({ cert: server.cert + ca.cert, key: server.key }, (request, response) => {
    requested.push(request.url ?? '');
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
  });
  registry = await listenLocally(https);
});

afterAll(async () => {
  await registry?.close();
  rmSync(work, { recursive: true, force: true });
});

/**
 * npm view through the wrapper, against the test's registry only, with no user
 * configuration. Asynchronous: the registry is served from this process.
 */
function npmView(env: Record<string, string>) {
  return runAsync('scripts/npm-with-ca.sh', ['view', 'left-pad', 'version'], {
    env: {
      npm_config_registry: `https://127.0.0.1:${registry.port}/`,
      npm_config_userconfig: join(work, 'npmrc'),
      npm_config_cache: join(work, 'cache'),
      npm_config_fetch_retries: '0',
      npm_config_strict_ssl: 'true',
      npm_config_update_notifier: 'false',
      STAGECRAFT_CA_BUNDLE: '',
      STAGECRAFT_DEVCONTAINER: '',
      ...env,
    },
  });
}

const lastLine = (text: string) => text.trim().split('\n').at(-1);

describe('npm behind a TLS-intercepting proxy whose CA it is not given', () => {
  it('fails with one last line naming STAGECRAFT_CA_BUNDLE and the certificate error', async () => {
    const result = await npmView({});
    expect(result.status).not.toBe(0);
    expect(lastLine(result.stderr)).toBe(
      "npm: the registry's TLS certificate is not trusted here (SELF_SIGNED_CERT_IN_CHAIN): set STAGECRAFT_CA_BUNDLE to your TLS-intercepting proxy's CA bundle (a PEM file) and run this again",
    );
  });

  it('says where to set it inside the dev container', async () => {
    const result = await npmView({ STAGECRAFT_DEVCONTAINER: '1' });
    expect(result.status).not.toBe(0);
    expect(lastLine(result.stderr)).toMatch(
      /^npm: the registry's TLS certificate is not trusted here \(SELF_SIGNED_CERT_IN_CHAIN\): set STAGECRAFT_CA_BUNDLE on the host to .*, then rebuild the container$/,
    );
  });
});

describe('npm given the proxy CA with STAGECRAFT_CA_BUNDLE', () => {
  it('gets past TLS to the registry, and a failure that is not about certificates gets no CA line', async () => {
    const before = requested.length;
    const result = await npmView({ STAGECRAFT_CA_BUNDLE: join(work, 'proxy-ca.crt') });
    expect(requested.slice(before)).toContain('/left-pad');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/E404/);
    expect(result.stderr).not.toMatch(/STAGECRAFT_CA_BUNDLE/);
  });

  it('stops before npm, with one line, when STAGECRAFT_CA_BUNDLE names no file', async () => {
    const before = requested.length;
    const result = await npmView({ STAGECRAFT_CA_BUNDLE: join(work, 'no-such.crt') });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      `ca-bundle: STAGECRAFT_CA_BUNDLE=${join(work, 'no-such.crt')} is not a file`,
    );
    expect(requested.length).toBe(before);
  });
});

describe('scripts/ca-bundle.sh', () => {
  it("names STAGECRAFT_CA_BUNDLE when set, else the system bundle where there is one, the image builds' default", () => {
    const chosen = join(work, 'proxy-ca.crt');
    expect(run('scripts/ca-bundle.sh', [], { env: { STAGECRAFT_CA_BUNDLE: chosen } }).stdout.trim()).toBe(
      chosen,
    );
    const system = '/etc/ssl/certs/ca-certificates.crt';
    const expected = existsSync(system) && statSync(system).size > 0 ? system : '';
    expect(run('scripts/ca-bundle.sh', [], { env: { STAGECRAFT_CA_BUNDLE: '' } }).stdout.trim()).toBe(
      expected,
    );
  });
});
