/** The CA bundle is handed on only where the file exists. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { caBundleEnv, caSecretArgs } from '../src/ca-bundle.js';

const saved = process.env.STAGECRAFT_CA_BUNDLE;
afterEach(() => {
  if (saved === undefined) delete process.env.STAGECRAFT_CA_BUNDLE;
  else process.env.STAGECRAFT_CA_BUNDLE = saved;
});

describe('the CA bundle', () => {
  it('is the build secret and the Compose variable when STAGECRAFT_CA_BUNDLE names a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'testkit-ca-'));
    try {
      const file = join(dir, 'extra.crt');
      writeFileSync(file, 'not really a certificate');
      process.env.STAGECRAFT_CA_BUNDLE = file;
      expect(caSecretArgs()).toEqual(['--secret', `id=ca_bundle,src=${file}`]);
      expect(caBundleEnv()).toEqual({ STAGECRAFT_CA_BUNDLE: file });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is nothing when the file does not exist', () => {
    process.env.STAGECRAFT_CA_BUNDLE = join(tmpdir(), 'no-such-bundle.crt');
    expect(caSecretArgs()).toEqual([]);
    expect(caBundleEnv()).toEqual({});
  });
});

describe('without STAGECRAFT_CA_BUNDLE', () => {
  it("is the system's bundle where it exists", () => {
    delete process.env.STAGECRAFT_CA_BUNDLE;
    const system = '/etc/ssl/certs/ca-certificates.crt';
    expect(caBundleEnv()).toEqual(existsSync(system) ? { STAGECRAFT_CA_BUNDLE: system } : {});
  });
});
