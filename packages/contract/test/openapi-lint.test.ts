/**
 * The OpenAPI document passes @redocly/cli's recommended rules with no warning
 * (redocly.yaml at the repository root): every operation declares its security,
 * every operation lists a client error, the licence is stated.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '../../..');
const documentPath = join(here, '../src/openapi.json');
const cli = join(dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')), 'bin/cli.js');

describe('OpenAPI lint', () => {
  it('has no errors or warnings under the recommended rules', () => {
    const run = spawnSync(
      process.execPath,
      [cli, 'lint', '--config', join(repoRoot, 'redocly.yaml'), '--format', 'stylish', documentPath],
      {
        encoding: 'utf8',
        timeout: 60_000,
        // No telemetry or update check: the linter talks to nothing.
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    );
    const output = `${run.stdout}\n${run.stderr}`;
    expect(output, output).toContain('valid');
    expect(run.status, output).toBe(0);
    expect(output).not.toMatch(/warning/i);
  });
});
