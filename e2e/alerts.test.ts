/**
 * Alerts end to end, for real: the production stack with the operator overlay
 * (Prometheus, Alertmanager) and a test-only webhook on Alertmanager's way out
 * (e2e/compose.alerts.yml). Prometheus finds Alertmanager and scrapes the API's
 * readiness and storage gauges; Alertmanager sits on networks the API cannot
 * reach. Both API replicas stopped, the webhook receives NoReadyApiReplica firing;
 * started again, it receives the resolution. The test shortens only waits, in
 * copies of the production files it mounts over them (scrape and evaluation every
 * second, the alert's `for`, Alertmanager's grouping); every wait is bounded.
 *
 * The same live Prometheus then answers every query of the Grafana dashboard
 * (grafana/dashboards/stagecraft.json, with the values grafana/query-values.yml
 * gives its variables), each without error and with data, after traffic that
 * makes every series a panel reads: the requests sent while no API replica runs
 * are its errors (502, upstream failures and re-sends). Grafana itself is not run.
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { docker } from '@stagecraft/testkit/command';
import { compose, containerIds, mustCompose, type ComposeProject } from '@stagecraft/testkit/compose';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { poll } from '@stagecraft/testkit/wait';
import { alertWebhookUrlFile } from './helpers/alert-webhook.js';
import { authorization } from './helpers/api-token.js';
import { composeEnv } from './helpers/compose.js';
import { requireDocker } from './helpers/docker.js';
import { containerAddresses, everyAddress, reachFrom } from './helpers/network.js';

const ALERT = 'NoReadyApiReplica';
const dir = join(REPO_ROOT, 'test-results', `e2e-alerts-${process.pid}`);
const project: ComposeProject = {
  project: 'stagecraft-e2e-alerts',
  files: ['docker-compose.prod.yml', 'docker-compose.prod.ops.yml', 'e2e/compose.alerts.yml'],
  cwd: REPO_ROOT,
  env: {
    ...composeEnv({ gateway: 18086, prometheus: 19096 }),
    STAGECRAFT_ALERT_WEBHOOK_URL_FILE: alertWebhookUrlFile('http://alert-webhook:8080/', 'alerts'),
    STAGECRAFT_E2E_ALERTS_DIR: dir,
  },
};
const prometheus = 'http://127.0.0.1:19096';
const gateway = 'http://127.0.0.1:18086';

/** `text` with `pattern` replaced, which must match exactly once (else the copy would test nothing). */
function replaceOnce(text: string, pattern: RegExp, replacement: string, what: string): string {
  const matches = text.match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`)) ?? [];
  if (matches.length !== 1) throw new Error(`${what}: ${matches.length} matches of ${pattern}, not 1`);
  return text.replace(pattern, replacement);
}

/** The production files with their waits shortened, for e2e/compose.alerts.yml to mount. */
function writeShortenedCopies(): void {
  const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755); // read by Prometheus and Alertmanager as nobody
  let config = read('prometheus/prometheus.yml');
  config = replaceOnce(config, /^( {2}scrape_interval:) 5s$/m, '$1 1s', 'prometheus.yml');
  config = replaceOnce(config, /^( {2}evaluation_interval:) 15s$/m, '$1 1s', 'prometheus.yml');
  const rules = replaceOnce(
    read('prometheus/rules/alerts.yml'),
    new RegExp(`(- alert: ${ALERT}\\n(?:(?! +- alert:).*\\n)*? +for:) 1m\\n`),
    '$1 5s\n',
    'alerts.yml',
  );
  let alertmanager = read('alertmanager/alertmanager.yml');
  alertmanager = replaceOnce(alertmanager, /^( {2}group_wait:) 30s$/m, '$1 1s', 'alertmanager.yml');
  alertmanager = replaceOnce(alertmanager, /^( {2}group_interval:) 5m$/m, '$1 2s', 'alertmanager.yml');
  for (const [name, text] of [
    ['prometheus.yml', config],
    ['alerts.yml', rules],
    ['alertmanager.yml', alertmanager],
  ] as const) {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), 0o644);
  }
}

interface Notification {
  status: 'firing' | 'resolved';
  alerts: { status: string; labels: Record<string, string> }[];
}

/** What the webhook has printed so far: its container's own stdout (no Compose log prefixes). */
function webhookOutput(): string {
  return docker('logs', containerIds(project)['alert-webhook']!);
}

/** Every notification the webhook has received so far. */
function notifications(): Notification[] {
  return webhookOutput()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Notification);
}

/** Waits (bounded) for a notification of ALERT with `status`; the ones received. On timeout, what Prometheus and the webhook saw. */
async function awaitNotification(status: Notification['status'], timeoutMs: number) {
  try {
    return await poll(
      `a ${status} notification of ${ALERT} at the webhook`,
      async () => {
        const matching = notifications().filter(
          (n) => n.status === status && n.alerts.some((a) => a.labels.alertname === ALERT),
        );
        return matching.length > 0 ? matching : undefined;
      },
      timeoutMs,
      1_000,
    );
  } catch (error) {
    const alerts = await fetch(`${prometheus}/api/v1/alerts`).then(
      (r) => r.text(),
      (e: unknown) => String(e),
    );
    const alertmanager = compose(project, 'logs', '--tail', '20', 'alertmanager').stdout;
    throw new Error(
      `${String(error)}\nPrometheus's alerts: ${alerts}\nwebhook: ${webhookOutput()}\n${alertmanager}`,
      { cause: error },
    );
  }
}

async function promQuery(
  query: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await r.json()) as {
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return body.data.result;
}

/**
 * Waits until Prometheus has scraped a series. A counter's first sample is its
 * baseline: what it held when first scraped never counts in rate() or
 * increase(). So each kind of request is sent once, scraped, and only then sent
 * again for the panels to count (a burst between two scrapes counted nothing,
 * and left the budget at 0/0).
 */
async function scraped(what: string, query: string): Promise<void> {
  await poll(
    `Prometheus to scrape ${what}`,
    async () => ((await promQuery(query)).length > 0 ? true : undefined),
    30_000,
    500,
  );
}

describe('alerts through Alertmanager to a webhook', () => {
  beforeAll(() => {
    requireDocker();
    compose(project, 'down', '-v', '--remove-orphans');
    writeShortenedCopies();
    const started = Date.now();
    mustCompose(project, 'up', '-d', '--build', '--wait', '--wait-timeout', '180');
    console.log(
      `stack with Alertmanager built and healthy in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });

  afterAll(() => {
    compose(project, 'down', '-v', '--remove-orphans');
    rmSync(dir, { recursive: true, force: true });
  });

  it('puts Alertmanager where Prometheus reaches it and the API does not', () => {
    const ids = containerIds(project);
    const [api] = mustCompose(project, 'ps', '-q', 'api').trim().split('\n');
    const alerting = containerAddresses(ids.alertmanager!)[`${project.project}_alerting`]!;
    expect(reachFrom(ids.prometheus!, [{ address: alerting, port: 9093 }])).toEqual({
      [`${alerting}:9093`]: 'connected',
    });
    const fromApi = reachFrom(api!, everyAddress(ids.alertmanager!, 9093));
    expect(Object.keys(fromApi).length).toBeGreaterThan(0);
    expect(Object.entries(fromApi).filter(([, outcome]) => outcome === 'connected')).toEqual([]);
  });

  it('has Prometheus find Alertmanager and scrape both replicas ready, with their free space', async () => {
    const active = await poll(
      'Prometheus to list Alertmanager',
      async () => {
        const r = await fetch(`${prometheus}/api/v1/alertmanagers`);
        const list = ((await r.json()) as { data: { activeAlertmanagers: { url: string }[] } }).data
          .activeAlertmanagers;
        return list.length > 0 ? list : undefined;
      },
      60_000,
      1_000,
    );
    expect(active.map((a) => new URL(a.url).port)).toEqual(['9093']);
    const ready = await poll(
      'both API replicas scraped ready',
      async () => {
        const result = await promQuery('sum(stagecraft_ready{job="api"})');
        return result[0]?.value[1] === '2' ? result : undefined;
      },
      60_000,
      1_000,
    );
    expect(ready[0]!.value[1]).toBe('2');
    const free = await promQuery(
      'stagecraft_storage_free_bytes{job="api"} > stagecraft_storage_min_free_bytes{job="api"}',
    );
    expect(free).toHaveLength(2);
    expect(notifications().filter((n) => n.alerts.some((a) => a.labels.alertname === ALERT))).toEqual([]);
  });

  it(`stops both API replicas: the webhook receives ${ALERT} firing`, async () => {
    const stopped = Date.now();
    mustCompose(project, 'stop', 'api');
    // Meanwhile clients get the sidecar's 502 (the re-sent GETs fail too): the
    // errors the dashboard's error, budget and upstream panels read, below.
    const during = [];
    for (let i = 0; i < 3; i++) {
      if (i === 1)
        await scraped(
          "the stop's first errors",
          'http_server_request_duration_seconds_count{job="sidecar", error_type="refused", http_route="/api/v1/count"}',
        );
      during.push((await fetch(`${gateway}/api/v1/reports`, { headers: authorization })).status);
      const count = await fetch(`${gateway}/api/v1/count?base=http://example.test/`, {
        method: 'POST',
        headers: { 'content-type': 'text/html' },
        body: '<a href="/x">',
      });
      during.push(count.status);
    }
    expect(during).toEqual([502, 502, 502, 502, 502, 502]);
    const [firing] = await awaitNotification('firing', 120_000);
    console.log(
      `${ALERT} firing at the webhook ${((Date.now() - stopped) / 1000).toFixed(1)} s after the stop began`,
    );
    expect(firing!.alerts.find((a) => a.labels.alertname === ALERT)).toMatchObject({
      status: 'firing',
      labels: { alertname: ALERT, severity: 'page', job: 'api' },
    });
  });

  it(`starts them again: the webhook receives ${ALERT} resolved`, async () => {
    const started = Date.now();
    mustCompose(project, 'start', 'api');
    const [resolved] = await awaitNotification('resolved', 120_000);
    console.log(
      `${ALERT} resolved at the webhook ${((Date.now() - started) / 1000).toFixed(1)} s after the start`,
    );
    expect(resolved!.alerts.find((a) => a.labels.alertname === ALERT)).toMatchObject({
      status: 'resolved',
      labels: { alertname: ALERT, severity: 'page', job: 'api' },
    });
  });

  describe('the Grafana dashboard against this Prometheus', () => {
    beforeAll(async () => {
      // Traffic on every kind of route, through the gateway, once both replicas serve again.
      await poll(
        'both API replicas ready again',
        async () => ((await fetch(`${gateway}/readyz`)).status === 200 ? true : undefined),
        60_000,
        500,
      );
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        if (i === 1)
          await scraped(
            'the first round of traffic',
            'http_server_request_duration_seconds_count{job="sidecar", http_route="/api/v1/reports/{id}", http_request_method="GET"}',
          );
        statuses.push((await fetch(`${gateway}/healthz`)).status);
        statuses.push((await fetch(`${gateway}/api/v1/reports`, { headers: authorization })).status);
        statuses.push((await fetch(`${gateway}/api/v1/reports/999999`, { headers: authorization })).status);
        const count = await fetch(`${gateway}/api/v1/count?base=http://example.test/`, {
          method: 'POST',
          headers: { 'content-type': 'text/html' },
          body: '<a href="/x"><a href="http://elsewhere.test/">',
        });
        statuses.push(count.status);
      }
      expect(new Set(statuses)).toEqual(new Set([200, 404]));
      // Scraped and recorded: the latest requests in the 5-minute rate, the stop's errors in the budget.
      await poll(
        'the traffic scraped and its rules evaluated',
        async () => {
          const rate = await promQuery(
            'route_method:http_server_requests:rate5m{http_route="/api/v1/reports/{id}", http_request_method="GET"}',
          );
          const spent = await promQuery('stagecraft:slo_error_budget_remaining:ratio_rate30d < 1');
          if (rate.length > 0 && spent.length > 0) return true;
          const budget = await promQuery('stagecraft:slo_error_budget_remaining:ratio_rate30d');
          const errors = await promQuery(
            'http_server_request_duration_seconds_count{job="sidecar", error_type!=""}',
          );
          throw new Error(
            `rate ${JSON.stringify(rate)}, budget ${JSON.stringify(budget)}, errors ${JSON.stringify(errors)}`,
          );
        },
        60_000,
        1_000,
      );
    });

    it('answers every panel query without error and with data', async () => {
      const queries = dashboardQueries();
      expect(queries.length).toBeGreaterThanOrEqual(15);
      const problems: string[] = [];
      for (const { panel, query } of queries) {
        if (query.includes('$')) problems.push(`${panel}: a variable left in ${query}`);
        const r = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(query)}`);
        const body = (await r.json()) as { status: string; error?: string; data?: { result: unknown[] } };
        if (r.status !== 200 || body.status !== 'success')
          problems.push(`${panel}: ${query}: ${r.status} ${body.error ?? ''}`);
        else if ((body.data?.result.length ?? 0) === 0) problems.push(`${panel}: ${query}: no data`);
      }
      console.log(`${queries.length} dashboard queries answered with data`);
      expect(problems).toEqual([]);
    });

    it('reads the errors of the stop by their error_type, and the scheme the gateway forwarded', async () => {
      const errors = await promQuery(
        'sum by (http_route, error_type) (http_server_request_duration_seconds_count{job="sidecar", error_type!=""})',
      );
      expect(errors.map((e) => `${e.metric.http_route} ${e.metric.error_type}`).sort()).toEqual([
        '/api/v1/count refused',
        '/api/v1/reports refused',
      ]);
      const schemes = await promQuery(
        'sum by (url_scheme) (http_server_request_duration_seconds_count{job="sidecar"})',
      );
      expect(schemes.map((s) => s.metric.url_scheme)).toEqual(['http']);
    });

    it('QUERY: the gateway refuses it under /api/, the API on /healthz, and the sidecar counts it as QUERY', async () => {
      const api = await fetch(`${gateway}/api/v1/count`, { method: 'QUERY', body: '<a href="/x">' });
      expect(api.status).toBe(405); // the gateway's own: the sidecar never sees it
      const probe = await fetch(`${gateway}/healthz`, { method: 'QUERY' });
      expect(probe.status).toBe(405); // the API's: /healthz is GET only
      expect(probe.headers.get('allow')).toMatch(/^GET\b/);
      const counted = await poll(
        "the sidecar's QUERY scraped",
        async () => {
          const r = await promQuery(
            'sum by (http_route, http_response_status_code) (http_server_request_duration_seconds_count{job="sidecar", http_request_method="QUERY"})',
          );
          return r.length > 0 ? r : undefined;
        },
        30_000,
        1_000,
      );
      expect(counted.map((c) => `${c.metric.http_route} ${c.metric.http_response_status_code}`)).toEqual([
        '/healthz 405',
      ]);
    });
  });
});

/** Every query of the dashboard's panels, by panel title, with its variables given their test values. */
function dashboardQueries(): { panel: string; query: string }[] {
  interface Panel {
    title: string;
    targets?: { expr: string }[];
    panels?: Panel[];
  }
  const doc = JSON.parse(readFileSync(join(REPO_ROOT, 'grafana/dashboards/stagecraft.json'), 'utf8')) as {
    panels: Panel[];
  };
  const values = parse(readFileSync(join(REPO_ROOT, 'grafana/query-values.yml'), 'utf8')) as Record<
    string,
    string
  >;
  // Longest name first, so that $job is never replaced inside a longer name.
  const names = Object.keys(values).sort((a, b) => b.length - a.length);
  return doc.panels
    .flatMap((p) => [p, ...(p.panels ?? [])])
    .flatMap((panel) =>
      (panel.targets ?? []).map((target) => {
        let query = target.expr;
        for (const name of names)
          query = query.replaceAll(`\${${name.slice(1)}}`, values[name]!).replaceAll(name, values[name]!);
        return { panel: panel.title, query };
      }),
    );
}
