/**
 * The copies of limits.ts outside TypeScript, read from their text and compared
 * with the table: the gateway's entrypoint script, its Dockerfile, its nginx
 * templates, the stack files and README.md. Each check is a pure function from a
 * file's text to the disagreements it finds (none when the copy agrees), so
 * limits-agree.test.ts can feed it the repository's files and drifted ones alike.
 */
import { parse } from 'yaml';
import {
  LIMITS,
  ORDERING_RULES,
  STOP_GRACE_PERIOD,
  hopRules,
  type Hop,
  type Limit,
  type LimitName,
  type OrderingRule,
} from '@stagecraft/contract';

const ENTRIES = Object.entries(LIMITS) as [LimitName, Limit][];
const HOPS: readonly Hop[] = ['api', 'sidecar', 'gateway'];

/** The limits a hop reads from its environment, as [the name a stack sets, the name the hop reads]. */
export function environmentLimits(hop: Hop): [LimitName, string][] {
  return ENTRIES.flatMap(([name, limit]) => {
    const variable = limit.readBy[hop];
    return variable === undefined || variable === STOP_GRACE_PERIOD
      ? []
      : [[name, variable] as [LimitName, string]];
  });
}

/** The limit that is a hop's stop_grace_period. */
export function stopGraceLimit(hop: Hop): LimitName {
  const entry = ENTRIES.find(([, limit]) => limit.readBy[hop] === STOP_GRACE_PERIOD);
  if (entry === undefined) throw new Error(`no stop_grace_period limit for ${hop}`);
  return entry[0];
}

const UNIT_WORDS: Record<Limit['unit'], string> = { ms: 'milliseconds', bytes: 'bytes', count: 'count' };

/**
 * nginx/entrypoint/18-stagecraft-limits.envsh: `stagecraft_limit NAME default min
 * max unit`, once per gateway limit. It checks ranges only: no rule of limits.ts is
 * between two gateway limits (`rules`, hopRules('gateway'), is empty); one added
 * there is reported here until the script learns to check it.
 */
export function gatewayScriptDisagreements(
  text: string,
  rules: readonly OrderingRule[] = hopRules('gateway'),
): string[] {
  const found = new Map(
    [...text.matchAll(/^stagecraft_limit +(\S+) +(\S+) +(\S+) +(\S+) +(\S+) *$/gm)].map((m) => [
      m[1]!,
      m.slice(2).join(' '),
    ]),
  );
  const out: string[] = [];
  for (const [name, variable] of environmentLimits('gateway')) {
    const limit = LIMITS[name];
    const want = `${limit.default} ${limit.min} ${limit.max} ${UNIT_WORDS[limit.unit]}`;
    const got = found.get(variable);
    if (got === undefined) out.push(`${variable}: the gateway's entrypoint script does not check it`);
    else if (got !== want) out.push(`${variable}: the gateway's script has "${got}", limits.ts "${want}"`);
    found.delete(variable);
  }
  for (const variable of found.keys())
    out.push(`${variable}: the gateway's script checks it, but limits.ts has no such gateway limit`);
  for (const rule of rules)
    out.push(
      `${rule.below} / ${rule.above}: a rule between two gateway limits, which the gateway's script does not check`,
    );
  return out;
}

/** One variable an ENV instruction of a Dockerfile sets. */
export interface DockerfileEnv {
  name: string;
  value: string;
}

/**
 * A Dockerfile's instructions, each on one line: continuation lines (a trailing
 * backslash) joined, and the comment and empty lines Docker skips inside them dropped.
 */
function instructions(text: string): string[] {
  const out: string[] = [];
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (current === undefined && (trimmed === '' || trimmed.startsWith('#'))) continue;
    if (current !== undefined && (trimmed === '' || trimmed.startsWith('#'))) continue;
    const continues = /\\\s*$/.test(line);
    const part = continues ? line.replace(/\\\s*$/, '') : line;
    current = current === undefined ? part : `${current} ${part.trim()}`;
    if (!continues) {
      out.push(current.trim());
      current = undefined;
    }
  }
  if (current !== undefined) out.push(current.trim());
  return out;
}

/** Words as Docker reads them: split on blanks outside quotes; quotes removed, backslash escapes applied. */
function words(text: string): string[] {
  const out: string[] = [];
  let word = '';
  let started = false; // a word has begun (quotes begin one, even an empty one)
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const next = text[i + 1];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      // Inside double quotes a backslash escapes only ", $ and itself.
      if (c === '\\' && next !== undefined && '"$\\'.includes(next)) word += text[++i];
      else if (c === '"') quote = undefined;
      else word += c;
    } else if (c === '\\' && next !== undefined) {
      word += text[++i];
      started = true;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (/\s/.test(c)) {
      if (started) out.push(word);
      word = '';
      started = false;
    } else {
      word += c;
      started = true;
    }
  }
  if (started) out.push(word);
  return out;
}

/**
 * Every variable the ENV instructions of a Dockerfile set, in both forms
 * (`ENV NAME=value NAME2=value2`, and the older `ENV NAME value`), over
 * continuation lines, with Docker's quoting and escapes.
 */
export function dockerfileEnv(text: string): DockerfileEnv[] {
  const out: DockerfileEnv[] = [];
  for (const instruction of instructions(text)) {
    const match = /^ENV\s+(.*)$/is.exec(instruction);
    if (match === null) continue;
    const args = match[1]!;
    const first = /^\S+/.exec(args)![0];
    if (!first.includes('=')) {
      out.push({ name: first, value: words(args.slice(first.length).trim()).join(' ') });
      continue;
    }
    for (const word of words(args)) {
      const equals = word.indexOf('=');
      out.push({ name: word.slice(0, equals), value: word.slice(equals + 1) });
    }
  }
  return out;
}

/**
 * nginx/Dockerfile: the limit and site scripts are in /docker-entrypoint.d before
 * the renderer (20), executable; the build checks and renders with the defaults
 * and runs nginx -t; the envsubst filter admits exactly the variables the
 * templates use (`templateVariables`) and every gateway limit, each by name; and no
 * ENV holds a limit (a second copy of a default, which would also stop a value
 * set to nothing from meaning the default).
 */
export function gatewayDockerfileDisagreements(text: string, templateVariables: Iterable<string>): string[] {
  const out: string[] = [];
  const scripts = [
    ...text.matchAll(
      /^COPY --chmod=755 nginx\/entrypoint\/(\d+)-(stagecraft-[a-z]+)\.envsh \/docker-entrypoint\.d\/$/gm,
    ),
  ];
  for (const name of ['stagecraft-limits', 'stagecraft-site']) {
    const copy = scripts.find((m) => m[2] === name);
    if (copy === undefined)
      out.push(`the ${name} script is not copied, executable, into /docker-entrypoint.d/`);
    else if (Number(copy[1]) >= 20)
      out.push(`the ${name} script (${copy[1]}-) would run after the renderer (20-)`);
  }
  if (
    !/^RUN \. \/docker-entrypoint\.d\/\d+-stagecraft-limits\.envsh \\\n && \. \/docker-entrypoint\.d\/\d+-stagecraft-site\.envsh \\\n && \/docker-entrypoint\.d\/20-envsubst-on-templates\.sh \\\n && nginx -t$/m.test(
      text,
    )
  )
    out.push('the build does not check and render the templates with the defaults before nginx -t');
  const env = dockerfileEnv(text);
  const filters = env.filter((e) => e.name === 'NGINX_ENVSUBST_FILTER');
  const known = new Set([
    ...environmentLimits('gateway').map(([, variable]) => variable),
    ...templateVariables,
  ]);
  if (filters.length === 0)
    out.push('no NGINX_ENVSUBST_FILTER: every variable of the environment would be substituted');
  else {
    const filter = filters[filters.length - 1]!.value;
    const named = /^\^\(([A-Z0-9_|]+)\)\$$/.exec(filter)?.[1]?.split('|');
    const want = [...known].sort().join('|');
    if (named === undefined || [...named].sort().join('|') !== want || new Set(named).size !== named.length)
      out.push(`NGINX_ENVSUBST_FILTER is ${JSON.stringify(filter)}, not ^(...)$ naming exactly ${want}`);
  }
  for (const { name } of env)
    if (environmentLimits('gateway').some(([, variable]) => variable === name))
      out.push(`${name}: set by an ENV of the image; its default is the entrypoint script's`);
  return out;
}

/** The text of the block that `header` (e.g. "location /api/ {") opens, braces matched; undefined when absent. */
export function nginxBlock(text: string, header: RegExp): string | undefined {
  const match = header.exec(text);
  if (match === null) return undefined;
  let depth = 1;
  const start = match.index + match[0].length;
  for (let i = start; i < text.length; i++) {
    if (text[i] === '{') depth++;
    if (text[i] === '}' && --depth === 0) return text.slice(start, i);
  }
  return undefined;
}

/** Every `keyword ... {` block of a file: its arguments, where its body starts and ends, and the body. */
function nginxBlocks(text: string, keyword: string) {
  return [...text.matchAll(new RegExp(`^[ \\t]*${keyword}\\b([^{;]*)\\{`, 'gm'))].map((m) => {
    const start = m.index + m[0].length;
    const body = nginxBlock(text.slice(m.index), new RegExp(`${keyword}\\b[^{;]*\\{`)) ?? '';
    return { args: m[1]!.trim(), start, end: start + body.length, body };
  });
}

/** A block's own directives: its text with every nested block cut out (a `${NAME}` is not a block). */
function ownText(body: string): string {
  let out = '';
  let depth = 0;
  let variable = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '{' && body[i - 1] === '$') variable = true;
    else if (c === '}' && variable) variable = false;
    else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      continue;
    }
    if (depth === 0) out += c;
  }
  return out;
}

const directive = (block: string, name: string) =>
  [...block.matchAll(new RegExp(`^\\s*${name}\\s+([^;]+);`, 'gm'))].map((m) => m[1]!.trim());

/**
 * Proxied locations whose proxy_read_timeout is shorter than the rules of limits.ts
 * on purpose, with the one value each may have: the API's health probes through
 * the gateway answer within 5 s or get the gateway's 504 (a probe behind a hung
 * API must not wait for the sidecar's; e2e/reliability.test.ts counts on it).
 */
export const PROBE_READ_TIMEOUTS: Record<string, string> = { '~ ^/(healthz|readyz)$': '5s' };

/**
 * The gateway's nginx configuration (its templates, its snippets, and the
 * benchmark's): every body limit and every upstream pool's keep-alive are the
 * limits' variables, never a number; every location that proxies (proxy_pass,
 * itself or in a snippet it includes) has the limits' proxy_read_timeout (but the
 * probes of PROBE_READ_TIMEOUTS), proxy_send_timeout and client_body_timeout
 * (its own, or its server's); every limit variable a template uses is one the
 * gateway is passed; every gateway limit is used.
 * `files`: path -> text; `server`: the path of the gateway's server template.
 */
export function nginxDisagreements(files: Record<string, string>, server: string): string[] {
  const out: string[] = [];
  const used = new Set<string>();
  const gatewayVariables = new Set(environmentLimits('gateway').map(([, variable]) => variable));
  const included = (text: string) =>
    directive(text, 'include').flatMap((name) =>
      Object.entries(files)
        .filter(([path]) => path.endsWith(`/${name}`))
        .map(([, snippet]) => snippet),
    );
  for (const [path, text] of Object.entries(files)) {
    for (const m of text.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)) {
      const variable = m[1]!;
      if (!(variable in LIMITS)) continue; // not a limit (the site's settings)
      used.add(variable);
      if (!gatewayVariables.has(variable))
        out.push(`${path}: uses \${${variable}}, which no stack passes to the gateway`);
    }
    for (const [name, want] of [
      ['client_max_body_size', '${FETCH_MAX_BYTES}'],
      ['client_body_timeout', '${GATEWAY_CLIENT_BODY_TIMEOUT_MS}ms'],
    ] as const)
      for (const value of directive(text, name))
        if (value !== want) out.push(`${path}: ${name} ${value}, not ${want}`);
    for (const upstream of nginxBlocks(text, 'upstream')) {
      if (directive(upstream.body, 'keepalive').length === 0) continue;
      const timeouts = directive(upstream.body, 'keepalive_timeout');
      if (timeouts.length !== 1 || timeouts[0] !== '${GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS}ms')
        out.push(
          `${path}: upstream ${upstream.args} keeps connections with keepalive_timeout ${timeouts.join(', ') || "(nginx's default)"}, not \${GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS}ms`,
        );
    }
    const servers = nginxBlocks(text, 'server');
    for (const location of nginxBlocks(text, 'location')) {
      const own = ownText(location.body);
      const settings = [own, ...included(own)].join('\n');
      const proxies = directive(settings, 'proxy_pass').length > 0;
      // A location that does not proxy may still set a proxy timeout, for a nested
      // location or by mistake: it must be the limit's too.
      if (!proxies && directive(settings, 'proxy_(?:read|send)_timeout').length === 0) continue;
      const around = servers.find((s) => s.start <= location.start && location.end <= s.end);
      const bodyTimeouts = directive(own, 'client_body_timeout');
      const wants = [
        [
          'proxy_read_timeout',
          PROBE_READ_TIMEOUTS[location.args] ?? '${GATEWAY_PROXY_READ_TIMEOUT_MS}ms',
          settings,
        ],
        ['proxy_send_timeout', '${GATEWAY_PROXY_SEND_TIMEOUT_MS}ms', settings],
        [
          'client_body_timeout',
          '${GATEWAY_CLIENT_BODY_TIMEOUT_MS}ms',
          bodyTimeouts.length > 0 || around === undefined ? own : ownText(around.body),
        ],
      ] as const;
      for (const [name, want, where] of wants.slice(0, proxies ? 3 : 2)) {
        const got = directive(where, name);
        if (got.length !== 1 || got[0] !== want)
          out.push(
            `${path}: location ${location.args} ${proxies ? 'proxies with' : 'sets'} ${name} ${got.join(', ') || '(unset)'}, not ${want}`,
          );
      }
    }
  }
  const serverText = files[server] ?? '';
  if (!directive(serverText, 'client_max_body_size').includes('${FETCH_MAX_BYTES}'))
    out.push(`${server}: the server sets no client_max_body_size \${FETCH_MAX_BYTES}`);
  const api = nginxBlock(serverText, /location \/api\/ \{/);
  if (api === undefined || !/include snippets\/proxy-to-sidecar\.conf;/.test(api))
    out.push(`${server}: no location /api/ proxying to the sidecar`);
  for (const variable of gatewayVariables)
    if (!used.has(variable)) out.push(`${variable}: passed to the gateway, used by none of its templates`);
  return out;
}

/** The `${NAME}` variables the gateway's templates use (what the renderer must substitute). */
export function templateVariables(files: Record<string, string>): Set<string> {
  return new Set(
    Object.entries(files)
      .filter(([path]) => path.endsWith('.template'))
      .flatMap(([, text]) => [...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)].map((m) => m[1]!)),
  );
}

/** The 413 problem document's template: valid JSON once rendered, stating the limit in bytes. */
export function bodyTooLargeDisagreements(template: string): string[] {
  const rendered = template.replaceAll('${FETCH_MAX_BYTES}', '12345');
  try {
    const problem = JSON.parse(rendered) as { status?: unknown; detail?: unknown };
    if (problem.status !== 413) return ['413.json: not a 413 problem document'];
    if (typeof problem.detail !== 'string' || !problem.detail.includes('12345 bytes'))
      return ['413.json: its detail does not state ${FETCH_MAX_BYTES} bytes'];
    return [];
  } catch {
    return ['413.json: not JSON once rendered'];
  }
}

type Map = Record<string, unknown>;
const isMap = (value: unknown): value is Map =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A service's environment as a map, whichever form the file uses. */
function environment(service: Map): Map {
  const env = service.environment;
  if (Array.isArray(env))
    return Object.fromEntries(
      env.map((entry) => {
        const [key, ...rest] = String(entry).split('=');
        return [key, rest.join('=')];
      }),
    );
  return isMap(env) ? env : {};
}

/**
 * A stack file (YAML 1.1, as Docker reads it: `<<` merges). Compose's own tags
 * (`!reset`, `!override` in the watch overlay) read as the plain value they tag,
 * without a warning for each.
 */
function services(text: string): Map {
  const doc: unknown = parse(text, { version: '1.1', logLevel: 'error' });
  return isMap(doc) && isMap(doc.services) ? doc.services : {};
}

/**
 * A stack that runs the hops (docker-compose.yml, docker-compose.prod.yml,
 * docker-stack.yml): each hop's service is passed every limit it reads, as
 * `${NAME:-}` (empty: the hop's own default), and its stop_grace_period is
 * `${NAME:-default}ms`.
 */
export function stackDisagreements(file: string, text: string): string[] {
  const out: string[] = [];
  const all = services(text);
  for (const hop of HOPS) {
    const service = all[hop];
    if (!isMap(service)) {
      out.push(`${file}: no service ${hop}`);
      continue;
    }
    const env = environment(service);
    for (const [name, variable] of environmentLimits(hop)) {
      const want = `\${${name}:-}`;
      if (env[variable] !== want)
        out.push(`${file}: ${hop}'s ${variable} is ${JSON.stringify(env[variable] ?? null)}, not ${want}`);
    }
    const grace = stopGraceLimit(hop);
    const want = `\${${grace}:-${LIMITS[grace].default}}ms`;
    if (service.stop_grace_period !== want)
      out.push(
        `${file}: ${hop}'s stop_grace_period is ${JSON.stringify(service.stop_grace_period ?? null)}, not ${want}`,
      );
  }
  return out;
}

/**
 * An overlay (docker-compose.prod.ops.yml, bench/, e2e/, .devcontainer/): it sets
 * none of the limits or stop grace periods of the hops, which would override the
 * stack's, unseen by `FETCH_MAX_BYTES=... docker compose ...`.
 */
export function overlayDisagreements(file: string, text: string): string[] {
  const out: string[] = [];
  const all = services(text);
  for (const hop of HOPS) {
    const service = all[hop];
    if (!isMap(service)) continue;
    const env = environment(service);
    for (const [, variable] of environmentLimits(hop))
      if (variable in env)
        out.push(`${file}: sets ${hop}'s ${variable}, which the stack passes from its limits`);
    if ('stop_grace_period' in service) out.push(`${file}: sets ${hop}'s stop_grace_period`);
  }
  return out;
}

/** The header of README.md's table of limits. */
export const README_LIMITS_HEADER = '| limit (stack variable)';
/** The header of README.md's table of the rules between them. */
export const README_RULES_HEADER = '| lower limit';

/** Who refuses a rule broken, at start: the hop whose own two limits it orders; else no one, the deployment keeps it. */
export function ruleChecker(rule: OrderingRule): string {
  const hop = HOPS.find((h) => hopRules(h).includes(rule));
  if (hop === undefined) return 'no one: raise both';
  return hop === 'api' ? 'the API' : `the ${hop}`;
}

/** The markdown table whose header line starts with `header`, or whose rows include `| \`row\``: its lines. */
function table(text: string, find: (lines: string[]) => boolean): string[][] {
  const tables = text
    .split(/\n(?!\|)/)
    .map((chunk) => chunk.split('\n').filter((line) => line.startsWith('|')));
  return tables.filter((lines) => lines.length > 0 && find(lines)).map((lines) => lines);
}

/** `| \`NAME\` | value |` rows of a table: [NAME, value]. */
const rows = (lines: string[]) =>
  lines.flatMap((line) => {
    const m = /^\| `([A-Z][A-Z0-9_]*)` +\| ([^|]+?) +\|/.exec(line);
    return m === null ? [] : [[m[1]!, m[2]!.trim()] as const];
  });

/**
 * README.md: its table of limits has one row per limit, in limits.ts's order, with
 * its default; its table of rules one row per rule, in limits.ts's order, with the
 * margin and who checks it at start; the API's and the sidecar's variable tables
 * give the same defaults for the limits each reads.
 */
export function readmeDisagreements(text: string): string[] {
  const out: string[] = [];
  const rules = table(text, (lines) => lines[0]!.startsWith(README_RULES_HEADER));
  if (rules.length !== 1) out.push(`README.md: ${rules.length} tables of rules between limits, not 1`);
  else {
    const listed = rules[0]!.flatMap((line) => {
      const m = /^\| `([A-Z][A-Z0-9_]*)` +\| `([A-Z][A-Z0-9_]*)` +\| ([^|]+?) +\| ([^|]+?) +\|$/.exec(line);
      return m === null ? [] : [m.slice(1).join(' | ')];
    });
    const want = ORDERING_RULES.map((r) => [r.below, r.above, r.by, ruleChecker(r)].join(' | '));
    for (const row of want.filter((row) => !listed.includes(row)))
      out.push(`README.md: the table of rules lacks ${row}`);
    for (const row of listed.filter((row) => !want.includes(row)))
      out.push(`README.md: the table of rules has ${row}, which limits.ts does not`);
    if (out.length === 0 && listed.join() !== want.join())
      out.push("README.md: the table of rules is not in limits.ts's order");
  }
  const limits = table(text, (lines) => lines[0]!.startsWith(README_LIMITS_HEADER));
  if (limits.length !== 1) return [`README.md: ${limits.length} tables of limits, not 1`];
  const listed = rows(limits[0]!);
  if (listed.map(([name]) => name).join() !== Object.keys(LIMITS).join())
    out.push(`README.md: the table of limits lists ${listed.map(([name]) => name).join(', ')}`);
  for (const [name, value] of listed)
    if (name in LIMITS && value !== String(LIMITS[name as LimitName].default))
      out.push(
        `README.md: the table of limits has ${name} ${value}, limits.ts ${LIMITS[name as LimitName].default}`,
      );
  for (const [hop, marker] of [
    ['api', 'DATA_DIR'],
    ['sidecar', 'UPSTREAM_URL'],
  ] as const) {
    const found = table(text, (lines) => lines.some((line) => line.startsWith(`| \`${marker}\``)));
    if (found.length !== 1) {
      out.push(`README.md: ${found.length} variable tables of the ${hop}, not 1`);
      continue;
    }
    const reads = new Map(environmentLimits(hop).map(([name, variable]) => [variable, name]));
    for (const [variable, value] of rows(found[0]!)) {
      const name = reads.get(variable);
      if (name !== undefined && value !== String(LIMITS[name].default))
        out.push(
          `README.md: the ${hop}'s table has ${variable} ${value}, limits.ts ${LIMITS[name].default} (${name})`,
        );
    }
  }
  return out;
}
