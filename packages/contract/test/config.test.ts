/** The environment rules both services read by: empty as unset, digits only, named errors, timeout order. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  configOrExit,
  integer,
  listenHost,
  listenPorts,
  logLevel,
  serverConfig,
  serverTimeouts,
  text,
  validHost,
} from '../src/config.js';

describe('text', () => {
  it('trims, and takes the fallback for unset, empty and blank', () => {
    expect(text({ X: ' /data ' }, 'X', 'f')).toBe('/data');
    for (const env of [{}, { X: '' }, { X: '  ' }]) expect(text(env, 'X', 'f')).toBe('f');
  });
});

describe('integer', () => {
  it('reads digits within the range, the fallback when unset or empty', () => {
    expect(integer({ N: ' 42 ' }, 'N', 7, 0, 100)).toBe(42);
    expect(integer({ N: '0' }, 'N', 7, 0, 100)).toBe(0);
    expect(integer({ N: '100' }, 'N', 7, 0, 100)).toBe(100);
    expect(integer({}, 'N', 7, 0, 100)).toBe(7);
    expect(integer({ N: ' ' }, 'N', 7, 0, 100)).toBe(7);
  });

  it.each(['-1', '101', '1e2', '1.5', '0x10', 'ten', '9'.repeat(20)])(
    'refuses %j naming the variable',
    (raw) => {
      expect(() => integer({ N: raw }, 'N', 7, 0, 100)).toThrow(ConfigError);
      expect(() => integer({ N: raw }, 'N', 7, 0, 100)).toThrow(
        /^N: must be a whole number from 0 to 100, got /,
      );
    },
  );
});

describe('logLevel', () => {
  it('reads any letter case, info when unset', () => {
    expect(logLevel({ LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(logLevel({ LOG_LEVEL: '' })).toBe('info');
    expect(() => logLevel({ LOG_LEVEL: 'chatty' })).toThrow(/^LOG_LEVEL: must be one of fatal, /);
  });
});

describe('hosts', () => {
  it.each(['0.0.0.0', '127.0.0.1', '::', '::1', 'api', 'api-inspector', 'a.b.example.', 'host_1'])(
    'takes %s',
    (host) => {
      expect(validHost(host)).toBe(true);
      expect(listenHost({ HOST: host })).toBe(host);
    },
  );

  it.each(['999.1.1.1', '10.0.0', '1.2.3', 'bad host', 'a..b', '-a', `${'a'.repeat(64)}.example`])(
    'refuses %s naming HOST',
    (host) => {
      expect(validHost(host)).toBe(false);
      expect(() => listenHost({ HOST: host })).toThrow(/^HOST: /);
    },
  );

  it('listens on every interface when HOST is unset or empty', () => {
    expect(listenHost({})).toBe('0.0.0.0');
    expect(listenHost({ HOST: ' ' })).toBe('0.0.0.0');
  });
});

describe('listenPorts', () => {
  it('takes the defaults and refuses one port for traffic and metrics', () => {
    expect(listenPorts({}, { port: 3000, metricsPort: 9464 })).toEqual({ port: 3000, metricsPort: 9464 });
    expect(() => listenPorts({ METRICS_PORT: '3000' }, { port: 3000, metricsPort: 9464 })).toThrow(
      /^METRICS_PORT: must differ from PORT/,
    );
    // 0 is "any free port": two of them never collide.
    expect(listenPorts({ PORT: '0', METRICS_PORT: '0' }, { port: 3000, metricsPort: 9464 })).toEqual({
      port: 0,
      metricsPort: 0,
    });
  });
});

describe('serverTimeouts', () => {
  it('orders headers < whole request, with keep-alive above nginx (60 s)', () => {
    const timeouts = serverTimeouts({}, 'sidecar');
    expect(timeouts).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 65_000,
    });
  });

  it.each([
    [{ HEADERS_TIMEOUT_MS: '30000' }, 'HEADERS_TIMEOUT_MS'],
    [{ REQUEST_TIMEOUT_MS: '5000' }, 'HEADERS_TIMEOUT_MS'],
    [{ HEADERS_TIMEOUT_MS: '99' }, 'HEADERS_TIMEOUT_MS'],
    [{ KEEP_ALIVE_TIMEOUT_MS: '999' }, 'KEEP_ALIVE_TIMEOUT_MS'],
  ])('refuses %j naming %s, the one to change', (env, variable) => {
    expect(() => serverTimeouts(env, 'sidecar')).toThrow(new RegExp(`^${variable}: `));
  });
});

describe('serverConfig', () => {
  it("takes each service's defaults, and every variable set to nothing as unset", () => {
    const defaults = { port: 8080, metricsPort: 9464, hop: 'sidecar' as const };
    const expected = {
      host: '0.0.0.0',
      port: 8080,
      metricsPort: 9464,
      logLevel: 'info',
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 65_000,
    };
    expect(serverConfig({}, defaults)).toEqual(expected);
    const names = ['HOST', 'PORT', 'METRICS_PORT', 'LOG_LEVEL', 'HEADERS_TIMEOUT_MS', 'REQUEST_TIMEOUT_MS'];
    expect(serverConfig(Object.fromEntries(names.map((n) => [n, ' '])), defaults)).toEqual(expected);
  });
});

describe('configOrExit', () => {
  afterEach(() => vi.restoreAllMocks());

  it('returns the configuration, and lets an error that is no ConfigError through with its stack', () => {
    expect(configOrExit('svc', () => 42)).toBe(42);
    const bug = new TypeError('a bug');
    expect(() =>
      configOrExit('svc', () => {
        throw bug;
      }),
    ).toThrow(bug);
  });

  it('ends the process with one line naming the variable and exit 78 for a ConfigError', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => {
      throw new Error('exited');
    });
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(() => configOrExit('svc', () => integer({ PORT: 'x' }, 'PORT', 1, 0, 9))).toThrow('exited');
    expect(exit).toHaveBeenCalledWith(78);
    expect(write).toHaveBeenCalledExactlyOnceWith(
      'svc: invalid configuration: PORT: must be a whole number from 0 to 9, got "x"\n',
    );
  });
});
