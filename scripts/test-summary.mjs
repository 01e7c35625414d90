#!/usr/bin/env node
// The closing lines of `npm run test:all` (and so of ./stagecraft test and CI):
// one line per unit project, per project holding proofs and per Docker-backed
// suite, then "tests: N passed, N failed, N skipped". It reads the three vitest
// JSON reports, test-results/unit.json (vitest.config.ts), test-results/proofs.json
// (vitest.proofs.config.ts) and test-results/e2e.json (e2e/vitest.config.ts), and
// exits non-zero, saying why, unless every suite that exists ran and passed: a
// missing report, a unit project, a proof file or an e2e/*.test.ts absent from its
// report, a failed or skipped test, a file that ran no test, or an error outside
// the tests each fail the run. So an empty or partial run cannot pass for a green one.
//
//   node scripts/test-summary.mjs [repository root]
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  e2eSuites as findE2eSuites,
  proofFiles as findProofFiles,
  unitProjects as findUnitProjects,
} from './test-suites.mjs';

const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));
const problems = [];
const totals = { passed: 0, failed: 0, skipped: 0 };

// What exists (scripts/test-suites.mjs, as the vitest configurations find it).
const unitProjects = findUnitProjects(root);
const e2eSuites = findE2eSuites(root);
const proofFiles = findProofFiles(root);
const projectOf = (file) => unitProjects.find((p) => file.startsWith(`${p}/`));

function readReport(name) {
  const file = join(root, 'test-results', name);
  if (!existsSync(file)) {
    problems.push(`no report test-results/${name}: that run did not finish`);
    return undefined;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  if (report.success !== true && report.numFailedTests === 0 && report.numFailedTestSuites === 0) {
    problems.push(`test-results/${name}: the run reported an error outside the tests`);
  }
  return report;
}

/** Counts of one test file: a test skipped because its file's hooks failed did not pass, it failed. */
function countFile(result, file) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const assertions = result.assertionResults ?? [];
  for (const a of assertions) {
    if (a.status === 'passed') counts.passed++;
    else if (a.status === 'failed' || result.status === 'failed') counts.failed++;
    else counts.skipped++;
  }
  if (assertions.length === 0) {
    if (result.status === 'failed') counts.failed++;
    problems.push(
      result.status === 'failed' ? `${file} failed before any test ran` : `${file} holds no test`,
    );
  }
  return counts;
}

/** One line per group of files (a project or a suite), from one report. */
function summarise(report, label, groups, groupOf) {
  const byGroup = new Map(groups.map((g) => [g, { passed: 0, failed: 0, skipped: 0, files: 0, ms: 0 }]));
  for (const result of report?.testResults ?? []) {
    const file = relative(root, result.name).split(sep).join('/');
    const group = byGroup.get(groupOf(file));
    if (!group) continue;
    const counts = countFile(result, file);
    group.files++;
    group.ms += (result.endTime ?? 0) - (result.startTime ?? 0);
    for (const key of ['passed', 'failed', 'skipped']) group[key] += counts[key];
  }
  if (!report) return;
  for (const [name, g] of byGroup) {
    if (g.files === 0) {
      problems.push(`${label}${name} is missing from its report: it did not run`);
      continue;
    }
    const what = `${label}${name}`;
    console.log(
      `${what}: ${g.passed} passed, ${g.failed} failed, ${g.skipped} skipped (${(g.ms / 1000).toFixed(1)} s)`,
    );
    if (g.failed > 0) problems.push(`${what}: ${g.failed} failed`);
    if (g.skipped > 0) problems.push(`${what}: ${g.skipped} skipped (a skipped test is not a pass)`);
    for (const key of ['passed', 'failed', 'skipped']) totals[key] += g[key];
  }
}

summarise(readReport('unit.json'), 'unit ', unitProjects, projectOf);
// The proofs: one line per project holding any, and each proof file must have run.
const proofs = readReport('proofs.json');
summarise(proofs, 'proofs ', [...new Set(proofFiles.map(projectOf))], projectOf);
if (proofs) {
  const ran = new Set((proofs.testResults ?? []).map((r) => relative(root, r.name).split(sep).join('/')));
  for (const file of proofFiles.filter((f) => !ran.has(f)))
    problems.push(`proofs ${file} is missing from its report: it did not run`);
}
summarise(readReport('e2e.json'), '', e2eSuites, (file) => file);

console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
if (problems.length > 0) {
  for (const problem of problems) console.error(`test-summary: ${problem}`);
  process.exit(1);
}
