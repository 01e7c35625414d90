#!/usr/bin/env node
// Prints one closing line for every vitest JSON report under test-results/:
// "tests: N passed, N failed, N skipped", after one line per report. Exits non-zero
// when there is no report at all, or the reports together count no test, so an
// empty run cannot pass for a green one.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = new URL('../test-results/', import.meta.url).pathname;
let files = [];
try {
  files = readdirSync(dir).filter((f) => f.endsWith('.json'));
} catch {
  // no directory: reported below
}
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  let filePassed = 0;
  let fileFailed = 0;
  let fileSkipped = 0;
  for (const result of report.testResults) {
    const assertions = result.assertionResults ?? [];
    // A test skipped because its file's hooks failed did not pass: it counts as failed.
    for (const a of assertions) {
      if (a.status === 'passed') filePassed++;
      else if (a.status === 'failed' || result.status === 'failed') fileFailed++;
      else fileSkipped++;
    }
    if (assertions.length === 0 && result.status === 'failed') fileFailed++;
  }
  passed += filePassed;
  failed += fileFailed;
  skipped += fileSkipped;
  console.log(`${file.replace(/\.json$/, '')}: ${filePassed} passed, ${fileFailed} failed`);
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (files.length === 0 || passed + failed === 0) {
  console.error('test-summary: no test ran');
  process.exit(1);
}
