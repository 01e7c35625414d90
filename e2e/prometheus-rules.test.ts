/**
 * Prometheus's and Alertmanager's own tools on the repository's files, in the
 * images the stacks run (docker-compose.prod.yml's Prometheus, the operator
 * overlay's Alertmanager), with no network: `promtool check config` and `check
 * rules`, `promtool test rules` on every unit test in prometheus/tests/, and
 * `amtool check-config`. Then every alert is broken twice, once never firing and
 * once always firing, and its unit tests must fail each time: a test that cannot
 * fail would let that through. (test/alert-rules.test.ts checks, without Docker,
 * that every alert has a firing and a silent case at all.)
 */
import { chmodSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { run } from '@stagecraft/testkit/command';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { requireDocker } from './helpers/docker.js';

type Doc = Record<string, unknown>;
interface RulesDoc {
  groups: { rules: { alert?: string; expr: string }[] }[];
}

const readYaml = (path: string) => parse(readFileSync(join(REPO_ROOT, path), 'utf8')) as Doc;
const imageOf = (file: string, service: string) =>
  (readYaml(file).services as Record<string, { image: string }>)[service]!.image;
const PROMETHEUS_IMAGE = imageOf('docker-compose.prod.yml', 'prometheus');
const ALERTMANAGER_IMAGE = imageOf('docker-compose.prod.ops.yml', 'alertmanager');
const RULE_FILES = readdirSync(join(REPO_ROOT, 'prometheus/rules')).sort();
const TEST_FILES = readdirSync(join(REPO_ROOT, 'prometheus/tests')).sort();

/** A tool of an image on a read-only mount, without a network; its exit status and output. */
function tool(image: string, entrypoint: string, mounts: [string, string][], args: string[]) {
  const volumes = mounts.flatMap(([host, container]) => ['-v', `${host}:${container}:ro`]);
  const result = run('docker', [
    'run',
    '--rm',
    '--network',
    'none',
    ...volumes,
    '--entrypoint',
    entrypoint,
    image,
    ...args,
  ]);
  return { status: result.status, output: result.stdout + result.stderr };
}

const promtool = (folder: string, ...args: string[]) =>
  tool(PROMETHEUS_IMAGE, '/bin/promtool', [[folder, '/etc/prometheus']], args);

describe('Prometheus configuration and rules (promtool)', () => {
  beforeAll(() => requireDocker());

  it('prometheus.yml is valid and loads every rules file', () => {
    const checked = promtool(
      join(REPO_ROOT, 'prometheus'),
      'check',
      'config',
      '/etc/prometheus/prometheus.yml',
    );
    expect(checked.status, checked.output).toBe(0);
    for (const file of RULE_FILES) expect(checked.output).toContain(`Checking /etc/prometheus/rules/${file}`);
  });

  it('every rules file is valid', () => {
    const files = RULE_FILES.map((f) => `/etc/prometheus/rules/${f}`);
    const checked = promtool(join(REPO_ROOT, 'prometheus'), 'check', 'rules', ...files);
    expect(checked.status, checked.output).toBe(0);
    expect(checked.output.match(/SUCCESS: \d+ rules found/g)).toHaveLength(RULE_FILES.length);
  });

  it('every unit test passes (promtool test rules)', () => {
    const files = TEST_FILES.map((f) => `/etc/prometheus/tests/${f}`);
    const tested = promtool(join(REPO_ROOT, 'prometheus'), 'test', 'rules', ...files);
    expect(tested.status, tested.output).toBe(0);
    expect(tested.output.match(/^ {2}SUCCESS$/gm)).toHaveLength(TEST_FILES.length);
  });
});

describe('the unit tests can fail: every alert broken, each way, fails them', () => {
  let work = '';

  beforeAll(() => {
    requireDocker();
    work = mkdtempSync(join(REPO_ROOT, 'test-results', 'e2e-rule-mutants-'));
    // Prometheus's image runs as nobody: a private folder would fail every run unread.
    chmodSync(work, 0o755);
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('never firing, or always firing, each alert fails its own unit tests', () => {
    const rules = readYaml('prometheus/rules/alerts.yml') as unknown as RulesDoc;
    const alerts = rules.groups.flatMap((g) => g.rules).flatMap((r) => r.alert ?? []);
    expect(alerts.length).toBeGreaterThan(0);
    const mutants: string[] = [];
    for (const alert of alerts) {
      for (const [how, expr] of [
        ['never', 'vector(1) < 0'],
        ['always', 'vector(1)'],
      ] as const) {
        const name = `${alert}-${how}`;
        cpSync(join(REPO_ROOT, 'prometheus'), join(work, name), { recursive: true });
        const mutant = structuredClone(rules);
        for (const rule of mutant.groups.flatMap((g) => g.rules)) if (rule.alert === alert) rule.expr = expr;
        writeFileSync(join(work, name, 'rules/alerts.yml'), stringify(mutant));
        mutants.push(name);
      }
    }
    // One container for all of them, each running only the test groups named after
    // its alert (the suite above runs them all). A mutant must fail on its own
    // alert: one that passes, or fails for another reason (a file it cannot read,
    // say), is named.
    const script = [
      `for m in ${mutants.join(' ')}; do`,
      '  a="${m%-*}"',
      '  if out=$(promtool test rules --run "^$a " /m/$m/tests/*.yml 2>&1); then echo "passed: $m";',
      '  else case "$out" in *"alertname: $a,"*) ;; *) echo "failed otherwise: $m: $out";; esac; fi',
      'done; echo checked',
    ].join('\n');
    const result = tool(PROMETHEUS_IMAGE, '/bin/sh', [[work, '/m']], ['-c', script]);
    expect(result.output.trim().split('\n')).toEqual(['checked']);
  });
});

describe('Alertmanager configuration (amtool)', () => {
  it('alertmanager.yml is valid', () => {
    requireDocker();
    const checked = tool(
      ALERTMANAGER_IMAGE,
      '/bin/amtool',
      [[join(REPO_ROOT, 'alertmanager'), '/etc/alertmanager']],
      ['check-config', '/etc/alertmanager/alertmanager.yml'],
    );
    expect(checked.status, checked.output).toBe(0);
    expect(checked.output).toContain('SUCCESS');
  });
});
