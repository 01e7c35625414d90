/**
 * Stored reports need the bearer token wherever one is configured; counting and
 * the operational endpoints stay public; production refuses to start without a
 * token unless told API_AUTH=open. Every response is checked against the OpenAPI
 * document by the client in helpers/api.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@stagecraft/contract';
import { loadConfig } from '../../src/config.js';
import { startApi, type TestApi } from '../helpers/api.js';

const TOKEN = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';
const REPORTS = '/api/v1/reports';
const REPORT = '/api/v1/reports/{id}';
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

function tokenFile(contents: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'stagecraft-token-')), 'api-token');
  writeFileSync(file, contents);
  return file;
}

describe('with a token configured', () => {
  let api: TestApi;
  let id: number;

  beforeAll(async () => {
    api = await startApi({ env: { API_TOKEN_FILE: tokenFile(`${TOKEN}\n`) } });
    id = (
      await api.store.insert({
        url: 'http://example.test/?session=secret',
        internal: 1,
        external: 2,
        finalUrl: 'http://example.test/?session=secret',
        status: 200,
        bytes: 10,
        redirects: 0,
        durationMs: 1,
      })
    ).id;
  });
  afterAll(() => api.close());

  it.each([
    ['GET', REPORTS, REPORTS],
    ['POST', REPORTS, REPORTS],
    ['GET', `${REPORTS}/1`, REPORT],
    ['DELETE', `${REPORTS}/1`, REPORT],
  ])('%s %s without a token: 401 with a Bearer challenge', async (method, path, template) => {
    const r = await api.call(method, path, template);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="stagecraft"');
    expect((r.body as { type: string }).type).toBe('urn:stagecraft:problem:unauthorized');
  });

  it.each([
    ['the wrong token', `Bearer ${TOKEN.slice(0, -1)}x`],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, 20)}`],
    ['the token with a suffix', `Bearer ${TOKEN}x`],
    ['another scheme', `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`],
    ['the bare token', TOKEN],
    ['an empty bearer', 'Bearer '],
  ])('%s: 401 invalid_token', async (_name, authorization) => {
    const r = await api.call('GET', REPORTS, REPORTS, { headers: { authorization } });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('the right token reads, lists and deletes; the scheme name is case-insensitive', async () => {
    expect((await api.call('GET', `${REPORTS}/${id}`, REPORT, bearer(TOKEN))).status).toBe(200);
    const list = await api.call('GET', REPORTS, REPORTS, {
      headers: { authorization: `bearer  ${TOKEN}` },
    });
    expect(list.status).toBe(200);
    expect(list.text).toContain('session=secret');
    expect((await api.call('DELETE', `${REPORTS}/${id}`, REPORT, bearer(TOKEN))).status).toBe(204);
  });

  it('every spelling Express routes to the reports is guarded (case, trailing slash)', async () => {
    for (const path of ['/API/V1/REPORTS', '/api/v1/reports/', '/Api/v1/Reports/1']) {
      const r = await fetch(api.url + path);
      expect(r.status, path).toBe(401);
    }
  });

  it('an unauthenticated body is not read: 401 and the connection closes', async () => {
    const r = await fetch(api.url + REPORTS, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://example.test/' }),
    });
    expect(r.status).toBe(401);
    expect(r.headers.get('connection')).toBe('close');
    expect(await api.store.count()).toBe(0);
  });

  it('counting and the operational endpoints need no token', async () => {
    expect((await api.call('GET', '/healthz', '/healthz')).status).toBe(200);
    expect((await api.call('GET', '/api/v1/openapi.json', '/api/v1/openapi.json')).status).toBe(200);
    const counted = await api.call('POST', '/api/v1/count?base=http://example.test/', '/api/v1/count', {
      headers: { 'content-type': 'text/html' },
      body: '<a href="/x">',
    });
    expect(counted.status).toBe(200);
  });
});

describe('without a token (development)', () => {
  it('reports are open', async () => {
    const api = await startApi();
    try {
      expect((await api.call('GET', REPORTS, REPORTS)).status).toBe(200);
    } finally {
      await api.close();
    }
  });
});

describe('configuration', () => {
  const load = (env: Record<string, string>) => () => loadConfig({ DATA_DIR: '/tmp', ...env });
  const fails = (env: Record<string, string>, variable: string) => {
    expect(load(env)).toThrow(ConfigError);
    try {
      load(env)();
    } catch (error) {
      expect((error as ConfigError).variable).toBe(variable);
    }
  };

  it('production without a token or API_AUTH=open does not start', () => {
    fails({ NODE_ENV: 'production' }, 'API_TOKEN_FILE');
    expect(load({ NODE_ENV: 'production', API_AUTH: 'open' })().apiToken).toBeNull();
    fails({ API_AUTH: 'token' }, 'API_TOKEN_FILE');
  });

  it('reads and trims the token file', () => {
    expect(load({ API_TOKEN_FILE: tokenFile(`  ${TOKEN}\r\n`) })().apiToken).toBe(TOKEN);
  });

  it('refuses a missing, short, empty or odd token, and mixed instructions', () => {
    fails({ API_TOKEN_FILE: '/nonexistent/stagecraft-token' }, 'API_TOKEN_FILE');
    fails({ API_TOKEN_FILE: tokenFile('') }, 'API_TOKEN_FILE');
    fails({ API_TOKEN_FILE: tokenFile('short') }, 'API_TOKEN_FILE');
    fails({ API_TOKEN_FILE: tokenFile(`${TOKEN} ${TOKEN}`) }, 'API_TOKEN_FILE');
    fails({ API_TOKEN_FILE: tokenFile(TOKEN), API_AUTH: 'open' }, 'API_AUTH');
    fails({ API_AUTH: 'maybe' }, 'API_AUTH');
  });
});
