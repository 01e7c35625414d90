/**
 * The Grafana dashboard (grafana/dashboards/stagecraft.json) is importable as it
 * is, and docker-compose.grafana.yml provisions it: Grafana itself cannot be
 * pulled or run on the test machines, so this is what stands in for opening it.
 * The JSON has a uid, a schemaVersion, a datasource variable; every panel but the
 * rows has the Prometheus datasource and at least one query, whose variables are
 * all defined and all listed in grafana/query-values.yml (the values
 * e2e/alerts.test.ts runs the queries with against a live Prometheus); the
 * recording rules it reads exist. The provisioning files the overlay mounts
 * exist and point at each other and at Prometheus where the operator overlay has
 * it; `docker compose config` accepts the overlay where Docker is installed, and
 * its structure is checked either way. Each check is also run on a broken copy.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

type Doc = Record<string, unknown>;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const yaml = (path: string) => parse(read(path)) as Doc;

const DASHBOARD = 'grafana/dashboards/stagecraft.json';
const OVERLAY = 'docker-compose.grafana.yml';
const STACK = ['docker-compose.prod.yml', 'docker-compose.prod.ops.yml', OVERLAY];

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
  gridPos?: { x: number; y: number; w: number; h: number };
}
interface Variable {
  name: string;
  type: string;
  query?: unknown;
  allValue?: string;
  includeAll?: boolean;
}
interface Dashboard {
  id?: unknown;
  uid?: unknown;
  title?: unknown;
  schemaVersion?: unknown;
  templating?: { list: Variable[] };
  panels?: Panel[];
}

const dashboard = () => JSON.parse(read(DASHBOARD)) as Dashboard;
/** The values the e2e test gives each variable, by name with its $. */
const queryValues = () => yaml('grafana/query-values.yml') as Record<string, string>;

/** Every panel, those inside collapsed rows included. */
function panelsOf(doc: Dashboard): Panel[] {
  return (doc.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Grafana variable references in a query: $name, ${name} and ${name:format}, [[name]]. */
function variablesIn(expr: string): string[] {
  const names = [...expr.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g)].map(
    (m) => `$${m[1] ?? m[2] ?? m[3]}`,
  );
  return [...new Set(names)];
}

/** The names of the recording rules (prometheus/rules/recording.yml). */
function recordedSeries(): Set<string> {
  const rules = yaml('prometheus/rules/recording.yml') as {
    groups: { rules: { record?: string }[] }[];
  };
  return new Set(rules.groups.flatMap((g) => g.rules.flatMap((r) => r.record ?? [])));
}

/** What stops the dashboard from importing, or from answering once imported. */
function dashboardProblems(doc: Dashboard, values: Record<string, string>): string[] {
  const out: string[] = [];
  if (typeof doc.uid !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(doc.uid))
    out.push('no uid of 1 to 40 letters, digits, - or _');
  if (typeof doc.title !== 'string' || doc.title === '') out.push('no title');
  if (typeof doc.schemaVersion !== 'number' || doc.schemaVersion < 36)
    out.push('no schemaVersion of 36 (Grafana 9) or newer');
  if (doc.id !== null && doc.id !== undefined) out.push('an id: an import or a provisioning would clash');
  const variables = doc.templating?.list ?? [];
  const datasource = variables.find((v) => v.type === 'datasource');
  if (datasource?.query !== 'prometheus') out.push('no datasource variable of type prometheus');
  const defined = new Set([
    ...variables.map((v) => `$${v.name}`),
    '$__rate_interval',
    '$__interval',
    '$__range',
  ]);
  // "All" sends the allValue: the e2e substitutes exactly that.
  for (const v of variables)
    if (v.includeAll && values[`$${v.name}`] !== v.allValue)
      out.push(
        `variable ${v.name}: query-values.yml has ${values[`$${v.name}`]}, its "All" is ${v.allValue}`,
      );
  const ids = new Set<number>();
  const used = new Set<string>();
  const recorded = recordedSeries();
  for (const panel of panelsOf(doc)) {
    const name = `panel ${JSON.stringify(panel.title ?? panel.id)}`;
    if (typeof panel.id !== 'number' || ids.has(panel.id))
      out.push(`${name}: no id, or one another panel has`);
    ids.add(panel.id!);
    const grid = panel.gridPos;
    if (!grid || grid.x < 0 || grid.w < 1 || grid.x + grid.w > 24 || grid.h < 1)
      out.push(`${name}: no gridPos within Grafana's 24 columns`);
    if (panel.type === 'row') continue; // layout only: no query
    if (panel.datasource?.uid !== `\${${datasource?.name}}` || panel.datasource.type !== 'prometheus')
      out.push(`${name}: its datasource is not the Prometheus of the datasource variable`);
    if (!panel.targets?.length) out.push(`${name}: no targets`);
    const refIds = new Set<string>();
    for (const target of panel.targets ?? []) {
      if (!target.expr?.trim()) out.push(`${name}: a target without a query`);
      if (!target.refId || refIds.has(target.refId)) out.push(`${name}: a target without its own refId`);
      refIds.add(target.refId ?? '');
      if (target.datasource?.uid !== panel.datasource?.uid)
        out.push(`${name}: a target on another datasource than its panel's`);
      for (const variable of variablesIn(target.expr ?? '')) {
        used.add(variable);
        if (!defined.has(variable)) out.push(`${name}: ${variable} is no variable of the dashboard`);
        if (values[variable] === undefined) out.push(`${name}: ${variable} is not in query-values.yml`);
      }
      for (const [series] of (target.expr ?? '').matchAll(/\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b/g))
        if (!recorded.has(series)) out.push(`${name}: ${series} is no recording rule of recording.yml`);
    }
  }
  for (const variable of Object.keys(values))
    if (!used.has(variable)) out.push(`query-values.yml lists ${variable}, which no query uses`);
  return out;
}

interface Service {
  volumes?: unknown[];
  networks?: unknown;
  secrets?: string[];
  image?: string;
}

/** What stops the overlay from provisioning the dashboard against the stack's Prometheus. */
function provisioningProblems(overlay: Doc, ops: Doc): string[] {
  const out: string[] = [];
  const grafana = (overlay.services as Record<string, Service> | undefined)?.grafana;
  if (!grafana) return ['no grafana service'];
  if (!/^grafana\/grafana(-oss)?:\d+\.\d+\.\d+$/.test(grafana.image ?? ''))
    out.push(`image ${grafana.image}: not a pinned grafana/grafana release`);
  const mounts = new Map<string, string>(); // container path -> host path
  for (const volume of grafana.volumes ?? []) {
    if (typeof volume !== 'string' || !volume.startsWith('./')) continue;
    const [host, container] = volume.split(':') as [string, string];
    if (!existsSync(join(ROOT, host))) out.push(`${host} is mounted but does not exist`);
    mounts.set(container, host);
  }
  const hostOf = (container: string) => mounts.get(container);
  const under = (folder: string) => [...mounts.keys()].filter((c) => dirname(c) === folder);
  const sources = under('/etc/grafana/provisioning/datasources');
  const providers = under('/etc/grafana/provisioning/dashboards');
  if (sources.length === 0) out.push('no datasource provisioning file mounted');
  if (providers.length === 0) out.push('no dashboard provider mounted');
  // Every dashboard of grafana/dashboards/ is mounted where a provider reads.
  const folders = providers.flatMap((c) => {
    const host = hostOf(c)!;
    if (!existsSync(join(ROOT, host))) return [];
    const doc = yaml(host) as { providers?: { type?: string; options?: { path?: string } }[] };
    return (doc.providers ?? []).filter((p) => p.type === 'file').flatMap((p) => p.options?.path ?? []);
  });
  for (const file of readdirSync(join(ROOT, 'grafana/dashboards'))) {
    const mounted = [...mounts].find(([, host]) => host === `./grafana/dashboards/${file}`);
    if (!mounted) out.push(`grafana/dashboards/${file} is not mounted`);
    else if (!folders.includes(dirname(mounted[0])))
      out.push(`grafana/dashboards/${file} is mounted at ${mounted[0]}, where no provider reads`);
  }
  // The datasource is Prometheus at an alias it listens on, on a network Grafana joins.
  const prometheus = (ops.services as Record<string, { networks?: Record<string, { aliases?: string[] }> }>)
    .prometheus;
  const networks = Array.isArray(grafana.networks) ? (grafana.networks as string[]) : [];
  const reachable = networks.flatMap((n) => [...(prometheus?.networks?.[n]?.aliases ?? []), 'prometheus']);
  for (const c of sources.filter((s) => existsSync(join(ROOT, hostOf(s)!)))) {
    const doc = yaml(hostOf(c)!) as { datasources?: { type?: string; url?: string }[] };
    const ds = (doc.datasources ?? []).find((d) => d.type === 'prometheus');
    if (!ds) {
      out.push(`${hostOf(c)}: no prometheus datasource`);
      continue;
    }
    const url = new URL(ds.url ?? 'invalid:');
    if (url.port !== '9090' || !reachable.includes(url.hostname) || !networks.length)
      out.push(`${hostOf(c)}: ${ds.url} is not Prometheus on a network Grafana joins (${networks.join()})`);
  }
  if (!grafana.secrets?.includes('grafana_admin_password'))
    out.push('no admin password secret: Grafana would start with admin/admin');
  return out;
}

/** `docker compose config` on the stack with the overlay: its exit status and errors, or undefined without Docker. */
function composeConfig(files: string[]): { status: number; stderr: string } | undefined {
  const version = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (version.status !== 0) return undefined;
  const args = ['compose', ...files.flatMap((f) => ['-f', f]), 'config', '--quiet'];
  const result = spawnSync('docker', args, { cwd: ROOT, encoding: 'utf8' });
  return { status: result.status ?? 1, stderr: result.stderr };
}

describe('the dashboard JSON', () => {
  it('imports as it is: uid, schemaVersion, and every panel with the datasource and queries', () => {
    const doc = dashboard();
    expect(dashboardProblems(doc, queryValues())).toEqual([]);
    const queries = panelsOf(doc).flatMap((p) => p.targets ?? []);
    expect(queries.length).toBeGreaterThanOrEqual(15);
  });

  it('covers RED per route, the SLO and its budget, and the runtime of both services', () => {
    const exprs = panelsOf(dashboard())
      .flatMap((p) => p.targets ?? [])
      .map((t) => t.expr ?? '')
      .join('\n');
    for (const wanted of [
      'route_method:http_server_requests:rate5m',
      'route_method:http_server_errors_per_request:ratio_rate5m',
      'route_method:http_server_request_duration_seconds:quantile_rate5m',
      'stagecraft:slo_error_budget_remaining:ratio_rate30d',
      'stagecraft:slo_errors_per_request:ratio_rate1h',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds',
      'process_cpu_seconds_total',
    ])
      expect(exprs).toContain(wanted);
  });

  it('a broken copy is caught: no uid, a panel without datasource or targets, an unknown or unlisted variable', () => {
    const doc = dashboard();
    delete doc.uid;
    doc.schemaVersion = 20;
    const panels = doc.panels!.filter((p) => p.type !== 'row');
    delete panels[0]!.datasource;
    panels[1]!.targets = [];
    panels[2]!.targets![0]!.expr = 'rate(x{route=~"$routes"}[$__rate_interval])';
    panels[3]!.targets![0]!.expr = 'stagecraft:no_such:ratio';
    const values = { ...queryValues(), $route: 'x', $unused: '1' };
    expect(dashboardProblems(doc, values)).toEqual([
      'no uid of 1 to 40 letters, digits, - or _',
      'no schemaVersion of 36 (Grafana 9) or newer',
      'variable route: query-values.yml has x, its "All" is .*',
      `panel ${JSON.stringify(panels[0]!.title)}: its datasource is not the Prometheus of the datasource variable`,
      `panel ${JSON.stringify(panels[0]!.title)}: a target on another datasource than its panel's`,
      `panel ${JSON.stringify(panels[1]!.title)}: no targets`,
      `panel ${JSON.stringify(panels[2]!.title)}: $routes is no variable of the dashboard`,
      `panel ${JSON.stringify(panels[2]!.title)}: $routes is not in query-values.yml`,
      `panel ${JSON.stringify(panels[3]!.title)}: stagecraft:no_such:ratio is no recording rule of recording.yml`,
      'query-values.yml lists $unused, which no query uses',
    ]);
  });
});

describe('the provisioning overlay (docker-compose.grafana.yml)', () => {
  it('mounts files that exist, the dashboard where its provider reads, Prometheus where Grafana reaches it', () => {
    expect(provisioningProblems(yaml(OVERLAY), yaml('docker-compose.prod.ops.yml'))).toEqual([]);
  });

  it('a broken copy is caught: a missing file, a dashboard outside the provider, Prometheus out of reach', () => {
    const overlay = yaml(OVERLAY);
    const grafana = (overlay.services as Record<string, Service>).grafana!;
    grafana.volumes = grafana.volumes!.map((v) =>
      typeof v !== 'string'
        ? v
        : v
            .replace('datasources/prometheus.yml:', 'datasources/prometheus.yaml:')
            .replace(':/etc/grafana/dashboards/stagecraft.json', ':/var/lib/grafana/stagecraft.json'),
    );
    grafana.networks = ['alerting'];
    expect(provisioningProblems(overlay, yaml('docker-compose.prod.ops.yml'))).toEqual([
      './grafana/provisioning/datasources/prometheus.yaml is mounted but does not exist',
      'grafana/dashboards/stagecraft.json is mounted at /var/lib/grafana/stagecraft.json, where no provider reads',
    ]);
    grafana.volumes = grafana.volumes!.map((v) =>
      typeof v === 'string' ? v.replace('prometheus.yaml:', 'prometheus.yml:') : v,
    );
    expect(provisioningProblems(overlay, yaml('docker-compose.prod.ops.yml'))).toEqual([
      'grafana/dashboards/stagecraft.json is mounted at /var/lib/grafana/stagecraft.json, where no provider reads',
      './grafana/provisioning/datasources/prometheus.yml: http://prometheus-ops:9090 is not Prometheus on a network Grafana joins (alerting)',
    ]);
  });

  it('is valid Compose on the production stack and the operator overlay (docker compose config, where Docker is)', () => {
    // Structure first, whatever the machine: one service, on ops, every file a bind mount of ours.
    const overlay = yaml(OVERLAY);
    expect(Object.keys(overlay.services as Doc)).toEqual(['grafana']);
    expect(Object.keys(overlay.secrets as Doc)).toEqual(['grafana_admin_password']);
    expect(Object.keys((yaml('docker-compose.prod.ops.yml').networks as Doc) ?? {})).toContain('ops');
    const result = composeConfig(STACK);
    if (result === undefined) {
      console.log('docker compose is not installed here: the overlay was checked by its structure only');
      return;
    }
    expect(result.stderr, 'docker compose config').toBe('');
    expect(result.status).toBe(0);
    // Without the operator overlay there is no ops network to join: Compose refuses it.
    const alone = composeConfig(['docker-compose.prod.yml', OVERLAY])!;
    expect(alone.status).not.toBe(0);
    expect(alone.stderr).toMatch(/undefined network ops/);
  });
});
