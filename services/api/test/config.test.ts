import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, LIMITS, hopRules, type OrderingRule } from '@stagecraft/contract';
import { loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      dataDir: './data',
      logLevel: 'info',
      fetchMaxRedirects: 5,
      fetchAllowHosts: [],
      fetchMaxConcurrent: 16,
      fetchDnsServers: [],
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
      FETCH_MAX_CONCURRENT: '4',
      FETCH_DNS_SERVERS: '10.0.0.2, 127.0.0.1:5353 ,[::1]:53, fd00::53',
      SHUTDOWN_TIMEOUT_MS: '5000',
    });
    expect(config).toMatchObject({
      port: 8081,
      dataDir: '/var/lib/x',
      logLevel: 'debug',
      fetchTimeoutMs: 2000,
      fetchMaxBytes: 65536,
      fetchAllowHosts: ['fixtures', '127.0.0.1', '10.0.0.0/8', '[::1]', 'fd00::/8'],
      fetchMaxConcurrent: 4,
      fetchDnsServers: ['10.0.0.2', '127.0.0.1:5353', '[::1]:53', 'fd00::53'],
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
    ['FETCH_ALLOW_HOSTS', '0.0.0.0/0'],
    ['FETCH_ALLOW_HOSTS', 'fixtures, ::/0'],
    ['FETCH_ALLOW_HOSTS', '::ffff:0:0/96'],
    ['FETCH_ALLOW_HOSTS', 'fixtures:0'],
    ['FETCH_MAX_CONCURRENT', '0'],
    ['FETCH_MAX_CONCURRENT', 'many'],
    ['FETCH_DNS_SERVERS', 'dns.example'],
    ['FETCH_DNS_SERVERS', '10.0.0.2:99999'],
    ['FETCH_DNS_SERVERS', 'fe80::1%eth0'],
    ['SHUTDOWN_TIMEOUT_MS', 'soon'],
    ['HOST', '999.1.1.1'],
    ['HOST', '10.0.0'],
    ['HOST', 'not a host'],
    ['METRICS_PORT', '3000'],
    ['METRICS_PORT', '65536'],
    ['HEADERS_TIMEOUT_MS', '35000'],
    ['REQUEST_TIMEOUT_MS', '5000'],
  ])('rejects %s=%j naming the variable', (name, value) => {
    // REQUEST_TIMEOUT_MS below the default headers timeout is reported on HEADERS_TIMEOUT_MS, the one to lower.
    const named = name === 'REQUEST_TIMEOUT_MS' ? 'HEADERS_TIMEOUT_MS' : name;
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^${named}: `));
  });

  it('treats a variable set to nothing as unset, for every variable alike', () => {
    const names = ['PORT', 'METRICS_PORT', 'HOST', 'DATA_DIR', 'LOG_LEVEL', 'FETCH_TIMEOUT_MS'];
    for (const value of ['', '  ']) {
      const config = loadConfig(Object.fromEntries(names.map((name) => [name, value])));
      expect(config).toMatchObject({
        port: 3000,
        metricsPort: 9464,
        host: '0.0.0.0',
        dataDir: './data',
        logLevel: 'info',
        fetchTimeoutMs: 10_000,
      });
    }
  });

  it("checks the rules of limits.ts between two of the API's own limits, and only those", () => {
    expect(hopRules('api').map((rule) => `${rule.below} < ${rule.above}`)).toEqual([
      'API_HEADERS_TIMEOUT_MS < API_REQUEST_TIMEOUT_MS',
      'DATABASE_STATEMENT_TIMEOUT_MS < API_SHUTDOWN_TIMEOUT_MS',
      'FETCH_TIMEOUT_MS < API_SHUTDOWN_TIMEOUT_MS',
    ]);
  });

  it.each(hopRules('api').map((rule) => [`${rule.below} / ${rule.above}`, rule] as const))(
    'refuses %s crossed, naming both variables, and takes them at the boundary',
    (_name, rule: OrderingRule) => {
      const below = LIMITS[rule.below].readBy.api!;
      const above = LIMITS[rule.above].readBy.api!;
      const crossed = LIMITS[rule.above].default - rule.by + 1;
      const load = (value: number) => () => loadConfig({ [below]: String(value) });
      expect(load(crossed)).toThrow(ConfigError);
      expect(load(crossed)).toThrow(
        `${below}: ${crossed} must be ${rule.by === 1 ? 'below' : `at least ${rule.by} ms below`} ${above} (${LIMITS[rule.above].default}): ${rule.why}`,
      );
      expect(load(crossed - 1)).not.toThrow();
    },
  );

  it('orders the server timeouts: headers < whole request, keep-alive above the proxies', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 35_000 });
    expect(config.headersTimeoutMs).toBeLessThan(config.requestTimeoutMs);
    expect(config.keepAliveTimeoutMs).toBeGreaterThan(60_000);
  });
});

describe('the API process with bad configuration', () => {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  it.each([
    ['PORT', 'eighty'],
    ['FETCH_MAX_BYTES', 'lots'],
    ['LOG_LEVEL', 'loud'],
    ['FETCH_ALLOW_HOSTS', '::/0'],
  ])('exits non-zero with a message naming %s', (name, value) => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, DATA_DIR: '/nonexistent-never-created', [name]: value },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain(`invalid configuration: ${name}:`);
  });

  it('exits 78 for a fetch timeout its own drain would cut, in one line naming both', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, DATA_DIR: '/nonexistent-never-created', FETCH_TIMEOUT_MS: '20000' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^api: invalid configuration: FETCH_TIMEOUT_MS: 20000 must be at least 1000 ms below SHUTDOWN_TIMEOUT_MS \(11000\): /,
      ),
    ]);
  });
});
