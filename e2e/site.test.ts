/**
 * The page at / and the API reference at /docs (site/, served by the gateway), in
 * a real browser: Debian's chromium driven by playwright-core (e2e/helpers/browser.ts),
 * through the production stack's gateway with the fixture site (e2e/compose.fixtures.yml).
 * The page loads with no console error and no content security policy violation,
 * asks nothing of any other origin, counts a fixture page and a pasted page as the
 * API itself does, lists the reports once given the token (or without one where
 * the API runs open) and asks for none before; /docs lists every operation of the contract's OpenAPI document;
 * the site has its own CSP and API answers keep theirs; GATEWAY_SITE=off leaves
 * the 404 in their place; the Prometheus link shows only where the deployment
 * names one. Screenshots go to test-results/screenshots/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { routeTemplates, type OpenApiDocument } from '@stagecraft/contract';
import { compose, mustCompose, type ComposeProject } from '@stagecraft/testkit/compose';
import { headerValues } from '@stagecraft/testkit/raw-http';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { run } from '@stagecraft/testkit/command';
import { poll } from '@stagecraft/testkit/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, authorization } from './helpers/api-token.js';
import { launchBrowser, screenshot, watchedPage, type Browser, type WatchedPage } from './helpers/browser.js';
import { composeEnv } from './helpers/compose.js';
import {
  gatewayTmpfs,
  imageFiles,
  publishedPort,
  requireDocker,
  runGateway,
  waitHealthy,
} from './helpers/docker.js';
import { expectGatewayProblem, expectSecurityHeaders, rawGet } from './helpers/http.js';

const GATEWAY_PORT = 18380;
const gateway = `http://127.0.0.1:${GATEWAY_PORT}`;
const prod: ComposeProject = {
  project: 'stagecraft-e2e-site',
  files: ['docker-compose.prod.yml', 'e2e/compose.fixtures.yml'],
  cwd: REPO_ROOT,
  env: composeEnv({ gateway: GATEWAY_PORT, prometheus: 19380 }),
};
const GATEWAY_IMAGE = 'stagecraft-gateway:latest';

/** The site's policy (nginx/snippets/security-headers-site.conf). */
const SITE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const contract = JSON.parse(
  readFileSync(join(REPO_ROOT, 'packages/contract/src/openapi.json'), 'utf8'),
) as OpenApiDocument;

/** Nothing went wrong in the page, and it asked nothing of any origin but the gateway's. */
function expectClean(watched: WatchedPage, origin: string): void {
  expect(watched.cspViolations, 'CSP violations').toEqual([]);
  expect(watched.consoleErrors, 'console errors').toEqual([]);
  expect(watched.pageErrors, 'uncaught exceptions').toEqual([]);
  const elsewhere = watched.requests.filter(
    (url) => !url.startsWith('data:') && new URL(url).origin !== origin,
  );
  expect(elsewhere, 'requests to other origins').toEqual([]);
}

/** The values of a result's dl, by data-field. */
async function shownFacts(watched: WatchedPage, selector: string): Promise<Record<string, string>> {
  await watched.page.locator(`${selector} dd[data-field]`).first().waitFor();
  return Object.fromEntries(
    await watched.page
      .locator(`${selector} dd[data-field]`)
      .evaluateAll((nodes) => nodes.map((n) => [n.getAttribute('data-field')!, n.textContent!])),
  ) as Record<string, string>;
}

/** A gateway container of the built image alone (no sidecar behind it), run as production runs it. */
function standaloneGateway(name: string, env: string[]): void {
  runGateway(
    name,
    GATEWAY_IMAGE,
    env.flatMap((e) => ['-e', e]),
  );
}

let browser: Browser;

beforeAll(async () => {
  requireDocker();
  browser = await launchBrowser();
  compose(prod, 'down', '-v', '--remove-orphans');
  const started = Date.now();
  mustCompose(prod, 'up', '-d', '--build', '--wait', '--wait-timeout', '240');
  console.log(`production stack built and healthy in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

afterAll(async () => {
  await browser?.close();
  compose(prod, 'down', '-v', '--remove-orphans');
});

describe('the page at /, through the production gateway', () => {
  it('loads with no console error, no CSP violation and nothing from another origin', async () => {
    const watched = await watchedPage(browser);
    const response = await watched.page.goto(`${gateway}/`, { waitUntil: 'networkidle' });
    expect(response?.status()).toBe(200);
    await expect(watched.page.title()).resolves.toBe('stagecraft link counter');
    // The reports: the token field and the open-API button, and no request for them before the user asks
    // (production's API would answer 401, an error in every page load).
    await watched.page.locator('#token-form').waitFor({ state: 'visible' });
    await watched.page.locator('#reports-open').waitFor({ state: 'visible' });
    expect(watched.requests.filter((url) => url.includes('/api/v1/reports'))).toEqual([]);
    // No Prometheus link: production names none.
    expect(await (await fetch(`${gateway}/site.json`)).json()).toEqual({ prometheusTargets: '' });
    expect(await watched.page.locator('#prometheus-targets').count()).toBe(0);
    await expect(watched.page.locator('a[href="/docs"]').count()).resolves.toBe(1);
    await screenshot(watched.page, 'site-index');
    expectClean(watched, gateway);
    await watched.page.close();
  });

  it('counts a fixture page with the form, as the API itself counts it', async () => {
    const url = 'http://fixtures:8000/page.html';
    const api = (await (await fetch(`${gateway}/api/v1/count?url=${encodeURIComponent(url)}`)).json()) as {
      internal: number;
      external: number;
      fetch: { finalUrl: string; status: number; bytes: number };
    };
    const watched = await watchedPage(browser);
    await watched.page.goto(`${gateway}/`, { waitUntil: 'networkidle' });
    await watched.page.fill('#count-url-input', url);
    await watched.page.click('#count-url button[type=submit]');
    const shown = await shownFacts(watched, '#count-url-result');
    expect(shown).toMatchObject({
      internal: String(api.internal),
      external: String(api.external),
      finalUrl: api.fetch.finalUrl,
      status: String(api.fetch.status),
      bytes: String(api.fetch.bytes),
    });
    // The fixture page's own counts, so that an API and a page that both failed cannot agree.
    expect([shown.internal, shown.external]).toEqual(['2', '1']);
    await screenshot(watched.page, 'site-count-url');
    expectClean(watched, gateway);
    await watched.page.close();
  });

  it('counts a pasted page, as the API itself counts it', async () => {
    const base = 'http://fixtures:8000/pasted.html';
    const html =
      '<p><a href="/one">1</a> <a href="two">2</a> <a href="http://fixtures:8000/three">3</a> <a href="https://elsewhere.example/">4</a></p>';
    const api = (await (
      await fetch(`${gateway}/api/v1/count?base=${encodeURIComponent(base)}`, {
        method: 'POST',
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: html,
      })
    ).json()) as { internal: number; external: number; bytes: number };
    const watched = await watchedPage(browser);
    await watched.page.goto(`${gateway}/`, { waitUntil: 'networkidle' });
    await watched.page.fill('#count-page-base', base);
    await watched.page.fill('#count-page-html', html);
    await watched.page.click('#count-page button[type=submit]');
    const shown = await shownFacts(watched, '#count-page-result');
    expect(shown).toEqual({
      internal: String(api.internal),
      external: String(api.external),
      bytes: String(api.bytes),
    });
    expect([shown.internal, shown.external]).toEqual(['3', '1']);
    await screenshot(watched.page, 'site-count-pasted');
    expectClean(watched, gateway);
    await watched.page.close();
  });

  it('lists the reports once given the token, keeps it in this tab alone, and keeps a report', async () => {
    const watched = await watchedPage(browser);
    const { page } = watched;
    await page.goto(`${gateway}/`, { waitUntil: 'networkidle' });
    await page.fill('#token-input', API_TOKEN);
    await page.click('#token-form button[type=submit]');
    await page.locator('#token-form').waitFor({ state: 'hidden' });
    await page.locator('#token-forget').waitFor({ state: 'visible' });
    expect(await page.evaluate(() => [sessionStorage.length, localStorage.length])).toEqual([1, 0]);

    // Keep a report through the form; the list shows it, as the API lists it. Its
    // address carries markup, which the page shows as text (and the CSP would block).
    const url = 'http://fixtures:8000/many.html?<img src=x onerror=alert(1)>';
    await page.fill('#count-url-input', url);
    await page.check('#count-url-keep');
    await page.click('#count-url button[type=submit]');
    expect((await shownFacts(watched, '#count-url-result')).internal).toBe('50');
    const listed = (await (
      await fetch(`${gateway}/api/v1/reports?limit=10`, { headers: authorization })
    ).json()) as { items: { id: number; url: string; internal: number }[] };
    const newest = listed.items[0]!;
    expect(newest.url).toBe(url);
    const row = page.locator(`#reports tr[data-report-id="${newest.id}"]`);
    await row.waitFor();
    await expect(row.locator('[data-field=url]').textContent()).resolves.toBe(url);
    await expect(row.locator('[data-field=internal]').textContent()).resolves.toBe(String(newest.internal));
    expect(await page.locator('#reports img').count()).toBe(0);
    await screenshot(page, 'site-reports-token');
    expectClean(watched, gateway);
    // The token went with the reports' requests, and with nothing else (not the count, not the page's files).
    expect(watched.authorized.length).toBeGreaterThan(0);
    expect(watched.authorized.filter((u) => !new URL(u).pathname.startsWith('/api/v1/reports'))).toEqual([]);
    // A count without keeping it goes without the token.
    await page.uncheck('#count-url-keep');
    await page.click('#count-url button[type=submit]');
    await expect.poll(() => watched.requests.filter((u) => u.includes('/api/v1/count?')).length).toBe(1);
    await page
      .locator('#count-url-result p')
      .filter({ hasText: 'Kept as report' })
      .waitFor({ state: 'detached' });
    await page.locator('#count-url-result dl').waitFor();
    expect(watched.authorized.filter((u) => u.includes('/api/v1/count'))).toEqual([]);

    // A reload in this tab lists them at once (the token is still in its session storage).
    await page.reload({ waitUntil: 'networkidle' });
    await page.locator(`#reports tr[data-report-id="${newest.id}"]`).waitFor();

    // Another tab has no token, and asking without one is refused, as the page says.
    const other = await watchedPage(browser);
    await other.page.goto(`${gateway}/`, { waitUntil: 'networkidle' });
    expect(await other.page.evaluate(() => sessionStorage.length)).toBe(0);
    await other.page.click('#reports-open');
    await expect.poll(() => other.page.locator('#reports').textContent()).toMatch(/behind its token/);
    expect(other.consoleErrors).toEqual([
      'Failed to load resource: the server responded with a status of 401 (Unauthorized)',
    ]);
    await other.page.close();

    // Forgetting it here brings the field back.
    await page.click('#token-forget');
    await page.locator('#token-form').waitFor({ state: 'visible' });
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.locator('#reports tr').count()).toBe(0);
    await page.close();
  });
});

describe('the API reference at /docs, through the production gateway', () => {
  it('lists every operation of the OpenAPI document, with no console error and no CSP violation', async () => {
    const watched = await watchedPage(browser);
    const { page } = watched;
    const response = await page.goto(`${gateway}/docs`, { waitUntil: 'networkidle' });
    expect(response?.status()).toBe(200);
    await page.locator('.opblock').first().waitFor();
    const listed = await page
      .locator('.opblock-summary')
      .evaluateAll((nodes) =>
        nodes.map(
          (n) =>
            `${n.querySelector('.opblock-summary-method')!.textContent} ${n.querySelector('.opblock-summary-path')!.getAttribute('data-path')}`,
        ),
      );
    const expected = routeTemplates(contract).map((r) => `${r.method} ${r.template}`);
    expect(expected.length).toBeGreaterThan(0);
    expect(listed.sort()).toEqual(expected.sort());
    // Opened, each operation renders its parameters, examples and schemas: still nothing blocked.
    for (const summary of await page.locator('.opblock-summary-control').all()) await summary.click();
    await page
      .locator('.opblock-body')
      .nth(expected.length - 1)
      .waitFor();
    await screenshot(page, 'site-docs');
    expectClean(watched, gateway);
    await page.close();
  });

  it('shows the contract’s document, the one the API serves', async () => {
    const shown = await (await fetch(`${gateway}/docs/openapi.json`)).json();
    expect(shown).toEqual(contract);
    expect(await (await fetch(`${gateway}/api/v1/openapi.json`)).json()).toEqual(shown);
  });
});

describe('content security policies', () => {
  it('gives / and /docs (and their files) the site policy, every other header as on an API answer, once, whatever Range asks', async () => {
    const api = await rawGet(GATEWAY_PORT, '/api/v1/openapi.json');
    expect(api.status).toBe(200);
    expectSecurityHeaders(api.head, 'an API answer');
    for (const path of [
      '/',
      '/docs',
      '/docs/',
      '/docs/openapi.json',
      '/docs/swagger-ui-bundle.js',
      '/assets/app.js',
      '/site.json',
    ])
      // Ranges are off (max_ranges 0): a range past the end got nginx's own 416
      // page, every header twice; now any Range gets the whole file.
      for (const range of ['', 'Range: bytes=999999999-\r\n', 'Range: bytes=0-0\r\n']) {
        const what = `${path} ${range.trim()}`;
        const answer = await rawGet(GATEWAY_PORT, path, 'GET', range);
        expect(answer.status, what).toBe(200);
        expect(headerValues(answer.head, 'Content-Range'), what).toEqual([]);
        expect(headerValues(answer.head, 'Content-Security-Policy'), what).toEqual([SITE_CSP]);
        for (const name of [
          'X-Content-Type-Options',
          'X-Frame-Options',
          'Referrer-Policy',
          'Cross-Origin-Resource-Policy',
        ])
          expect(headerValues(answer.head, name), `${what} ${name}`).toEqual(headerValues(api.head, name));
        expect(headerValues(answer.head, 'X-Request-Id'), what).toHaveLength(1);
        expect(headerValues(answer.head, 'Cache-Control'), what).toEqual(['no-cache']);
      }
  });

  it('compresses the scripts and styles (Swagger UI is 1.7 MB as it is)', async () => {
    for (const path of [
      '/docs/swagger-ui-bundle.js',
      '/docs/swagger-ui.css',
      '/assets/app.js',
      '/docs/openapi.json',
    ]) {
      const answer = await rawGet(GATEWAY_PORT, path, 'GET', 'Accept-Encoding: gzip\r\n');
      expect(answer.status, path).toBe(200);
      expect(headerValues(answer.head, 'Content-Encoding'), path).toEqual(['gzip']);
    }
  });

  it('keeps the problem documents, and paths next to the site, on the API policy', async () => {
    for (const path of ['/nothing-here', '/assets/missing.js', '/docs/missing', '/index.html']) {
      expectGatewayProblem(await rawGet(GATEWAY_PORT, path), 404, path);
    }
    // A condition a site file does not meet: the 412 problem document, not nginx's page.
    for (const condition of ['If-Match: "nope"', 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:01 GMT'])
      expectGatewayProblem(
        await rawGet(GATEWAY_PORT, '/docs/openapi.json', 'GET', `${condition}\r\n`),
        412,
        condition,
      );
  });
});

describe('one switch, GATEWAY_SITE, and the development link to Prometheus', () => {
  const off = 'stagecraft-e2e-site-off';
  const linked = 'stagecraft-e2e-site-linked';
  afterAll(() => {
    run('docker', ['rm', '-f', off, linked]);
  });

  it('with GATEWAY_SITE=off, / and /docs answer the 404 problem document; the API route is still there', async () => {
    standaloneGateway(off, ['GATEWAY_SITE=off']);
    await waitHealthy(off);
    const port = publishedPort(off, 8080);
    for (const path of ['/', '/docs', '/docs/', '/docs/openapi.json', '/assets/app.js', '/site.json']) {
      const problem = expectGatewayProblem(await rawGet(port, path), 404, `${path} with the site off`);
      expect(problem.type).toBe('urn:stagecraft:problem:not-found');
    }
    // No sidecar behind this gateway: the API's location answers 502, not 404.
    expectGatewayProblem(await rawGet(port, '/api/v1/reports'), 502, 'the API location');
  });

  it.each([
    ['GATEWAY_SITE=maybe', 'GATEWAY_SITE'],
    ['GATEWAY_PROMETHEUS_URL=javascript:alert(1)', 'GATEWAY_PROMETHEUS_URL'],
    ['GATEWAY_PROMETHEUS_URL=http://x/"}', 'GATEWAY_PROMETHEUS_URL'],
  ])('refuses %s: exit 78, one line naming the variable', (setting, variable) => {
    const result = run('docker', [
      'run',
      '--rm',
      '--read-only',
      ...gatewayTmpfs(),
      '-e',
      setting,
      GATEWAY_IMAGE,
    ]);
    expect(result.status, result.stderr).toBe(78);
    const lines = result.stderr.split('\n').filter((l) => l.includes('invalid configuration'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^gateway: invalid configuration: ${variable} `));
    // Refused before anything is rendered (19-stagecraft-site.envsh runs before the renderer).
    expect(result.stdout + result.stderr).not.toMatch(/Running envsubst|start worker process/);
  });

  it('links to Prometheus’s targets where GATEWAY_PROMETHEUS_URL names them, as docker-compose.yml does', async () => {
    // The development file points the link at the port it publishes Prometheus on.
    const config = JSON.parse(
      run('docker', ['compose', '-f', 'docker-compose.yml', 'config', '--format', 'json'], {
        env: { PROMETHEUS_PORT: '19555' },
      }).stdout,
    ) as { services: Record<string, { environment?: Record<string, string> }> };
    const url = config.services.gateway!.environment?.GATEWAY_PROMETHEUS_URL;
    expect(url).toBe('http://127.0.0.1:19555/targets');
    const prodConfig = JSON.parse(
      run('docker', ['compose', '-f', 'docker-compose.prod.yml', 'config', '--format', 'json']).stdout,
    ) as typeof config;
    expect(prodConfig.services.gateway!.environment?.GATEWAY_PROMETHEUS_URL).toBeUndefined();

    standaloneGateway(linked, [`GATEWAY_PROMETHEUS_URL=${url}`]);
    await waitHealthy(linked);
    const origin = `http://127.0.0.1:${publishedPort(linked, 8080)}`;
    expect(await (await fetch(`${origin}/site.json`)).json()).toEqual({ prometheusTargets: url });
    const watched = await watchedPage(browser);
    await watched.page.goto(`${origin}/`, { waitUntil: 'networkidle' });
    const link = watched.page.locator('#prometheus-targets');
    await link.waitFor();
    await expect(link.getAttribute('href')).resolves.toBe(url);
    await screenshot(watched.page, 'site-index-dev-link');
    // No sidecar behind this gateway: the reports' 502 is expected here; nothing is blocked all the same.
    expect(watched.cspViolations).toEqual([]);
    expect(watched.pageErrors).toEqual([]);
    await watched.page.close();
  });
});

describe('where the API runs without a token (as in development)', () => {
  it('lists the reports without a token when asked, and hides the token field', async () => {
    // The production API, told to run open (e2e/compose.site-open-api.yml); the
    // report kept earlier in this file is still in its volume.
    const open: ComposeProject = { ...prod, files: [...prod.files, 'e2e/compose.site-open-api.yml'] };
    mustCompose(open, 'up', '-d', '--wait', '--wait-timeout', '120');
    const listed = await poll('the open API listing reports', async () => {
      const r = await fetch(`${gateway}/api/v1/reports?limit=10`);
      return r.status === 200 ? ((await r.json()) as { items: { id: number; url: string }[] }) : undefined;
    });
    expect(listed.items.length).toBeGreaterThan(0);
    const watched = await watchedPage(browser);
    await watched.page.goto(`${gateway}/`, { waitUntil: 'networkidle' });
    await watched.page.click('#reports-open');
    const rows = watched.page.locator('#reports tr[data-report-id]');
    await rows.first().waitFor();
    expect(
      await rows.evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-report-id')))),
    ).toEqual(listed.items.map((r) => r.id));
    expect(await watched.page.locator('#token-form').isHidden()).toBe(true);
    await screenshot(watched.page, 'site-reports-open');
    expectClean(watched, gateway);
    await watched.page.close();
  });
});

// The site is the gateway's alone: the API's image does not carry it.
it('ships the site in the gateway image, and none of it in the API image', () => {
  const gatewayFiles = imageFiles(GATEWAY_IMAGE);
  for (const file of [
    'index.html',
    'assets/app.js',
    'docs/index.html',
    'docs/swagger-ui-bundle.js',
    'docs/openapi.json',
  ])
    expect(gatewayFiles, file).toContain(`/usr/share/nginx/site/${file}`);
  expect(gatewayFiles.filter((f) => /node_modules|swagger-ui-dist|\/usr\/local\/bin\/node$/.test(f))).toEqual(
    [],
  );
  expect(imageFiles('stagecraft-api:latest').filter((f) => /swagger-ui|\/site\/|esbuild/.test(f))).toEqual(
    [],
  );
});
