/**
 * scripts/test-summary.mjs on made-up repositories and vitest JSON reports: it
 * passes only when every unit project, every proof (*.process.test.ts,
 * *.memory.test.ts) and every e2e/*.test.ts ran and passed,
 * and otherwise exits non-zero naming each reason (a missing report or suite, a
 * failed or skipped test, a file that failed before its tests, an error outside
 * the tests).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '@stagecraft/testkit/command';
import { afterEach, describe, expect, it } from 'vitest';

interface FileResult {
  name: string;
  status: 'passed' | 'failed';
  assertionResults: { status: string }[];
  startTime: number;
  endTime: number;
}

let root = '';
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A repository with two unit projects (packages/a, scripts), a proof in packages/a, a package without tests, two Docker-backed suites. */
function repository() {
  root = mkdtempSync(join(tmpdir(), 'stagecraft-summary-'));
  for (const dir of ['packages/a/test', 'packages/no-tests', 'scripts/test', 'e2e', 'test-results'])
    mkdirSync(join(root, dir), { recursive: true });
  for (const project of ['packages/a', 'scripts', 'e2e'])
    writeFileSync(join(root, project, 'vitest.config.ts'), '');
  for (const suite of ['compose', 'swarm']) writeFileSync(join(root, `e2e/${suite}.test.ts`), '');
  writeFileSync(join(root, 'packages/a/test/z.memory.test.ts'), '');
}

const file = (name: string, ...statuses: string[]): FileResult => ({
  name: join(root, name),
  status: statuses.includes('failed') ? 'failed' : 'passed',
  assertionResults: statuses.map((status) => ({ status })),
  startTime: 1_000,
  endTime: 3_500,
});

function report(name: string, results: FileResult[], success = results.every((r) => r.status === 'passed')) {
  const failed = results.flatMap((r) => r.assertionResults).filter((a) => a.status === 'failed').length;
  writeFileSync(
    join(root, 'test-results', name),
    JSON.stringify({
      success,
      numFailedTests: failed,
      numFailedTestSuites: results.filter((r) => r.status === 'failed').length,
      testResults: results,
    }),
  );
}

const unitPassing = () => [
  file('packages/a/test/x.test.ts', 'passed', 'passed'),
  file('scripts/test/y.test.ts', 'passed'),
];
const proofsPassing = () => [file('packages/a/test/z.memory.test.ts', 'passed')];
const e2ePassing = () => [
  file('e2e/compose.test.ts', 'passed'),
  file('e2e/swarm.test.ts', 'passed', 'passed'),
];

function summary() {
  const result = run('node', [join(import.meta.dirname, '../test-summary.mjs'), root]);
  return { ...result, problems: result.stderr.trim().split('\n').filter(Boolean) };
}

describe('scripts/test-summary.mjs', () => {
  it('passes a complete green run: one line per project and suite, then the totals', () => {
    repository();
    report('unit.json', unitPassing());
    report('proofs.json', proofsPassing());
    report('e2e.json', e2ePassing());
    const result = summary();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      'unit packages/a: 2 passed, 0 failed, 0 skipped (2.5 s)',
      'unit scripts: 1 passed, 0 failed, 0 skipped (2.5 s)',
      'proofs packages/a: 1 passed, 0 failed, 0 skipped (2.5 s)',
      'e2e/compose.test.ts: 1 passed, 0 failed, 0 skipped (2.5 s)',
      'e2e/swarm.test.ts: 2 passed, 0 failed, 0 skipped (2.5 s)',
      'tests: 7 passed, 0 failed, 0 skipped',
    ]);
  });

  it.each(['unit.json', 'proofs.json', 'e2e.json'])('fails when a report is missing: %s', (missing) => {
    repository();
    const reports = { 'unit.json': unitPassing(), 'proofs.json': proofsPassing(), 'e2e.json': e2ePassing() };
    for (const [name, results] of Object.entries(reports)) if (name !== missing) report(name, results);
    const result = summary();
    expect(result.status).toBe(1);
    expect(result.problems).toEqual([
      `test-summary: no report test-results/${missing}: that run did not finish`,
    ]);
  });

  it('fails when a suite or a project is absent from its report (the Swarm suite left out, say)', () => {
    repository();
    report('unit.json', unitPassing().slice(0, 1));
    report('proofs.json', []);
    report('e2e.json', e2ePassing().slice(0, 1));
    const result = summary();
    expect(result.status).toBe(1);
    expect(result.problems).toEqual([
      'test-summary: unit scripts is missing from its report: it did not run',
      'test-summary: proofs packages/a is missing from its report: it did not run',
      'test-summary: proofs packages/a/test/z.memory.test.ts is missing from its report: it did not run',
      'test-summary: e2e/swarm.test.ts is missing from its report: it did not run',
    ]);
  });

  it('fails on a failed test, a skipped one, and a file that failed before any test ran', () => {
    repository();
    report('unit.json', [
      file('packages/a/test/x.test.ts', 'passed', 'failed'),
      file('scripts/test/y.test.ts', 'skipped'),
    ]);
    report('proofs.json', proofsPassing());
    report(
      'e2e.json',
      [file('e2e/compose.test.ts'), file('e2e/swarm.test.ts', 'passed')].map((r, i) =>
        i === 0 ? { ...r, status: 'failed' as const } : r,
      ),
    );
    const result = summary();
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('tests: 3 passed, 2 failed, 1 skipped');
    expect(result.problems).toEqual([
      'test-summary: unit packages/a: 1 failed',
      'test-summary: unit scripts: 1 skipped (a skipped test is not a pass)',
      'test-summary: e2e/compose.test.ts failed before any test ran',
      'test-summary: e2e/compose.test.ts: 1 failed',
    ]);
  });

  it('fails when the run reported an error outside the tests, every test having passed', () => {
    repository();
    report('unit.json', unitPassing(), false);
    report('proofs.json', proofsPassing());
    report('e2e.json', e2ePassing());
    const result = summary();
    expect(result.status).toBe(1);
    expect(result.problems).toEqual([
      'test-summary: test-results/unit.json: the run reported an error outside the tests',
    ]);
  });
});
