/** The sidecar's configuration: defaults, every rejection naming its variable, empty as unset, timeout order. */
import { describe, expect, it } from 'vitest';
import { ConfigError, LIMITS, hopRules } from '@stagecraft/contract';
import { loadConfig } from '../src/config.js';

describe('sidecar configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      metricsPort: 9464,
      upstreamTimeoutMs: 30_000,
      upstreamRetries: 2,
    });
    expect(config.upstream.href).toBe('http://api:3000/');
    expect(config.keepAliveTimeoutMs).toBeGreaterThan(60_000);
  });

  it.each([
    ['UPSTREAM_URL', 'api:3000:x'],
    ['UPSTREAM_URL', 'http://api:3000/prefix'],
    ['UPSTREAM_URL', 'http://user:pw@api:3000'],
    ['PORT', '-5'],
    ['METRICS_PORT', '8080'],
    ['LOG_LEVEL', 'chatty'],
    ['SHUTDOWN_TIMEOUT_MS', 'never'],
    ['UPSTREAM_RETRIES', '6'],
    ['UPSTREAM_RETRIES', '-1'],
    ['HOST', '999.1.1.1'],
    ['HOST', '1.2.3'],
    ['HOST', 'bad host'],
    ['HEADERS_TIMEOUT_MS', '30000'],
    ['HEADERS_TIMEOUT_MS', '99'],
    ['REQUEST_TIMEOUT_MS', 'soon'],
  ])('rejects %s=%j naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^${name}: `));
  });

  it('treats a variable set to nothing as unset, for every variable alike', () => {
    const names = ['PORT', 'METRICS_PORT', 'HOST', 'LOG_LEVEL', 'UPSTREAM_URL', 'UPSTREAM_TIMEOUT_MS'];
    for (const value of ['', ' ']) {
      expect(loadConfig(Object.fromEntries(names.map((name) => [name, value])))).toMatchObject({
        port: 8080,
        metricsPort: 9464,
        host: '0.0.0.0',
        logLevel: 'info',
        upstreamTimeoutMs: 30_000,
      });
    }
  });

  it("checks the rules of limits.ts between two of the sidecar's own limits: headers below the whole request", () => {
    expect(hopRules('sidecar').map((rule) => `${rule.below} < ${rule.above}`)).toEqual([
      'SIDECAR_HEADERS_TIMEOUT_MS < SIDECAR_REQUEST_TIMEOUT_MS',
    ]);
    const [rule] = hopRules('sidecar');
    // Lowering the whole-request timeout to the headers' is what crosses it: the
    // message names the headers timeout, the one to lower, and the other variable.
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '10000' })).toThrow(
      `HEADERS_TIMEOUT_MS: 10000 must be below REQUEST_TIMEOUT_MS (10000): ${rule!.why}`,
    );
    expect(loadConfig({ REQUEST_TIMEOUT_MS: '10001' }).requestTimeoutMs).toBe(10_001);
  });

  it('orders the server timeouts: headers < whole request; keep-alive above the gateway', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
    expect(config.headersTimeoutMs).toBeLessThan(config.requestTimeoutMs);
    // nginx's upstream keepalive_timeout toward the sidecar is this limit in its
    // templates (test/limits-agree.test.ts at the root holds them to it).
    const gateway = LIMITS.GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS.default;
    expect(config.keepAliveTimeoutMs).toBeGreaterThan(gateway);
    expect(config.keepAliveTimeoutMs).toBe(LIMITS.SIDECAR_KEEP_ALIVE_TIMEOUT_MS.default);
  });
});
