/**
 * A real browser for the end-to-end tests: Debian's chromium (scripts/install-browser.sh)
 * driven by playwright-core, which downloads no browser of its own. Started so that
 * it makes no connection of its own (no component updates, sync, field trials or
 * QUIC probes; no name resolves, and no request leaves loopback), with a fresh empty profile each time. Every page it opens reports
 * console errors, uncaught exceptions, content security policy violations and
 * each URL it requested, so a test can say "none" and "only this origin".
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from './docker.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Beside the JSON reports the suites write (test-results/, git-ignored, kept by CI). */
export const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'screenshots');

const QUIET_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-domain-reliability',
  '--disable-breakpad',
  '--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication',
  '--metrics-recording-only',
  // The guard behind the switches above: every name but localhost resolves to
  // nothing, and anything not on loopback would go to a closed proxy port, so
  // no lookup or connection can leave the machine, whatever Debian's build or a
  // new Chromium feature tries (component updates asked for Google's hosts
  // with the switches alone).
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
  '--proxy-server=http://127.0.0.1:9',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Starts chromium with a new empty profile; a missing browser fails the caller with the way to install it. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `These tests need Debian's chromium at ${CHROMIUM}, and it is missing: run scripts/install-browser.sh as root.`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'stagecraft-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: QUIET_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface WatchedPage {
  page: Page;
  /** console.error messages (the browser's own, such as a failed load, included). */
  consoleErrors: string[];
  /** Uncaught exceptions in the page's scripts. */
  pageErrors: string[];
  /** securitypolicyviolation events: the directive, and what was blocked where. */
  cspViolations: string[];
  /** Every URL the page asked for (documents, scripts, styles, fetches, images). */
  requests: string[];
  /** The URLs of those requests that carried an Authorization header. */
  authorized: string[];
}

const VIOLATION = 'stagecraft-csp-violation ';

/** A new tab in `browser` that records what WatchedPage lists, from its first script on. */
export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const page = await browser.context.newPage();
  const watched: WatchedPage = {
    page,
    consoleErrors: [],
    pageErrors: [],
    cspViolations: [],
    requests: [],
    authorized: [],
  };
  // Runs before any script of each document, so a violation anywhere is reported.
  // (Text, not a function: this project's TypeScript has no DOM types outside site/.)
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) => console.log(
      ${JSON.stringify(VIOLATION)} + event.effectiveDirective + ' blocked ' + (event.blockedURI || '(inline)') +
      ' in ' + event.sourceFile + ':' + event.lineNumber));`,
  });
  page.on('console', (message) => {
    if (message.text().startsWith(VIOLATION))
      watched.cspViolations.push(message.text().slice(VIOLATION.length));
    else if (message.type() === 'error') watched.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => watched.pageErrors.push(error.message));
  page.on('request', (request) => {
    watched.requests.push(request.url());
    if (request.headers().authorization !== undefined) watched.authorized.push(request.url());
  });
  return watched;
}

/** A full-page screenshot in test-results/screenshots/NAME.png; its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
