/**
 * Choosing the store: DATABASE_URL_FILE or DATABASE_URL picks PostgreSQL, with its
 * pool and timeouts from limits.ts; neither keeps SQLite. A bad value stops the
 * start naming the variable (exit 78), and no message, and no JSON of the
 * configuration, quotes the URL, which holds the password. Production reads the
 * URL only from a file. No database is needed here.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, LIMITS } from '@stagecraft/contract';
import { loadConfig } from '../src/config.js';
import { runApiToExit } from './helpers/api-process.js';

const URL_WITH_PASSWORD = 'postgres://stagecraft:hunter2-very-secret@db.internal:5432/stagecraft';

function urlFile(contents: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'stagecraft-dburl-')), 'database-url');
  writeFileSync(file, contents);
  return file;
}

describe('the database settings', () => {
  it('keep SQLite when neither variable is set, or both are set to nothing', () => {
    expect(loadConfig({}).database).toBeNull();
    expect(loadConfig({ DATABASE_URL: '', DATABASE_URL_FILE: ' ' }).database).toBeNull();
  });

  it('read the URL from DATABASE_URL_FILE (trimmed) or DATABASE_URL, with the defaults of limits.ts', () => {
    const fromFile = loadConfig({
      DATABASE_URL_FILE: urlFile(`${URL_WITH_PASSWORD}\n`),
      NODE_ENV: 'production',
      API_AUTH: 'open',
    });
    expect(fromFile.database).toMatchObject({
      url: URL_WITH_PASSWORD,
      variable: 'DATABASE_URL_FILE',
      poolSize: LIMITS.DATABASE_POOL_SIZE.default,
      statementTimeoutMs: LIMITS.DATABASE_STATEMENT_TIMEOUT_MS.default,
      connectTimeoutMs: LIMITS.DATABASE_CONNECT_TIMEOUT_MS.default,
    });
    const plain = loadConfig({
      DATABASE_URL: URL_WITH_PASSWORD,
      DATABASE_POOL_SIZE: '3',
      DATABASE_STATEMENT_TIMEOUT_MS: '2500',
      DATABASE_CONNECT_TIMEOUT_MS: '800',
    });
    expect(plain.database).toMatchObject({
      variable: 'DATABASE_URL',
      poolSize: 3,
      statementTimeoutMs: 2500,
      connectTimeoutMs: 800,
    });
  });

  it('never show the URL when the configuration is logged as JSON', () => {
    const config = loadConfig({ DATABASE_URL: URL_WITH_PASSWORD });
    const text = JSON.stringify(config);
    expect(text).not.toContain('hunter2');
    expect(text).toContain('"url":"(not shown)"');
  });

  it.each([
    ['DATABASE_POOL_SIZE', '0'],
    ['DATABASE_POOL_SIZE', '101'],
    ['DATABASE_POOL_SIZE', 'ten'],
    ['DATABASE_STATEMENT_TIMEOUT_MS', '50'],
    ['DATABASE_STATEMENT_TIMEOUT_MS', '5s'],
    ['DATABASE_CONNECT_TIMEOUT_MS', '0'],
    ['DATABASE_CONNECT_TIMEOUT_MS', '60001'],
  ])('refuse %s=%j naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^${name}: `));
  });

  it.each([
    ['not a URL', { DATABASE_URL: 'hunter2-very-secret' }, 'DATABASE_URL'],
    ['another scheme', { DATABASE_URL: 'mysql://u:hunter2-very-secret@db/x' }, 'DATABASE_URL'],
    [
      'a file that does not hold a URL',
      { DATABASE_URL_FILE: urlFile('hunter2-very-secret') },
      'DATABASE_URL_FILE',
    ],
    ['an empty file', { DATABASE_URL_FILE: urlFile('\n') }, 'DATABASE_URL_FILE'],
    ['a missing file', { DATABASE_URL_FILE: '/nonexistent/database-url' }, 'DATABASE_URL_FILE'],
    [
      'both variables',
      { DATABASE_URL: URL_WITH_PASSWORD, DATABASE_URL_FILE: urlFile(URL_WITH_PASSWORD) },
      'DATABASE_URL',
    ],
    [
      'the plain variable in production',
      { DATABASE_URL: URL_WITH_PASSWORD, NODE_ENV: 'production', API_AUTH: 'open' },
      'DATABASE_URL',
    ],
  ])('refuse %s, naming the variable and quoting no password', (_name, env, variable) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(new RegExp(`^${variable}: `));
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('the API process with a bad database setting', () => {
  it('exits 78 with one line naming the variable, and no password', () => {
    const { status, stderr } = runApiToExit({
      DATA_DIR: '/nonexistent-never-created',
      DATABASE_URL: 'postgres//stagecraft:hunter2-very-secret@db',
    });
    expect(status).toBe(78);
    expect(stderr).toMatch(/^api: invalid configuration: DATABASE_URL: /m);
    expect(stderr).not.toContain('hunter2');
  });
});
