import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

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
  ])('rejects %s=%j naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^${name}: `));
  });
});
