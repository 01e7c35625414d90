import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      dataDir: './data',
      logLevel: 'info',
      fetchMaxRedirects: 5,
      fetchAllowHosts: [],
    });
    expect(config.keepAliveTimeoutMs).toBeGreaterThan(60_000);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8081',
      DATA_DIR: '/var/lib/x',
      LOG_LEVEL: 'DEBUG',
      FETCH_TIMEOUT_MS: '2000',
      FETCH_MAX_BYTES: '65536',
      FETCH_ALLOW_HOSTS: ' fixtures , 127.0.0.1, 10.0.0.0/8 ,[::1], fd00::/8',
      SHUTDOWN_TIMEOUT_MS: '5000',
    });
    expect(config).toMatchObject({
      port: 8081,
      dataDir: '/var/lib/x',
      logLevel: 'debug',
      fetchTimeoutMs: 2000,
      fetchMaxBytes: 65536,
      fetchAllowHosts: ['fixtures', '127.0.0.1', '10.0.0.0/8', '[::1]', 'fd00::/8'],
      shutdownTimeoutMs: 5000,
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '3000.5'],
    ['LOG_LEVEL', 'verbose'],
    ['FETCH_TIMEOUT_MS', '0'],
    ['FETCH_TIMEOUT_MS', '1e4'],
    ['FETCH_MAX_BYTES', '12'],
    ['FETCH_ALLOW_HOSTS', 'exa mple.com'],
    ['FETCH_ALLOW_HOSTS', '10.0.0.0/33'],
    ['FETCH_ALLOW_HOSTS', 'http://x/'],
    ['SHUTDOWN_TIMEOUT_MS', 'soon'],
    ['DATA_DIR', '   '],
  ])('rejects %s=%j naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^${name}: `));
  });
});

describe('the API process with bad configuration', () => {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  it.each([
    ['PORT', 'eighty'],
    ['FETCH_MAX_BYTES', 'lots'],
    ['LOG_LEVEL', 'loud'],
  ])('exits non-zero with a message naming %s', (name, value) => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, DATA_DIR: '/nonexistent-never-created', [name]: value },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain(`invalid configuration: ${name}:`);
  });
});
