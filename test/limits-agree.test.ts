/**
 * One source for every limit ordered across hops: limits.ts's defaults keep its
 * own rules, and every copy outside TypeScript agrees with it (the gateway's
 * entrypoint script and Dockerfile, its nginx templates and the benchmark's, every
 * stack and overlay file, README.md). Each check is first shown to catch a drifted
 * copy, then run on the repository's file. No Docker: e2e/images.test.ts proves
 * the gateway enforces what it renders.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  LIMITS,
  ORDERING_RULES,
  limitDefaults,
  limitReadBy,
  orderingViolations,
  type LimitName,
} from '@stagecraft/contract';
import {
  bodyTooLargeDisagreements,
  gatewayDockerfileDisagreements,
  gatewayScriptDisagreements,
  nginxDisagreements,
  overlayDisagreements,
  readmeDisagreements,
  stackDisagreements,
} from './limits-copies.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const SCRIPT = 'nginx/entrypoint/18-stagecraft-limits.envsh';
const SERVER = 'nginx/templates/10-gateway-server.conf.template';
/** The files that run the three hops, each passing every limit. */
const STACKS = ['docker-compose.yml', 'docker-compose.prod.yml', 'docker-stack.yml'];
/** Every other Compose file: overlays on those, which must leave the limits alone. */
const OVERLAYS = [
  ...readdirSync(ROOT)
    .filter((f) => /^docker-compose\..+\.yml$/.test(f))
    .filter((f) => !STACKS.includes(f)),
  ...['bench', 'e2e', '.devcontainer'].flatMap((dir) =>
    readdirSync(join(ROOT, dir))
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => `${dir}/${f}`),
  ),
];

/** The gateway's nginx configuration: its templates, its snippets, and the benchmark's template. */
function gatewayConfig(): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (/\.(conf|template)$/.test(entry.name) && !entry.name.endsWith('.json.template'))
        files[path] = read(path);
    }
  };
  for (const dir of ['nginx/templates', 'nginx/snippets', 'bench/gateway']) walk(dir);
  return files;
}

/** `text` with its one `from` replaced by `to` (fails if `from` is not there exactly once). */
function drift(text: string, from: string | RegExp, to: string): string {
  const count =
    typeof from === 'string'
      ? text.split(from).length - 1
      : [...text.matchAll(new RegExp(from.source, `${from.flags.replace('g', '')}g`))].length;
  expect(count, `${String(from)} in the copy`).toBe(1);
  return text.replace(from, to);
}

describe('limits.ts', () => {
  it('keeps its own rules with its defaults', () => {
    expect(orderingViolations(limitDefaults())).toEqual([]);
    expect(orderingViolations()).toEqual([]);
  });

  it('names each hop that reads a limit, and every hop reads under one name one limit', () => {
    for (const [name, limit] of Object.entries(LIMITS)) {
      expect(Object.keys(limit.readBy).length, name).toBeGreaterThan(0);
      for (const [hop, variable] of Object.entries(limit.readBy))
        expect(limitReadBy(hop as 'api', variable), `${hop} ${variable}`).toBe(limit);
      expect(limit.default, name).toBeGreaterThanOrEqual(limit.min);
      expect(limit.default, name).toBeLessThanOrEqual(limit.max);
    }
    expect(() => limitReadBy('gateway', 'SHUTDOWN_TIMEOUT_MS')).toThrow('no limit is read by the gateway');
  });
});

describe('orderingViolations', () => {
  it.each(ORDERING_RULES.map((rule) => [`${rule.below} / ${rule.above}`, rule] as const))(
    'reports %s when the two cross, and only that rule',
    (_name, rule) => {
      const defaults = limitDefaults();
      // Raise the lower one to just past what the rule allows (within its range).
      const crossed = defaults[rule.above] - rule.by + 1;
      const broken = orderingViolations({ [rule.below]: crossed });
      expect(broken.map((v) => [v.below, v.above])).toContainEqual([rule.below, rule.above]);
      const message = broken.find((v) => v.below === rule.below && v.above === rule.above)!.message;
      expect(message).toContain(`${rule.below} (${crossed})`);
      expect(message).toContain(rule.why);
      // At the boundary the rule holds.
      expect(
        orderingViolations({ [rule.below]: crossed - 1 }).filter(
          (v) => v.below === rule.below && v.above === rule.above,
        ),
      ).toEqual([]);
    },
  );

  it('says "below", "at most" and "at least N ms below" as the rule does', () => {
    const say = (values: Partial<Record<LimitName, number>>) =>
      orderingViolations(values).map((v) => v.message);
    expect(say({ UPSTREAM_TIMEOUT_MS: 45_000 })[0]).toMatch(
      /^UPSTREAM_TIMEOUT_MS \(45000\) must be below GATEWAY_PROXY_READ_TIMEOUT_MS \(45000\): /,
    );
    expect(say({ SIDECAR_REQUEST_TIMEOUT_MS: 30_001, API_REQUEST_TIMEOUT_MS: 60_000 })).toEqual([
      expect.stringMatching(
        /^SIDECAR_REQUEST_TIMEOUT_MS \(30001\) must be at most GATEWAY_PROXY_SEND_TIMEOUT_MS \(30000\)/,
      ),
    ]);
    expect(say({ GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS: 64_500 })).toEqual([
      expect.stringMatching(/must be at least 1000 ms below SIDECAR_KEEP_ALIVE_TIMEOUT_MS \(65000\)/),
      expect.stringMatching(/must be at least 1000 ms below API_KEEP_ALIVE_TIMEOUT_MS \(65000\)/),
    ]);
  });

  it('reports a value outside its range, or not a whole number', () => {
    expect(orderingViolations({ FETCH_MAX_BYTES: 512 }).map((v) => v.message)).toEqual([
      'FETCH_MAX_BYTES (512) must be a whole number from 1024 to 1073741824',
    ]);
    expect(orderingViolations({ FETCH_MAX_BYTES: 2048.5 })).toHaveLength(1);
  });

  it('takes raised limits that keep the order, e.g. every fetch-bound timeout doubled', () => {
    expect(
      orderingViolations({
        FETCH_TIMEOUT_MS: 20_000,
        API_SHUTDOWN_TIMEOUT_MS: 20_000,
        API_STOP_GRACE_PERIOD_MS: 25_000,
        GATEWAY_STOP_GRACE_PERIOD_MS: 20_000,
        SIDECAR_SHUTDOWN_TIMEOUT_MS: 20_000,
        SIDECAR_STOP_GRACE_PERIOD_MS: 25_000,
      }),
    ).toEqual([]);
  });
});

describe("the gateway's copies", () => {
  it('its entrypoint script checks every gateway limit with the default and range of limits.ts', () => {
    const script = read(SCRIPT);
    expect(gatewayScriptDisagreements(drift(script, / 45000 1000 3600000 /, ' 46000 1000 3600000 '))).toEqual(
      [
        'GATEWAY_PROXY_READ_TIMEOUT_MS: the gateway\'s script has "46000 1000 3600000 milliseconds", limits.ts "45000 1000 3600000 milliseconds"',
      ],
    );
    expect(gatewayScriptDisagreements(drift(script, /^stagecraft_limit FETCH_MAX_BYTES .*$/m, ''))).toEqual([
      "FETCH_MAX_BYTES: the gateway's entrypoint script does not check it",
    ]);
    expect(gatewayScriptDisagreements(script)).toEqual([]);
  });

  it('its Dockerfile runs that script before the renderer, renders at build, and sets no limit itself', () => {
    const dockerfile = read('nginx/Dockerfile');
    expect(
      gatewayDockerfileDisagreements(
        drift(dockerfile, /^ENV NGINX_ENVSUBST_FILTER=.*$/m, 'ENV FETCH_MAX_BYTES=11534336'),
      ),
    ).toEqual([
      'no NGINX_ENVSUBST_FILTER: every variable of the environment would be substituted',
      "FETCH_MAX_BYTES: set by an ENV of the image; its default is the entrypoint script's",
    ]);
    expect(
      gatewayDockerfileDisagreements(drift(dockerfile, /nginx\/entrypoint\/18-/, 'nginx/entrypoint/28-')),
    ).toEqual(['the limits script (28-) would run after the renderer (20-)']);
    expect(gatewayDockerfileDisagreements(dockerfile)).toEqual([]);
  });

  it('its templates and the benchmark gateway use the limits, never a number, and the 413 document states the limit', () => {
    const files = gatewayConfig();
    const bench = 'bench/gateway/90-bench.conf.template';
    expect(Object.keys(files)).toEqual(expect.arrayContaining([SERVER, bench]));
    const drifted = {
      ...files,
      [SERVER]: drift(
        files[SERVER]!,
        'proxy_read_timeout ${GATEWAY_PROXY_READ_TIMEOUT_MS}ms;',
        'proxy_read_timeout 45s;',
      ),
      [bench]: drift(
        drift(
          files[bench]!,
          /(listen 8081;\n.*\n\s*)client_max_body_size \$\{FETCH_MAX_BYTES\};/,
          '$1client_max_body_size 11m;',
        ),
        /\n\s*keepalive_timeout .*;/,
        '',
      ),
    };
    expect(nginxDisagreements(drifted, SERVER)).toEqual([
      `${bench}: client_max_body_size 11m, not \${FETCH_MAX_BYTES}`,
      `${bench}: upstream bench_api keeps connections with keepalive_timeout (nginx's default), not \${GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS}ms`,
      `${SERVER}: location /api/ has proxy_read_timeout 45s, not \${GATEWAY_PROXY_READ_TIMEOUT_MS}ms`,
      'GATEWAY_PROXY_READ_TIMEOUT_MS: passed to the gateway, used by none of its templates',
    ]);
    expect(
      nginxDisagreements(
        { ...files, 'x.conf.template': 'proxy_read_timeout ${UPSTREAM_TIMEOUT_MS}ms;' },
        SERVER,
      ),
    ).toEqual(['x.conf.template: uses ${UPSTREAM_TIMEOUT_MS}, which no stack passes to the gateway']);
    expect(nginxDisagreements(files, SERVER)).toEqual([]);

    const problem = read('nginx/templates/errors/413.json.template');
    expect(bodyTooLargeDisagreements(problem.replace('${FETCH_MAX_BYTES} bytes', '11 MB'))).toEqual([
      '413.json: its detail does not state ${FETCH_MAX_BYTES} bytes',
    ]);
    expect(bodyTooLargeDisagreements(problem)).toEqual([]);
  });
});

describe('the stack files', () => {
  it.each(STACKS)('%s passes every limit to every hop that reads it, and its stop grace periods', (file) => {
    const text = read(file);
    expect(text).toMatch(/^x-limits:$/m);
    expect(stackDisagreements(file, text)).toEqual([]);
  });

  it('a stack that drops a limit, sets one itself, or moves a grace period is caught', () => {
    const text = read('docker-compose.prod.yml');
    const drifted = drift(
      drift(text, /^ {4}GATEWAY_PROXY_READ_TIMEOUT_MS: .*\n/m, ''),
      /stop_grace_period: \$\{API_STOP_GRACE_PERIOD_MS:-15000\}ms/,
      'stop_grace_period: 15s',
    ).replace(
      'API_TOKEN_FILE: /run/secrets/api_token',
      "API_TOKEN_FILE: /run/secrets/api_token\n      SHUTDOWN_TIMEOUT_MS: '10000'",
    );
    expect(stackDisagreements('prod', drifted)).toEqual([
      'prod: api\'s SHUTDOWN_TIMEOUT_MS is "10000", not ${API_SHUTDOWN_TIMEOUT_MS:-}',
      'prod: api\'s stop_grace_period is "15s", not ${API_STOP_GRACE_PERIOD_MS:-15000}ms',
      "prod: gateway's GATEWAY_PROXY_READ_TIMEOUT_MS is null, not ${GATEWAY_PROXY_READ_TIMEOUT_MS:-}",
    ]);
  });

  it('no overlay sets a limit or a stop grace period of the hops', () => {
    expect(OVERLAYS).toEqual(
      expect.arrayContaining([
        'bench/compose.bench.yml',
        'e2e/compose.fixtures.yml',
        'docker-compose.prod.ops.yml',
      ]),
    );
    for (const file of OVERLAYS) expect(overlayDisagreements(file, read(file)), file).toEqual([]);
    const bench = read('bench/compose.bench.yml');
    expect(
      overlayDisagreements(
        'bench',
        drift(bench, '      HOST: 0.0.0.0', '      HOST: 0.0.0.0\n      UPSTREAM_TIMEOUT_MS: 1000'),
      ),
    ).toEqual(["bench: sets sidecar's UPSTREAM_TIMEOUT_MS, which the stack passes from its limits"]);
    // The benchmark's gateway servers are a template the gateway renders, not a fixed conf.d file.
    expect(bench).toContain(
      './bench/gateway/90-bench.conf.template:/etc/nginx/templates/90-bench.conf.template:ro',
    );
  });
});

describe('README.md', () => {
  it('lists every limit with its default, as the API and sidecar tables do', () => {
    const readme = read('README.md');
    expect(
      readmeDisagreements(
        drift(
          readme,
          /^\| `GATEWAY_STOP_GRACE_PERIOD_MS` +\| 10000 /m,
          '| `GATEWAY_STOP_GRACE_PERIOD_MS` | 5000 ',
        ),
      ),
    ).toEqual(['README.md: the table of limits has GATEWAY_STOP_GRACE_PERIOD_MS 5000, limits.ts 10000']);
    expect(
      readmeDisagreements(
        drift(readme, /^\| `SHUTDOWN_TIMEOUT_MS` +\| 15000 /m, '| `SHUTDOWN_TIMEOUT_MS` | 20000 '),
      ),
    ).toEqual([
      "README.md: the sidecar's table has SHUTDOWN_TIMEOUT_MS 20000, limits.ts 15000 (SIDECAR_SHUTDOWN_TIMEOUT_MS)",
    ]);
    expect(readmeDisagreements(readme)).toEqual([]);
  });
});
