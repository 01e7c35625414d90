/**
 * The operator overlay's Alertmanager reads the URL it posts alerts to from a
 * secret file (STAGECRAFT_ALERT_WEBHOOK_URL_FILE). Suites that do not test alerts
 * get one whose URL is Alertmanager's own loopback, port 9, where nothing listens:
 * a notification fails inside its container, and no name is looked up. Files are
 * git-ignored (test-results/), one per test run, readable by Alertmanager's uid.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@stagecraft/testkit/repository';

/** Writes a webhook URL file for a test run; its path. */
export function alertWebhookUrlFile(url: string, name = 'default'): string {
  const file = join(REPO_ROOT, 'test-results', `e2e-alert-webhook-${name}-${process.pid}`);
  mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
  writeFileSync(file, `${url}\n`);
  chmodSync(file, 0o644);
  return file;
}

export const NOWHERE_WEBHOOK_URL_FILE = alertWebhookUrlFile('http://127.0.0.1:9/');
