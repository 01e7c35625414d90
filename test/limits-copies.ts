/**
 * The copies of limits.ts outside TypeScript, read from their text and compared
 * with the table: the gateway's entrypoint script, its Dockerfile, its nginx
 * templates, the stack files and README.md. Each check is a pure function from a
 * file's text to the disagreements it finds (none when the copy agrees), so
 * limits-agree.test.ts can feed it the repository's files and drifted ones alike.
 */
import { parse } from 'yaml';
import { LIMITS, STOP_GRACE_PERIOD, type Hop, type Limit, type LimitName } from '@stagecraft/contract';

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

const UNIT_WORDS: Record<Limit['unit'], string> = { ms: 'milliseconds', bytes: 'bytes' };

/** nginx/entrypoint/18-stagecraft-limits.envsh: `stagecraft_limit NAME default min max unit`, once per gateway limit. */
export function gatewayScriptDisagreements(text: string): string[] {
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
  return out;
}

/**
 * nginx/Dockerfile: the script is in /docker-entrypoint.d before the renderer (20),
 * executable; the build renders with the defaults and runs nginx -t; the envsubst
 * filter lets every gateway limit through; and no ENV holds a limit (a second copy
 * of a default, which would also stop a value set to nothing from meaning the default).
 */
export function gatewayDockerfileDisagreements(text: string): string[] {
  const out: string[] = [];
  const copy =
    /^COPY --chmod=755 nginx\/entrypoint\/(\d+)-stagecraft-limits\.envsh \/docker-entrypoint\.d\/$/m.exec(
      text,
    );
  if (copy === null) out.push('the limits script is not copied, executable, into /docker-entrypoint.d/');
  else if (Number(copy[1]) >= 20)
    out.push(`the limits script (${copy[1]}-) would run after the renderer (20-)`);
  if (
    !/^RUN \. \/docker-entrypoint\.d\/\d+-stagecraft-limits\.envsh \\\n && \/docker-entrypoint\.d\/20-envsubst-on-templates\.sh \\\n && nginx -t$/m.test(
      text,
    )
  )
    out.push('the build does not render the templates with the defaults before nginx -t');
  const filter = /^ENV NGINX_ENVSUBST_FILTER="(.*)"$/m.exec(text)?.[1]?.replaceAll('\\$', '$');
  if (filter === undefined)
    out.push('no NGINX_ENVSUBST_FILTER: every variable of the environment would be substituted');
  for (const [, variable] of environmentLimits('gateway')) {
    if (filter !== undefined && !new RegExp(filter).test(variable))
      out.push(`${variable}: NGINX_ENVSUBST_FILTER does not let it through`);
    if (new RegExp(`^ENV\\b[^\\n]*\\b${variable}=`, 'm').test(text))
      out.push(`${variable}: set by an ENV of the image; its default is the entrypoint script's`);
  }
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

const directive = (block: string, name: string) =>
  [...block.matchAll(new RegExp(`^\\s*${name}\\s+([^;]+);`, 'gm'))].map((m) => m[1]!.trim());

/**
 * The gateway's nginx configuration (its templates, and the benchmark's): every
 * body limit, every upstream pool's keep-alive and the /api/ location's timeouts
 * are the limits' variables, never a number; every limit variable a template uses
 * is one the gateway is passed; every gateway limit is used.
 * `files`: path -> text; `server`: the path of the gateway's server template.
 */
export function nginxDisagreements(files: Record<string, string>, server: string): string[] {
  const out: string[] = [];
  const used = new Set<string>();
  const gatewayVariables = new Set(environmentLimits('gateway').map(([, variable]) => variable));
  for (const [path, text] of Object.entries(files)) {
    for (const m of text.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)) {
      const variable = m[1]!;
      if (!(variable in LIMITS)) continue; // not a limit (the site's settings)
      used.add(variable);
      if (!gatewayVariables.has(variable))
        out.push(`${path}: uses \${${variable}}, which no stack passes to the gateway`);
    }
    for (const value of directive(text, 'client_max_body_size'))
      if (value !== '${FETCH_MAX_BYTES}')
        out.push(`${path}: client_max_body_size ${value}, not \${FETCH_MAX_BYTES}`);
    for (const upstream of text.matchAll(/^\s*upstream\s+(\S+)\s*\{/gm)) {
      const block = nginxBlock(text.slice(upstream.index), /upstream\s+\S+\s*\{/)!;
      if (directive(block, 'keepalive').length === 0) continue;
      const timeouts = directive(block, 'keepalive_timeout');
      if (timeouts.length !== 1 || timeouts[0] !== '${GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS}ms')
        out.push(
          `${path}: upstream ${upstream[1]} keeps connections with keepalive_timeout ${timeouts.join(', ') || "(nginx's default)"}, not \${GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS}ms`,
        );
    }
  }
  const serverText = files[server] ?? '';
  if (!directive(serverText, 'client_max_body_size').includes('${FETCH_MAX_BYTES}'))
    out.push(`${server}: the server sets no client_max_body_size \${FETCH_MAX_BYTES}`);
  const api = nginxBlock(serverText, /location \/api\/ \{/);
  if (api === undefined) out.push(`${server}: no location /api/`);
  else
    for (const [name, want] of [
      ['proxy_read_timeout', '${GATEWAY_PROXY_READ_TIMEOUT_MS}ms'],
      ['proxy_send_timeout', '${GATEWAY_PROXY_SEND_TIMEOUT_MS}ms'],
    ] as const) {
      const got = directive(api, name);
      if (got.length !== 1 || got[0] !== want)
        out.push(`${server}: location /api/ has ${name} ${got.join(', ') || '(unset)'}, not ${want}`);
    }
  for (const variable of gatewayVariables)
    if (!used.has(variable)) out.push(`${variable}: passed to the gateway, used by none of its templates`);
  return out;
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

/** A stack file (YAML 1.1, as Docker reads it: `<<` merges). */
function services(text: string): Map {
  const doc: unknown = parse(text, { version: '1.1' });
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
 * its default; the API's and the sidecar's variable tables give the same defaults
 * for the limits each reads.
 */
export function readmeDisagreements(text: string): string[] {
  const out: string[] = [];
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
