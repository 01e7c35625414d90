/**
 * The alerting rules (prometheus/rules/) agree with everything that repeats them
 * or depends on them, read from the files, without Docker (promtool itself checks
 * and runs them in e2e/prometheus-rules.test.ts): every alert has a unit test that
 * fires it and one that keeps it silent; README.md's SLO, count latency threshold
 * and table of alerts are the rules'; every window of the SLO's error ratio counts
 * the same requests, and each burn rate spends the SRE workbook's share of the
 * budget over the stated days; the routes the rules name are the API's; every
 * stack mounts every rules file where prometheus.yml looks for it, and
 * Alertmanager's address and webhook secret only where Alertmanager runs.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '@stagecraft/contract';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

type Doc = Record<string, unknown>;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const yaml = (path: string) => parse(read(path), { version: '1.1' }) as Doc;

const RULE_FILES = readdirSync(join(ROOT, 'prometheus/rules')).sort();
const TEST_FILES = readdirSync(join(ROOT, 'prometheus/tests')).sort();

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
}
interface RulesDoc {
  groups: { name: string; rules: Rule[] }[];
}
interface TestsDoc {
  rule_files: string[];
  evaluation_interval?: string;
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

const rulesOf = (docs: RulesDoc[]) => docs.flatMap((doc) => doc.groups.flatMap((group) => group.rules));
const alertsOf = (docs: RulesDoc[]) => rulesOf(docs).filter((rule) => rule.alert !== undefined);
const ruleDocs = () => RULE_FILES.map((file) => yaml(`prometheus/rules/${file}`) as unknown as RulesDoc);
const testDocs = () => TEST_FILES.map((file) => yaml(`prometheus/tests/${file}`) as unknown as TestsDoc);

/** Every alert needs a case that fires it and one that keeps it silent; tests name no other alert. */
function coverageGaps(rules: RulesDoc[], tests: TestsDoc[]): string[] {
  const alerts = alertsOf(rules).map((rule) => rule.alert!);
  const cases = tests.flatMap((doc) => doc.tests.flatMap((test) => test.alert_rule_test ?? []));
  const out: string[] = [];
  for (const alert of alerts) {
    const mine = cases.filter((c) => c.alertname === alert);
    if (!mine.some((c) => c.exp_alerts.length > 0)) out.push(`${alert}: no unit test where it fires`);
    if (!mine.some((c) => c.exp_alerts.length === 0))
      out.push(`${alert}: no unit test where it stays silent`);
  }
  for (const c of cases)
    if (!alerts.includes(c.alertname)) out.push(`a unit test names ${c.alertname}, which no rule defines`);
  return [...new Set(out)];
}

/** The README section this test holds to the rules. */
function readmeSection(readme: string): string {
  const start = readme.indexOf('### Alerts and the SLO');
  if (start < 0) throw new Error('README.md has no "### Alerts and the SLO" section');
  const end = readme.indexOf('\n#', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

function objective(rules: RulesDoc[]): number {
  const rule = rulesOf(rules).find((r) => r.record === 'stagecraft:slo_objective:ratio');
  const match = /^vector\(([\d.]+)\)$/.exec(rule?.expr.trim() ?? '');
  if (!match) throw new Error('no stagecraft:slo_objective:ratio recorded as vector(<ratio>)');
  return Number(match[1]);
}

/** The count latency alert's threshold (seconds) and its `for`. */
function countLatency(rules: RulesDoc[]): { seconds: number; for: string } {
  const rule = alertsOf(rules).find((r) => r.alert === 'CountLatencyHigh');
  const match = /> ([\d.]+)$/.exec(rule?.expr.trim() ?? '');
  if (!rule || !match) throw new Error('no CountLatencyHigh alert ending in "> <seconds>"');
  return { seconds: Number(match[1]), for: rule.for ?? '0s' };
}

/** Where README.md states a number or a row differently from the rules. */
function readmeDisagreements(readme: string, rules: RulesDoc[]): string[] {
  const section = readmeSection(readme);
  const out: string[] = [];
  const slo = /\*\*([\d.]+)%\*\* of requests .*? over \*\*(\d+) days\*\*/s.exec(section);
  if (!slo) out.push('README.md: no "**<n>%** of requests ... over **<n> days**" statement');
  else if (Math.abs(Number(slo[1]) / 100 - objective(rules)) > 1e-12)
    out.push(`README.md: the SLO is ${slo[1]}%, the rules record ${objective(rules)}`);
  const latency = /`POST \/api\/v1\/count`[^*]*\sabove \*\*([\d.]+) s\*\* for (\d+ \w+)/.exec(section);
  const rule = countLatency(rules);
  if (!latency) out.push('README.md: no "`POST /api/v1/count` ... above **<n> s** for <duration>" statement');
  else {
    if (Number(latency[1]) !== rule.seconds)
      out.push(`README.md: the count latency threshold is ${latency[1]} s, the rule's ${rule.seconds} s`);
    if (duration(latency[2]!) !== duration(rule.for))
      out.push(`README.md: the count latency alert waits ${latency[2]}, the rule ${rule.for}`);
  }
  const table = [...section.matchAll(/^\| `(\w+)` +\| (\w+) +\|/gm)].map((m) => `${m[1]} ${m[2]}`);
  const alerts = alertsOf(rules).map((r) => `${r.alert} ${r.labels?.severity ?? '(none)'}`);
  if (table.join() !== alerts.join())
    out.push(`README.md: the table of alerts has ${table.join(', ')}; the rules ${alerts.join(', ')}`);
  return out;
}

/** "10m", "1h", "3d", or README's "10 minutes": seconds. */
function duration(text: string): number {
  const m = /^(\d+)\s*(s|m|h|d|seconds?|minutes?|hours?|days?)$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2]![0] as 's' | 'm' | 'h' | 'd'];
}

const SLO_WINDOW = /^stagecraft:slo_errors_per_request:ratio_rate(\w+)$/;

/** Every window of the SLO's error ratio is one expression, its window apart. */
function sliDisagreements(rules: RulesDoc[]): string[] {
  const windows = rulesOf(rules).filter((r) => SLO_WINDOW.test(r.record ?? ''));
  const shapes = windows.map((r) => {
    const window = SLO_WINDOW.exec(r.record!)![1]!;
    return { record: r.record!, window, shape: r.expr.replaceAll(`[${window}]`, '[W]') };
  });
  const out: string[] = [];
  for (const s of shapes) {
    if (!s.shape.includes('[W]')) out.push(`${s.record}: its expression has no [${s.window}] range`);
    if (s.shape !== shapes[0]!.shape)
      out.push(`${s.record}: counts other requests than ${shapes[0]!.record}`);
  }
  return out;
}

/**
 * The workbook's table for a 30-day SLO: the share of the budget each long window
 * may spend before it alerts. The burn rate is that share times the SLO's hours
 * over the window's; the short window is 1/12 of the long one.
 */
const BUDGET_SHARE: Record<string, number> = { '1h': 0.02, '6h': 0.05, '1d': 0.1, '3d': 0.1 };

function burnRateDisagreements(rules: RulesDoc[], sloDays: number): string[] {
  const out: string[] = [];
  const recorded = new Set(rulesOf(rules).map((r) => r.record));
  const pair =
    /ratio_rate(\w+) > ([\d.]+) \* \(1 - stagecraft:slo_objective:ratio\)\s+and stagecraft:slo_errors_per_request:ratio_rate(\w+) > ([\d.]+) \* \(1 - stagecraft:slo_objective:ratio\)/g;
  const seen: string[] = [];
  for (const rule of alertsOf(rules).filter((r) => r.expr.includes('stagecraft:slo_errors_per_request'))) {
    for (const [, long, rate, short, shortRate] of rule.expr.matchAll(pair)) {
      seen.push(long!);
      const where = `${rule.alert} (${long}, ${short})`;
      for (const w of [long!, short!])
        if (!recorded.has(`stagecraft:slo_errors_per_request:ratio_rate${w}`))
          out.push(`${where}: no recorded ratio for ${w}`);
      if (rate !== shortRate) out.push(`${where}: burn rates ${rate} and ${shortRate} differ`);
      if (duration(short!) * 12 !== duration(long!))
        out.push(`${where}: the short window is not 1/12 of ${long}`);
      const share = BUDGET_SHARE[long!];
      const expected = share === undefined ? NaN : (share * sloDays * 86400) / duration(long!);
      if (Math.abs(Number(rate) - expected) > 1e-9)
        out.push(`${where}: burn rate ${rate}, the workbook's ${expected} for ${sloDays} days`);
    }
  }
  if (seen.sort().join() !== Object.keys(BUDGET_SHARE).sort().join())
    out.push(`the burn-rate alerts use long windows ${seen.join(', ')}, not the workbook's four`);
  return out;
}

/** http_route values the rules select, by equality or in an alternation. */
function routesNamed(rules: RulesDoc[]): string[] {
  const routes = new Set<string>();
  for (const rule of rulesOf(rules))
    for (const m of rule.expr.matchAll(/http_route(=|!=|=~|!~)"([^"]*)"/g))
      for (const route of m[1]!.includes('~') ? m[2]!.split('|') : [m[2]!]) routes.add(route);
  return [...routes].sort();
}

type Service = Doc & { volumes?: unknown[]; configs?: { source: string; target: string }[] };
const serviceOf = (doc: Doc, name: string) => (doc.services as Record<string, Service>)[name];

/** "host -> container" for each file a Compose service bind-mounts, or a stack config ships. */
function filesMounted(doc: Doc, service: string): string[] {
  const s = serviceOf(doc, service);
  if (s === undefined) return [];
  const binds = (s.volumes ?? [])
    .filter((v): v is string => typeof v === 'string' && v.startsWith('./'))
    .map((v) => v.split(':').slice(0, 2).join(' -> '));
  const configs = (s.configs ?? []).map(
    (c) => `${(doc.configs as Record<string, { file: string }>)[c.source]!.file} -> ${c.target}`,
  );
  return [...binds, ...configs];
}

const STACKS = [
  'docker-compose.yml',
  'docker-compose.prod.yml',
  'docker-stack.yml',
  'docker-stack.postgres.yml',
];

describe('the unit tests of the rules (prometheus/tests/)', () => {
  it('fire every alert at least once and keep every alert silent at least once', () => {
    expect(coverageGaps(ruleDocs(), testDocs())).toEqual([]);
  });

  it('a missing firing or silent case, or a test of no alert, is caught', () => {
    const rules = ruleDocs();
    rules[0]!.groups[0]!.rules.push({ alert: 'Untested', expr: 'vector(1)' });
    const tests = testDocs().map((doc) => ({
      ...doc,
      tests: doc.tests.map((t) => ({
        ...t,
        alert_rule_test: t.alert_rule_test
          ?.filter((c) => !(c.alertname === 'TargetDown' && c.exp_alerts.length === 0))
          .map((c) => (c.alertname === 'NoSidecarUp' ? { ...c, alertname: 'NoSidecarsUp' } : c)),
      })),
    }));
    expect(coverageGaps(rules, tests)).toEqual([
      'TargetDown: no unit test where it stays silent',
      'NoSidecarUp: no unit test where it fires',
      'NoSidecarUp: no unit test where it stays silent',
      'Untested: no unit test where it fires',
      'Untested: no unit test where it stays silent',
      'a unit test names NoSidecarsUp, which no rule defines',
    ]);
  });

  it("load every rules file and evaluate at Prometheus's own interval", () => {
    const interval = (yaml('prometheus/prometheus.yml').global as Doc).evaluation_interval;
    for (const [file, doc] of TEST_FILES.map((f, i) => [f, testDocs()[i]!] as const)) {
      expect(doc.evaluation_interval, file).toBe(interval);
      for (const rules of doc.rule_files)
        expect(
          RULE_FILES.map((f) => `../rules/${f}`),
          file,
        ).toContain(rules);
    }
    // The alert tests load both files: the alerts read recorded series.
    const alertTests = testDocs().filter((doc) => doc.tests.some((t) => t.alert_rule_test));
    for (const doc of alertTests)
      expect(doc.rule_files.sort()).toEqual(RULE_FILES.map((f) => `../rules/${f}`));
  });
});

describe('the SLO and the thresholds', () => {
  it('README.md states the SLO, the count latency threshold and the alerts as the rules have them', () => {
    expect(readmeDisagreements(read('README.md'), ruleDocs())).toEqual([]);
  });

  it('a README that states another number, or misses an alert, is caught', () => {
    const readme = read('README.md');
    const changed = readme
      .replace(/\*\*99\.9%\*\* of requests/, '**99.5%** of requests')
      .replace(/(`POST \/api\/v1\/count`[^*]*\sabove )\*\*[\d.]+ s\*\*/, '$1**2 s**')
      .replace(/^\| `TargetDown` .*\n/m, '');
    expect(readmeDisagreements(changed, ruleDocs())).toEqual([
      'README.md: the SLO is 99.5%, the rules record 0.999',
      "README.md: the count latency threshold is 2 s, the rule's 1 s",
      expect.stringMatching(
        /^README.md: the table of alerts has NoReadyApiReplica page, .*; the rules TargetDown ticket, /,
      ),
    ]);
  });

  it('counts the same requests in every window of the error ratio', () => {
    expect(sliDisagreements(ruleDocs())).toEqual([]);
    const rules = ruleDocs();
    const rule = rulesOf(rules).find((r) => r.record === 'stagecraft:slo_errors_per_request:ratio_rate6h')!;
    rule.expr = rule.expr.replaceAll('http_route!~"/healthz|/readyz"', 'http_route!="/healthz"');
    expect(sliDisagreements(rules)).toEqual([
      'stagecraft:slo_errors_per_request:ratio_rate6h: counts other requests than stagecraft:slo_errors_per_request:ratio_rate5m',
    ]);
  });

  it("burns the budget at the workbook's rates for the SLO's days, each long window with one 1/12 its length", () => {
    const days = Number(/over \*\*(\d+) days\*\*/.exec(readmeSection(read('README.md')))![1]);
    expect(burnRateDisagreements(ruleDocs(), days)).toEqual([]);
    expect(burnRateDisagreements(ruleDocs(), 28)).toHaveLength(4);
    const rules = ruleDocs();
    const fast = alertsOf(rules).find((r) => r.alert === 'ErrorBudgetBurnFast')!;
    fast.expr = fast.expr.replace('ratio_rate5m > 14.4', 'ratio_rate5m > 10');
    expect(burnRateDisagreements(rules, days)).toEqual([
      'ErrorBudgetBurnFast (1h, 5m): burn rates 14.4 and 10 differ',
    ]);
  });

  it("names only the API's own routes", () => {
    const routes = Object.keys(openApiDocument.paths);
    const named = routesNamed(ruleDocs());
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((route) => !routes.includes(route))).toEqual([]);
  });
});

describe('every stack', () => {
  it('mounts every rules file where prometheus.yml looks for it, and no other', () => {
    expect((yaml('prometheus/prometheus.yml').rule_files as string[]).join()).toBe('rules/*.yml');
    const wanted = RULE_FILES.map((f) => `./prometheus/rules/${f} -> /etc/prometheus/rules/${f}`);
    for (const stack of STACKS) {
      const mounted = filesMounted(yaml(stack), 'prometheus');
      expect(mounted, stack).toContain('./prometheus/prometheus.yml -> /etc/prometheus/prometheus.yml');
      expect(mounted.filter((m) => m.includes('/rules/')).sort(), stack).toEqual(wanted);
    }
  });

  it("tells Prometheus where Alertmanager is only where one runs, and gives Alertmanager the webhook's secret", () => {
    const prometheus = yaml('prometheus/prometheus.yml');
    const sd = (prometheus.alerting as { alertmanagers: { file_sd_configs: { files: string[] }[] }[] })
      .alertmanagers[0]!.file_sd_configs[0]!.files;
    expect(sd).toEqual(['alertmanagers.yml']);
    const targets = (parse(read('prometheus/alertmanagers.yml')) as { targets: string[] }[])[0]!.targets;
    const mount = './prometheus/alertmanagers.yml -> /etc/prometheus/alertmanagers.yml';
    const urlFile = /url_file: (\S+)/.exec(read('alertmanager/alertmanager.yml'))![1];
    const runs = {
      'docker-compose.prod.ops.yml': true,
      'docker-stack.yml': true,
      'docker-stack.postgres.yml': true,
    } as Record<string, boolean>;
    for (const file of [...STACKS, 'docker-compose.prod.ops.yml']) {
      const doc = yaml(file);
      const alertmanager = serviceOf(doc, 'alertmanager');
      expect(filesMounted(doc, 'prometheus').includes(mount), file).toBe(runs[file] === true);
      expect(alertmanager !== undefined, file).toBe(runs[file] === true);
      if (alertmanager === undefined) continue;
      expect(targets, file).toEqual(['alertmanager:9093']);
      expect(filesMounted(doc, 'alertmanager'), file).toContain(
        './alertmanager/alertmanager.yml -> /etc/alertmanager/alertmanager.yml',
      );
      expect(alertmanager.secrets, file).toEqual(['alert_webhook_url']);
      expect(urlFile, file).toBe('/run/secrets/alert_webhook_url');
    }
  });
});
