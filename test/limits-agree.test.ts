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
  hopOrderingViolations,
  hopRules,
  limitDefaults,
  limitReadBy,
  orderingViolations,
  type LimitName,
} from '@stagecraft/contract';
import {
  bodyTooLargeDisagreements,
  dockerfileEnv,
  gatewayDockerfileDisagreements,
  gatewayScriptDisagreements,
  nginxDisagreements,
  overlayDisagreements,
  readmeDisagreements,
  stackDisagreements,
  templateVariables,
} from './limits-copies.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const SCRIPT = 'nginx/entrypoint/18-stagecraft-limits.envsh';
const SERVER = 'nginx/templates/10-gateway-server.conf.template';
/** The files that run the three hops, each passing every limit. */
const STACKS = [
  'docker-compose.yml',
  'docker-compose.prod.yml',
  'docker-stack.yml',
  'docker-stack.postgres.yml',
];
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

  it("keeps at least 1 s between two hops, and Node's own strict order within one", () => {
    const hopsOf = (name: LimitName) => Object.keys(LIMITS[name].readBy).join();
    for (const rule of ORDERING_RULES) {
      const within = hopsOf(rule.below) === hopsOf(rule.above);
      expect(rule.by, `${rule.below} / ${rule.above}`).toBeGreaterThanOrEqual(within ? 1 : 1_000);
    }
  });
});

describe('hopRules and hopOrderingViolations', () => {
  it('give each hop the rules between two limits it reads from its environment, by its own names', () => {
    const names = (hop: 'api' | 'sidecar' | 'gateway') => hopRules(hop).map((r) => `${r.below} ${r.above}`);
    expect(names('api')).toEqual([
      'API_HEADERS_TIMEOUT_MS API_REQUEST_TIMEOUT_MS',
      'DATABASE_STATEMENT_TIMEOUT_MS API_SHUTDOWN_TIMEOUT_MS',
      'FETCH_TIMEOUT_MS API_SHUTDOWN_TIMEOUT_MS',
    ]);
    expect(names('sidecar')).toEqual(['SIDECAR_HEADERS_TIMEOUT_MS SIDECAR_REQUEST_TIMEOUT_MS']);
    // A stop_grace_period is the orchestrator's, not the hop's: no drain rule is a hop's.
    expect(names('gateway')).toEqual([]);
    const rule = hopRules('api')[2]!;
    expect(hopOrderingViolations('api', { FETCH_TIMEOUT_MS: 20_000, SHUTDOWN_TIMEOUT_MS: 11_000 })).toEqual([
      {
        variable: 'FETCH_TIMEOUT_MS',
        message: `20000 must be at least 1000 ms below SHUTDOWN_TIMEOUT_MS (11000): ${rule.why}`,
      },
    ]);
    expect(hopOrderingViolations('api', { FETCH_TIMEOUT_MS: 10_000, SHUTDOWN_TIMEOUT_MS: 11_000 })).toEqual(
      [],
    );
    // A rule whose two values are not both given is left alone.
    expect(hopOrderingViolations('api', { FETCH_TIMEOUT_MS: 20_000 })).toEqual([]);
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

  it('says "below" and "at least N ms below" as the rule does', () => {
    const say = (values: Partial<Record<LimitName, number>>) =>
      orderingViolations(values).map((v) => v.message);
    expect(say({ API_HEADERS_TIMEOUT_MS: 35_000 })[0]).toMatch(
      /^API_HEADERS_TIMEOUT_MS \(35000\) must be below API_REQUEST_TIMEOUT_MS \(35000\): /,
    );
    expect(say({ UPSTREAM_TIMEOUT_MS: 44_500 })[0]).toMatch(
      /^UPSTREAM_TIMEOUT_MS \(44500\) must be at least 1000 ms below GATEWAY_PROXY_READ_TIMEOUT_MS \(45000\): /,
    );
    expect(say({ SIDECAR_REQUEST_TIMEOUT_MS: 33_001, API_REQUEST_TIMEOUT_MS: 60_000 })).toEqual([
      expect.stringMatching(
        /^SIDECAR_REQUEST_TIMEOUT_MS \(33001\) must be at least 2000 ms below GATEWAY_PROXY_SEND_TIMEOUT_MS \(35000\)/,
      ),
    ]);
    expect(say({ GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS: 64_500 })).toEqual([
      expect.stringMatching(/must be at least 1000 ms below SIDECAR_KEEP_ALIVE_TIMEOUT_MS \(65000\)/),
      expect.stringMatching(/must be at least 1000 ms below API_KEEP_ALIVE_TIMEOUT_MS \(65000\)/),
    ]);
  });

  it('reports a value outside its range, or not a whole number', () => {
    expect(orderingViolations({ FETCH_MAX_BYTES: 512 }).map((v) => v.message)).toEqual([
      'FETCH_MAX_BYTES (512) must be a whole number from 1024 to 67108864',
    ]);
    expect(orderingViolations({ FETCH_MAX_BYTES: 2048.5 })).toHaveLength(1);
  });

  it('takes raised limits that keep the order: a fetch of 20 s, with what README says to raise with it', () => {
    const raised = {
      FETCH_TIMEOUT_MS: 20_000,
      API_SHUTDOWN_TIMEOUT_MS: 21_000,
      API_STOP_GRACE_PERIOD_MS: 22_000,
      SIDECAR_SHUTDOWN_TIMEOUT_MS: 21_000,
      SIDECAR_STOP_GRACE_PERIOD_MS: 22_000,
      GATEWAY_STOP_GRACE_PERIOD_MS: 21_000,
    };
    expect(orderingViolations(raised)).toEqual([]);
    // The fetch alone breaks every rule it is in whose other limit is still below it.
    expect(orderingViolations({ FETCH_TIMEOUT_MS: 20_000 }).map((v) => v.above)).toEqual([
      'API_SHUTDOWN_TIMEOUT_MS',
      'SIDECAR_SHUTDOWN_TIMEOUT_MS',
      'GATEWAY_STOP_GRACE_PERIOD_MS',
    ]);
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
    // It checks ranges only: a rule between two gateway limits would need a check there.
    const rule = {
      ...ORDERING_RULES[0]!,
      below: 'GATEWAY_PROXY_SEND_TIMEOUT_MS',
      above: 'GATEWAY_PROXY_READ_TIMEOUT_MS',
    } as const;
    expect(gatewayScriptDisagreements(script, [rule])).toEqual([
      "GATEWAY_PROXY_SEND_TIMEOUT_MS / GATEWAY_PROXY_READ_TIMEOUT_MS: a rule between two gateway limits, which the gateway's script does not check",
    ]);
    expect(gatewayScriptDisagreements(script)).toEqual([]);
  });

  it('reads ENV instructions as Docker does: both forms, quotes, escapes and continuation lines', () => {
    expect(
      dockerfileEnv(
        [
          'FROM x',
          'ENV A 1 2',
          'ENV B=1 C="two words" D=\'$x\' \\',
          '    # a comment inside the instruction',
          '    E="a\\$b"',
          'RUN echo ENV F=1',
          'env G=',
        ].join('\n'),
      ),
    ).toEqual([
      { name: 'A', value: '1 2' },
      { name: 'B', value: '1' },
      { name: 'C', value: 'two words' },
      { name: 'D', value: '$x' },
      { name: 'E', value: 'a$b' },
      { name: 'G', value: '' },
    ]);
  });

  it('its Dockerfile checks before the renderer, renders at build, substitutes exactly the known variables and sets no limit', () => {
    const dockerfile = read('nginx/Dockerfile');
    const variables = templateVariables({
      ...gatewayConfig(),
      'nginx/templates/errors/413.json.template': read('nginx/templates/errors/413.json.template'),
    });
    expect([...variables].sort()).toEqual([
      'FETCH_MAX_BYTES',
      'GATEWAY_CLIENT_BODY_TIMEOUT_MS',
      'GATEWAY_PROMETHEUS_URL',
      'GATEWAY_PROXY_READ_TIMEOUT_MS',
      'GATEWAY_PROXY_SEND_TIMEOUT_MS',
      'GATEWAY_SITE',
      'GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS',
    ]);
    const check = (text: string) => gatewayDockerfileDisagreements(text, variables);
    const filter = /^ENV NGINX_ENVSUBST_FILTER=.*$/m;
    const want =
      'FETCH_MAX_BYTES|GATEWAY_CLIENT_BODY_TIMEOUT_MS|GATEWAY_PROMETHEUS_URL|GATEWAY_PROXY_READ_TIMEOUT_MS|GATEWAY_PROXY_SEND_TIMEOUT_MS|GATEWAY_SITE|GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS';
    expect(check(drift(dockerfile, filter, 'ENV FETCH_MAX_BYTES=11534336'))).toEqual([
      'no NGINX_ENVSUBST_FILTER: every variable of the environment would be substituted',
      "FETCH_MAX_BYTES: set by an ENV of the image; its default is the entrypoint script's",
    ]);
    // The older form, and a name on a continuation line of a multi-line ENV.
    expect(check(drift(dockerfile, /^USER nginx$/m, 'ENV FETCH_MAX_BYTES 11534336\nUSER nginx'))).toEqual([
      "FETCH_MAX_BYTES: set by an ENV of the image; its default is the entrypoint script's",
    ]);
    expect(
      check(
        drift(
          dockerfile,
          'ENV GATEWAY_SITE=on GATEWAY_PROMETHEUS_URL=""',
          'ENV GATEWAY_SITE=on \\\n    GATEWAY_PROXY_SEND_TIMEOUT_MS=40000 \\\n    GATEWAY_PROMETHEUS_URL=""',
        ),
      ),
    ).toEqual([
      "GATEWAY_PROXY_SEND_TIMEOUT_MS: set by an ENV of the image; its default is the entrypoint script's",
    ]);
    // A filter that admits more than the known variables (all, or any GATEWAY_ name), or fewer.
    for (const loose of [
      '".*"',
      '"^(FETCH_MAX_BYTES|GATEWAY_[A-Z0-9_]+)\\$"',
      `"^(${want.replace('GATEWAY_SITE|', '')})\\$"`,
    ])
      expect(check(drift(dockerfile, filter, `ENV NGINX_ENVSUBST_FILTER=${loose}`))).toEqual([
        expect.stringMatching(
          new RegExp(
            `^NGINX_ENVSUBST_FILTER is .*, not \\^\\(\\.\\.\\.\\)\\$ naming exactly ${want.replaceAll('|', '\\|')}$`,
          ),
        ),
      ]);
    expect(check(drift(dockerfile, /nginx\/entrypoint\/18-/, 'nginx/entrypoint/28-'))).toEqual([
      'the stagecraft-limits script (28-) would run after the renderer (20-)',
    ]);
    expect(check(drift(dockerfile, /(COPY --chmod=755 nginx\/entrypoint\/)19-/, '$129-'))).toEqual([
      'the stagecraft-site script (29-) would run after the renderer (20-)',
    ]);
    expect(
      check(drift(dockerfile, / && \. \/docker-entrypoint\.d\/19-stagecraft-site\.envsh \\\n/, '')),
    ).toEqual(['the build does not check and render the templates with the defaults before nginx -t']);
    expect(check(dockerfile)).toEqual([]);
  });

  it('its templates and the benchmark gateway use the limits, never a number, in every location that proxies', () => {
    const files = gatewayConfig();
    const bench = 'bench/gateway/90-bench.conf.template';
    expect(Object.keys(files)).toEqual(expect.arrayContaining([SERVER, bench]));
    const drifted = {
      ...files,
      [SERVER]: drift(
        drift(
          files[SERVER]!,
          'proxy_read_timeout ${GATEWAY_PROXY_READ_TIMEOUT_MS}ms;',
          'proxy_read_timeout 45s;',
        ),
        'client_body_timeout ${GATEWAY_CLIENT_BODY_TIMEOUT_MS}ms;',
        'client_body_timeout 10s;',
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
      `${SERVER}: client_body_timeout 10s, not \${GATEWAY_CLIENT_BODY_TIMEOUT_MS}ms`,
      `${SERVER}: location /api/ proxies with proxy_read_timeout 45s, not \${GATEWAY_PROXY_READ_TIMEOUT_MS}ms`,
      `${SERVER}: location /api/ proxies with client_body_timeout 10s, not \${GATEWAY_CLIENT_BODY_TIMEOUT_MS}ms`,
      `${SERVER}: location ~ ^/(healthz|readyz)$ proxies with client_body_timeout 10s, not \${GATEWAY_CLIENT_BODY_TIMEOUT_MS}ms`,
      `${bench}: client_max_body_size 11m, not \${FETCH_MAX_BYTES}`,
      `${bench}: upstream bench_api keeps connections with keepalive_timeout (nginx's default), not \${GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS}ms`,
    ]);
    // A limit none of the templates uses any more.
    const unused = Object.fromEntries(
      Object.entries(files).map(([path, text]) => [
        path,
        text.replaceAll('${GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS}ms', '60s'),
      ]),
    );
    expect(nginxDisagreements(unused, SERVER)).toContain(
      'GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS: passed to the gateway, used by none of its templates',
    );
    // A more specific location with a wait of its own (proxying, and as the review
    // wrote it, without proxy_pass), the probes' wait changed, a location proxying
    // by itself without a single timeout.
    const sibling = drift(
      drift(
        files[SERVER]!,
        '    # Not a redirect to /api/',
        '    location ^~ /api/v1/ {\n        include snippets/proxy-to-sidecar.conf;\n        proxy_read_timeout 5s;\n    }\n    location ^~ /api/v2/ { proxy_read_timeout 5s; }\n    # Not a redirect to /api/',
      ),
      'proxy_read_timeout 5s;\n    }\n\n    # The gateway',
      'proxy_read_timeout 50s;\n    }\n    location /raw/ {\n        proxy_pass http://sidecar;\n    }\n\n    # The gateway',
    );
    expect(nginxDisagreements({ ...files, [SERVER]: sibling }, SERVER)).toEqual([
      `${SERVER}: location ^~ /api/v1/ proxies with proxy_read_timeout 5s, not \${GATEWAY_PROXY_READ_TIMEOUT_MS}ms`,
      `${SERVER}: location ^~ /api/v1/ proxies with proxy_send_timeout (unset), not \${GATEWAY_PROXY_SEND_TIMEOUT_MS}ms`,
      `${SERVER}: location ^~ /api/v2/ sets proxy_read_timeout 5s, not \${GATEWAY_PROXY_READ_TIMEOUT_MS}ms`,
      `${SERVER}: location ^~ /api/v2/ sets proxy_send_timeout (unset), not \${GATEWAY_PROXY_SEND_TIMEOUT_MS}ms`,
      `${SERVER}: location ~ ^/(healthz|readyz)$ proxies with proxy_read_timeout 50s, not 5s`,
      `${SERVER}: location /raw/ proxies with proxy_read_timeout (unset), not \${GATEWAY_PROXY_READ_TIMEOUT_MS}ms`,
      `${SERVER}: location /raw/ proxies with proxy_send_timeout (unset), not \${GATEWAY_PROXY_SEND_TIMEOUT_MS}ms`,
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
  it('lists every limit with its default, as the API and sidecar tables do, and every rule', () => {
    const readme = read('README.md');
    expect(
      readmeDisagreements(
        drift(
          readme,
          /^\| `GATEWAY_STOP_GRACE_PERIOD_MS` +\| 15000 /m,
          '| `GATEWAY_STOP_GRACE_PERIOD_MS` | 5000 ',
        ),
      ),
    ).toEqual(['README.md: the table of limits has GATEWAY_STOP_GRACE_PERIOD_MS 5000, limits.ts 15000']);
    expect(
      readmeDisagreements(
        drift(readme, /^\| `SHUTDOWN_TIMEOUT_MS` +\| 15000 /m, '| `SHUTDOWN_TIMEOUT_MS` | 20000 '),
      ),
    ).toEqual([
      "README.md: the sidecar's table has SHUTDOWN_TIMEOUT_MS 20000, limits.ts 15000 (SIDECAR_SHUTDOWN_TIMEOUT_MS)",
    ]);
    // The rules: a margin changed, a rule dropped, the checker misnamed, two rows swapped.
    const rule = /^(\| `UPSTREAM_TIMEOUT_MS` +\| `GATEWAY_PROXY_READ_TIMEOUT_MS` +\| )1000( .*)$/m;
    expect(readmeDisagreements(drift(readme, rule, '$11$2'))).toEqual([
      'README.md: the table of rules lacks UPSTREAM_TIMEOUT_MS | GATEWAY_PROXY_READ_TIMEOUT_MS | 1000 | no one: raise both',
      'README.md: the table of rules has UPSTREAM_TIMEOUT_MS | GATEWAY_PROXY_READ_TIMEOUT_MS | 1 | no one: raise both, which limits.ts does not',
    ]);
    expect(
      readmeDisagreements(drift(readme, /^\| `FETCH_TIMEOUT_MS` +\| `API_SHUTDOWN_TIMEOUT_MS` .*\n/m, '')),
    ).toEqual([
      'README.md: the table of rules lacks FETCH_TIMEOUT_MS | API_SHUTDOWN_TIMEOUT_MS | 1000 | the API',
    ]);
    expect(
      readmeDisagreements(
        drift(
          readme,
          /^(\| `FETCH_TIMEOUT_MS` +\| `API_SHUTDOWN_TIMEOUT_MS` +\| 1000 +\| )the API +\|/m,
          '$1no one: raise both |',
        ),
      ),
    ).toEqual([
      'README.md: the table of rules lacks FETCH_TIMEOUT_MS | API_SHUTDOWN_TIMEOUT_MS | 1000 | the API',
      'README.md: the table of rules has FETCH_TIMEOUT_MS | API_SHUTDOWN_TIMEOUT_MS | 1000 | no one: raise both, which limits.ts does not',
    ]);
    const first = /^\| `FETCH_TIMEOUT_MS` +\| `UPSTREAM_TIMEOUT_MS` .*\n/m.exec(readme)![0];
    expect(
      readmeDisagreements(
        drift(readme, first, '').replace(/^(\| `UPSTREAM_TIMEOUT_MS` +\| `GATEWAY.*\n)/m, `$1${first}`),
      ),
    ).toEqual(["README.md: the table of rules is not in limits.ts's order"]);
    expect(readmeDisagreements(readme)).toEqual([]);
  });
});
