/**
 * Reads a Compose file (docker compose) or a stack file (docker stack deploy) into
 * one comparable shape, so that docker-compose.prod.yml and docker-stack.yml can be
 * compared field by field (stack-parity.test.ts): for every service, network,
 * volume and secret, a flat map of field name to a canonical value, with syntax
 * variants, units and Docker's own defaults resolved. Every key of a service, a
 * network or the file is either read here or refused, so a setting added to one
 * file cannot slip past the comparison unread.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** Compose runs the containers on one engine; Swarm runs them as services. Some defaults differ. */
export type Platform = 'compose' | 'swarm';

/** Field name -> canonical value (strings, numbers, booleans, arrays and plain objects only). */
export type Fields = Record<string, unknown>;

/** "service api", "network edge", "volume api-data", "secret api_token", "file" -> its fields. */
export type StackRecord = Record<string, Fields>;

type Doc = Record<string, unknown>;

/**
 * Parses YAML as Docker's Go parser does for these files: YAML 1.1, so `<<` merge
 * keys apply and `0400` is an octal mode, as in Compose's and Swarm's examples.
 */
export function parseYaml(text: string): Doc {
  const doc: unknown = parse(text, { version: '1.1' });
  return asMap(doc, 'the file');
}

export function readStackFile(path: string): Doc {
  return parseYaml(readFileSync(path, 'utf8'));
}

// ---------------------------------------------------------------------------
// Interpolation. Both tools substitute ${VAR:-default} from the deploying shell
// (Compose also reads .env, which the repository does not ship); the comparison
// is of what each file gives when nothing is set, plus which variables can change it.

const VARIABLE = /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

export interface Resolved {
  value: string;
  /** The variables of the deploying shell that would change the value, in order. */
  variables: string[];
}

/** Substitutes every variable as if unset: `${V:-d}` and `${V-d}` give d, `${V}` gives "", `$$` gives "$". */
export function interpolate(text: string): Resolved {
  const variables: string[] = [];
  const value = text.replace(
    VARIABLE,
    (_all, dollar?: string, braced?: string, op?: string, word?: string, bare?: string) => {
      if (dollar) return '$';
      const name = (braced ?? bare)!;
      variables.push(name);
      if (op === ':-' || op === '-') return word ?? '';
      if (op === ':?' || op === '?')
        throw new Error(`\${${name}${op}${word ?? ''}} requires ${name} to be set`);
      return ''; // ${V}, $V, and ${V:+alt} with V unset
    },
  );
  return { value, variables };
}

/** A scalar with its variables substituted; other values pass through. */
function resolve(value: unknown): unknown {
  return typeof value === 'string' ? interpolate(value).value : value;
}

/** Substitutes every string in a tree (values only, as both tools do). */
function resolveDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveDeep);
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveDeep(v)]));
  return resolve(value);
}

// ---------------------------------------------------------------------------
// Units.

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** Docker's sizes are binary: "256m", "256M", "256MiB" and 268435456 are one size. */
export function bytes(value: unknown): number {
  const text = String(resolve(value)).trim().toLowerCase();
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$/.exec(text);
  if (!match) throw new Error(`not a size: ${JSON.stringify(value)}`);
  return Math.round(Number(match[1]) * BYTE_UNITS[match[2]!]!);
}

/** A size as one canonical, readable string. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const)
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  return `${n} bytes`;
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1e3,
  m: 6e4,
  h: 3.6e6,
};

/** A Go duration ("1m30s", "500ms", "15s") as milliseconds, then as one canonical string. */
export function duration(value: unknown): string {
  const text = String(resolve(value)).trim();
  let ms = 0;
  const rest = text.replace(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g, (_all, n: string, unit: string) => {
    ms += Number(n) * DURATION_UNITS[unit]!;
    return '';
  });
  if (rest !== '' || text === '') throw new Error(`not a duration: ${JSON.stringify(value)}`);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** A file mode: a number (an octal literal, already read as such) or an octal string. */
function mode(value: unknown): string {
  const n = typeof value === 'number' ? value : parseInt(String(resolve(value)), 8);
  if (!Number.isInteger(n)) throw new Error(`not a mode: ${JSON.stringify(value)}`);
  return n.toString(8).padStart(4, '0');
}

function cpus(value: unknown): number {
  const n = Number(resolve(value));
  if (!Number.isFinite(n)) throw new Error(`not a CPU count: ${JSON.stringify(value)}`);
  return n;
}

// ---------------------------------------------------------------------------
// tmpfs. Docker mounts every container tmpfs (Compose's `tmpfs:` and a mount of
// type tmpfs alike) noexec, nosuid, nodev unless told otherwise, mode 1777 (the
// kernel's); a local volume backed by tmpfs gets only the options it names.

const DOCKER_TMPFS_FLAGS = ['noexec', 'nosuid', 'nodev'];
const NEGATIONS: Record<string, string> = { exec: 'noexec', suid: 'nosuid', dev: 'nodev', rw: 'ro' };

/** Canonical tmpfs options: size, mode, uid, gid, then the flags, sorted. */
export function tmpfsOptions(options: string[], defaults: string[]): string {
  const flags = new Set(defaults);
  const values: Record<string, string> = { mode: '1777' };
  for (const option of options.map((o) => o.trim()).filter(Boolean)) {
    const [key, value] = option.split('=', 2) as [string, string | undefined];
    if (value !== undefined) {
      if (key === 'size') values.size = formatBytes(bytes(value));
      else if (key === 'mode') values.mode = mode(value);
      else values[key] = value;
    } else if (NEGATIONS[key]) flags.delete(NEGATIONS[key]);
    else flags.add(key);
  }
  const ordered = ['size', 'mode', 'uid', 'gid'].filter((k) => k in values);
  const others = Object.keys(values)
    .filter((k) => !ordered.includes(k))
    .sort();
  return [...[...ordered, ...others].map((k) => `${k}=${values[k]}`), ...[...flags].sort()].join(',');
}

// ---------------------------------------------------------------------------
// Reading a file.

function isMap(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asMap(value: unknown, what: string): Doc {
  if (value === undefined || value === null) return {};
  if (!isMap(value)) throw new Error(`${what} is not a mapping`);
  return value;
}

function asList(value: unknown, what: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error(`${what} is not a list`);
  return value;
}

/** Refuses keys nobody taught this reader: an unread key would be an unchecked one. */
function onlyKnown(map: Doc, known: readonly string[], what: string): void {
  for (const key of Object.keys(map))
    if (!known.includes(key) && !key.startsWith('x-'))
      throw new Error(
        `${what}: unknown key "${key}"; teach packages/contract/test/stack-record.ts to read it`,
      );
}

/** `KEY: value` or `- KEY=value`; a key without a value passes the shell's through. */
function keyValues(value: unknown, what: string): Record<string, unknown> {
  if (Array.isArray(value))
    return Object.fromEntries(
      value.map((entry) => {
        const [key, ...rest] = String(entry).split('=');
        return [key!, rest.length ? rest.join('=') : null];
      }),
    );
  return asMap(value, what);
}

/** One environment value: its value when nothing is set, and which shell variables change it. */
function environmentValue(value: unknown): string {
  if (value === null || value === undefined) return '(from the shell)';
  const { value: text, variables } = interpolate(String(value));
  return variables.length
    ? `${JSON.stringify(text)} unless ${variables.map((v) => `$${v}`).join(', ')}`
    : text;
}

function sortedStrings(value: unknown, what: string): string[] {
  return asList(value, what)
    .map((v) => String(resolve(v)))
    .sort();
}

function stringMap(value: unknown, what: string): Record<string, string> {
  const map = keyValues(value, what);
  return Object.fromEntries(
    Object.keys(map)
      .sort()
      .map((k) => [k, String(resolve(map[k]))]),
  );
}

function command(value: unknown): unknown {
  return Array.isArray(value) ? value.map((v) => String(resolve(v))) : resolve(value);
}

const SERVICE_KEYS = [
  'image',
  'build',
  'user',
  'read_only',
  'cap_drop',
  'cap_add',
  'security_opt',
  'sysctls',
  'restart',
  'logging',
  'deploy',
  'mem_limit',
  'mem_reservation',
  'cpus',
  'pids_limit',
  'environment',
  'secrets',
  'configs',
  'networks',
  'volumes',
  'tmpfs',
  'shm_size',
  'stop_grace_period',
  'depends_on',
  'ports',
  'command',
  'entrypoint',
  'healthcheck',
] as const;

const DEPLOY_KEYS = [
  'replicas',
  'resources',
  'restart_policy',
  'update_config',
  'rollback_config',
  'placement',
  'endpoint_mode',
  'mode',
] as const;

/** Sets a field from either of two places (Compose's key or deploy.resources), refusing two different values. */
function setOnce(fields: Fields, field: string, values: unknown[], what: string): void {
  const given = values.filter((v) => v !== undefined);
  if (given.length === 0) return;
  if (new Set(given.map((v) => JSON.stringify(v))).size > 1)
    throw new Error(
      `${what}: ${field} is set twice, differently: ${given.map((v) => JSON.stringify(v)).join(' and ')}`,
    );
  fields[field] = given[0];
}

function resources(deploy: Doc, what: string): { limits: Doc; reservations: Doc } {
  const all = asMap(deploy.resources, `${what} deploy.resources`);
  onlyKnown(all, ['limits', 'reservations'], `${what} deploy.resources`);
  const limits = asMap(all.limits, `${what} deploy.resources.limits`);
  const reservations = asMap(all.reservations, `${what} deploy.resources.reservations`);
  onlyKnown(limits, ['memory', 'cpus', 'pids'], `${what} deploy.resources.limits`);
  onlyKnown(reservations, ['memory', 'cpus'], `${what} deploy.resources.reservations`);
  return { limits, reservations };
}

/** deploy.update_config and the like: durations canonical, the rest as written. */
function deployPolicy(value: unknown, what: string): unknown {
  if (value === undefined) return undefined;
  const map = resolveDeep(asMap(value, what)) as Doc;
  return Object.fromEntries(
    Object.keys(map)
      .sort()
      .map((k) => [k, ['delay', 'monitor', 'window'].includes(k) ? duration(map[k]) : map[k]]),
  );
}

function healthcheck(value: unknown, what: string): unknown {
  if (value === undefined) return "(the image's HEALTHCHECK)";
  const check = asMap(value, what);
  onlyKnown(
    check,
    ['test', 'interval', 'timeout', 'start_period', 'start_interval', 'retries', 'disable'],
    what,
  );
  if (check.disable === true) return 'disabled';
  const test = typeof check.test === 'string' ? ['CMD-SHELL', resolve(check.test)] : command(check.test);
  const out: Fields = { test };
  for (const key of ['interval', 'timeout', 'start_period', 'start_interval'])
    if (check[key] !== undefined) out[key] = duration(check[key]);
  if (check.retries !== undefined) out.retries = Number(resolve(check.retries));
  return out;
}

interface Mounts {
  mounts: string[];
  tmpfs: Record<string, string>;
}

/** The named volumes that are tmpfs underneath: their canonical options. */
function tmpfsVolumes(doc: Doc): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, definition] of Object.entries(asMap(doc.volumes, 'volumes'))) {
    const opts = asMap(asMap(definition, `volume ${name}`).driver_opts, `volume ${name} driver_opts`);
    if (resolve(opts.type) === 'tmpfs')
      out[name] = tmpfsOptions(String(resolve(opts.o ?? '')).split(','), []);
  }
  return out;
}

/**
 * A service's mounts. Named volumes and host files are compared as "what is mounted
 * where"; a host file bound read-only and a Swarm config of that file are one
 * thing (Swarm cannot bind a manager's file on every node, so it ships it). Every
 * tmpfs, however it is declared, is compared by its target and options.
 */
function mounts(service: Doc, doc: Doc, what: string): Mounts {
  const out: Mounts = { mounts: [], tmpfs: {} };
  const tmpfsVolume = tmpfsVolumes(doc);
  const addTmpfs = (target: string, options: string) => {
    if (target in out.tmpfs) throw new Error(`${what}: two tmpfs mounts at ${target}`);
    out.tmpfs[target] = options;
  };
  const tmpfsShort =
    typeof service.tmpfs === 'string' ? [service.tmpfs] : asList(service.tmpfs, `${what} tmpfs`);
  for (const entry of tmpfsShort) {
    const [target, options = ''] = String(resolve(entry)).split(/:(.*)/s) as [string, string?];
    addTmpfs(target, tmpfsOptions(options.split(','), DOCKER_TMPFS_FLAGS));
  }
  // Compose's shm_size is the size of the tmpfs Docker mounts at /dev/shm (mode
  // 1777, noexec, nosuid, nodev); Swarm has no shm_size, only that tmpfs mount.
  if (service.shm_size !== undefined)
    addTmpfs('/dev/shm', tmpfsOptions([`size=${bytes(service.shm_size)}`], DOCKER_TMPFS_FLAGS));
  for (const entry of asList(service.volumes, `${what} volumes`)) {
    let type: string, source: string | undefined, target: string, readOnly: boolean;
    if (typeof entry === 'string') {
      const parts = String(resolve(entry)).split(':');
      if (parts.length === 1) [type, source, target, readOnly] = ['volume', undefined, parts[0]!, false];
      else {
        source = parts[0]!;
        target = parts[1]!;
        readOnly = (parts[2] ?? '').split(',').includes('ro');
        type = /^[./~]/.test(source) ? 'bind' : 'volume';
      }
    } else {
      const long = resolveDeep(asMap(entry, `${what} volume`)) as Doc;
      onlyKnown(long, ['type', 'source', 'target', 'read_only', 'tmpfs', 'volume', 'bind'], `${what} volume`);
      type = String(long.type);
      source = long.source === undefined ? undefined : String(long.source);
      target = String(long.target);
      readOnly = long.read_only === true;
      if (type === 'tmpfs') {
        const t = asMap(long.tmpfs, `${what} tmpfs`);
        onlyKnown(t, ['size', 'mode'], `${what} tmpfs`);
        const options = [
          ...(t.size !== undefined ? [`size=${bytes(t.size)}`] : []),
          ...(t.mode !== undefined ? [`mode=${mode(t.mode)}`] : []),
          ...(readOnly ? ['ro'] : []),
        ];
        addTmpfs(target, tmpfsOptions(options, DOCKER_TMPFS_FLAGS));
        continue;
      }
      if (long.volume !== undefined || long.bind !== undefined)
        throw new Error(`${what}: volume options are not compared yet; teach stack-record.ts`);
    }
    const ro = readOnly ? ', read-only' : '';
    if (type === 'volume' && source !== undefined && source in tmpfsVolume) {
      addTmpfs(target, readOnly ? `${tmpfsVolume[source]},ro` : tmpfsVolume[source]!);
    } else if (type === 'volume') {
      out.mounts.push(
        source === undefined ? `anonymous volume at ${target}` : `volume ${source} at ${target}${ro}`,
      );
    } else if (type === 'bind') {
      out.mounts.push(`host file ${source} at ${target}${ro}`);
    } else throw new Error(`${what}: mount type ${type} is not compared yet; teach stack-record.ts`);
  }
  const configs = asMap(doc.configs, 'configs');
  for (const entry of asList(service.configs, `${what} configs`)) {
    const config =
      typeof entry === 'string' ? { source: entry } : (resolveDeep(asMap(entry, `${what} config`)) as Doc);
    onlyKnown(config, ['source', 'target', 'uid', 'gid', 'mode'], `${what} config`);
    const source = String(config.source);
    const file = asMap(configs[source], `config ${source}`).file;
    if (file === undefined) throw new Error(`${what}: config ${source} is not from a file`);
    if (config.uid !== undefined || config.gid !== undefined || config.mode !== undefined)
      throw new Error(`${what}: config ownership is not compared yet; teach stack-record.ts`);
    // Swarm's configs are read-only; without a target, at /<name>.
    out.mounts.push(
      `host file ${String(resolve(file))} at ${String(config.target ?? `/${source}`)}, read-only`,
    );
  }
  out.mounts.sort();
  return out;
}

/**
 * Secrets: what is mounted where, and separately who owns it (Compose mounts a
 * file secret as the file is; Swarm as root, 0444, unless told).
 */
function secrets(
  value: unknown,
  platform: Platform,
  what: string,
): { mounts: string[]; ownership: string[] } {
  const mounted: string[] = [];
  const ownership: string[] = [];
  for (const entry of asList(value, `${what} secrets`)) {
    const secret =
      typeof entry === 'string' ? { source: entry } : (resolveDeep(asMap(entry, `${what} secret`)) as Doc);
    onlyKnown(secret, ['source', 'target', 'uid', 'gid', 'mode'], `${what} secret`);
    const source = String(secret.source);
    const target = String(secret.target ?? source);
    mounted.push(`${source} at ${target.startsWith('/') ? target : `/run/secrets/${target}`}`);
    const unset = secret.uid === undefined && secret.gid === undefined && secret.mode === undefined;
    ownership.push(
      platform === 'compose' && unset
        ? `${source}: as the file on the host`
        : `${source}: uid ${String(secret.uid ?? '0')}, gid ${String(secret.gid ?? '0')}, mode ${mode(secret.mode ?? 0o444)}`,
    );
  }
  return { mounts: mounted.sort(), ownership: ownership.sort() };
}

/** Ports as target/published/protocol/mode, and the host address apart (Swarm binds every one). */
function ports(value: unknown, platform: Platform, what: string): { ports: string[]; hostIps: string[] } {
  const out = { ports: [] as string[], hostIps: [] as string[] };
  // On one engine every published port is the host's; Swarm's default is its routing mesh.
  const defaultMode = platform === 'compose' ? 'host' : 'ingress';
  for (const entry of asList(value, `${what} ports`)) {
    let target: string, published: string, protocol: string, hostIp: string, mode: string;
    if (typeof entry === 'string' || typeof entry === 'number') {
      // [host_ip:][published:]target[/protocol]; an IPv6 host_ip comes in brackets.
      const text = String(resolve(entry));
      const short = /^(?:(?:(\[[^\]]*\]|[^:[\]]*):)?([^:]*):)?([^:/]+)(?:\/(\w+))?$/.exec(text);
      if (!short) throw new Error(`${what}: cannot read the port ${JSON.stringify(text)}`);
      target = short[3]!;
      published = short[2] || '(any)';
      hostIp = short[1]?.replace(/^\[|\]$/g, '') || '(every address)';
      [protocol, mode] = [short[4] ?? 'tcp', defaultMode];
    } else {
      const long = resolveDeep(asMap(entry, `${what} port`)) as Doc;
      onlyKnown(long, ['target', 'published', 'protocol', 'mode', 'host_ip'], `${what} port`);
      target = String(long.target);
      published = String(long.published ?? '(any)');
      protocol = String(long.protocol ?? 'tcp');
      mode = String(long.mode ?? defaultMode);
      hostIp = String(long.host_ip ?? '(every address)');
    }
    out.ports.push(`${published}->${target}/${protocol}, ${mode} mode`);
    out.hostIps.push(`${published}: ${hostIp}`);
  }
  return out;
}

function serviceFields(name: string, service: Doc, doc: Doc, platform: Platform): Fields {
  const what = `service ${name}`;
  onlyKnown(service, SERVICE_KEYS, what);
  const deploy = asMap(service.deploy, `${what} deploy`);
  onlyKnown(deploy, DEPLOY_KEYS, `${what} deploy`);
  const { limits, reservations } = resources(deploy, what);
  const fields: Fields = {
    // The stack's images carry ${STAGECRAFT_REGISTRY:-} and ${*_TAG:-latest}; what
    // counts is that by default both files run the same image.
    image: resolve(service.image),
    user: service.user === undefined ? "(the image's)" : String(resolve(service.user)),
    read_only: resolve(service.read_only) === true,
    cap_drop: sortedStrings(service.cap_drop, `${what} cap_drop`),
    cap_add: sortedStrings(service.cap_add, `${what} cap_add`),
    security_opt: sortedStrings(service.security_opt, `${what} security_opt`),
    sysctls: stringMap(service.sysctls, `${what} sysctls`),
    restart: service.restart === undefined ? '(not set)' : resolve(service.restart),
    logging: resolveDeep(service.logging ?? '(the daemon default)'),
    replicas: deploy.replicas === undefined ? 1 : Number(resolve(deploy.replicas)),
    stop_grace_period: duration(service.stop_grace_period ?? '10s'),
    healthcheck: healthcheck(service.healthcheck, `${what} healthcheck`),
    command: service.command === undefined ? "(the image's)" : command(service.command),
    entrypoint: service.entrypoint === undefined ? "(the image's)" : command(service.entrypoint),
    networks: [] as string[],
  };
  const memory = (v: unknown) => (v === undefined ? undefined : formatBytes(bytes(v)));
  const count = (v: unknown) => (v === undefined ? undefined : cpus(v));
  setOnce(fields, 'limits.memory', [memory(service.mem_limit), memory(limits.memory)], what);
  setOnce(fields, 'limits.cpus', [count(service.cpus), count(limits.cpus)], what);
  setOnce(fields, 'limits.pids', [count(service.pids_limit), count(limits.pids)], what);
  setOnce(
    fields,
    'reservations.memory',
    [memory(service.mem_reservation), memory(reservations.memory)],
    what,
  );
  setOnce(fields, 'reservations.cpus', [count(reservations.cpus)], what);
  for (const key of ['restart_policy', 'update_config', 'rollback_config'] as const)
    setOnce(fields, `deploy.${key}`, [deployPolicy(deploy[key], `${what} deploy.${key}`)], what);
  setOnce(fields, 'deploy.placement', [deploy.placement && resolveDeep(deploy.placement)], what);
  setOnce(fields, 'deploy.endpoint_mode', [resolve(deploy.endpoint_mode)], what);
  setOnce(fields, 'deploy.mode', [resolve(deploy.mode)], what);

  const environment = keyValues(service.environment, `${what} environment`);
  for (const key of Object.keys(environment).sort())
    fields[`environment.${key}`] = environmentValue(environment[key]);

  const networks = service.networks;
  const aliases: Record<string, string[]> = {};
  if (Array.isArray(networks)) fields.networks = sortedStrings(networks, `${what} networks`);
  else {
    const map = asMap(networks, `${what} networks`);
    fields.networks = Object.keys(map).sort();
    for (const [network, settings] of Object.entries(map)) {
      const s = asMap(settings, `${what} network ${network}`);
      onlyKnown(s, ['aliases'], `${what} network ${network}`);
      if (s.aliases !== undefined) aliases[network] = sortedStrings(s.aliases, `${what} aliases`);
    }
  }
  if (Object.keys(aliases).length) fields['networks.aliases'] = aliases;

  const { mounts: mounted, tmpfs } = mounts(service, doc, what);
  fields.mounts = mounted;
  for (const target of Object.keys(tmpfs).sort()) fields[`tmpfs ${target}`] = tmpfs[target];

  const s = secrets(service.secrets, platform, what);
  fields.secrets = s.mounts;
  fields['secrets.ownership'] = s.ownership;

  const p = ports(service.ports, platform, what);
  fields.ports = p.ports;
  fields['ports.host_ip'] = p.hostIps;

  if (service.depends_on !== undefined) fields.depends_on = resolveDeep(service.depends_on);
  // Compose builds, the stack runs what was built: the images are the link, compared above.
  return fields;
}

function networkFields(name: string, value: unknown): Fields {
  const what = `network ${name}`;
  const network = resolveDeep(asMap(value, what)) as Doc;
  onlyKnown(
    network,
    ['driver', 'driver_opts', 'internal', 'attachable', 'ipam', 'external', 'name', 'enable_ipv6', 'labels'],
    what,
  );
  const ipam = asMap(network.ipam, `${what} ipam`);
  onlyKnown(ipam, ['driver', 'config'], `${what} ipam`);
  const fields: Fields = {
    // Each tool's own default (bridge for Compose, overlay for Swarm) is the right one for it.
    driver: network.driver ?? '(the default)',
    driver_opts: network.driver_opts ?? {},
    internal: network.internal === true,
    attachable: network.attachable === true,
    external: network.external ?? false,
    name: network.name ?? '(from the project)',
    enable_ipv6: network.enable_ipv6 === true,
    labels: network.labels ?? {},
  };
  if (network.ipam !== undefined) fields.ipam = ipam;
  return fields;
}

const TOP_KEYS = ['name', 'services', 'networks', 'volumes', 'secrets', 'configs'] as const;

/** The whole file as one record: every service, network, (non-tmpfs) volume and secret. */
export function stackRecord(doc: Doc, platform: Platform): StackRecord {
  onlyKnown(doc, TOP_KEYS, 'the file');
  const record: StackRecord = {
    file: { name: doc.name === undefined ? '(given on the command line)' : resolve(doc.name) },
  };
  for (const [name, service] of Object.entries(asMap(doc.services, 'services')))
    record[`service ${name}`] = serviceFields(name, asMap(service, `service ${name}`), doc, platform);
  for (const [name, network] of Object.entries(asMap(doc.networks, 'networks')))
    record[`network ${name}`] = networkFields(name, network);
  const tmpfsBacked = tmpfsVolumes(doc);
  for (const [name, value] of Object.entries(asMap(doc.volumes, 'volumes'))) {
    if (name in tmpfsBacked) continue; // compared as the tmpfs mounts of the services using them
    const volume = resolveDeep(asMap(value, `volume ${name}`)) as Doc;
    onlyKnown(volume, ['driver', 'driver_opts', 'external', 'name', 'labels'], `volume ${name}`);
    record[`volume ${name}`] = {
      driver: volume.driver ?? 'local',
      driver_opts: volume.driver_opts ?? {},
      external: volume.external ?? false,
      name: volume.name ?? '(from the project)',
      labels: volume.labels ?? {},
    };
  }
  for (const [name, value] of Object.entries(asMap(doc.secrets, 'secrets'))) {
    const secret = resolveDeep(asMap(value, `secret ${name}`)) as Doc;
    onlyKnown(secret, ['file', 'external', 'name', 'environment'], `secret ${name}`);
    record[`secret ${name}`] = { ...secret };
  }
  return record;
}

// ---------------------------------------------------------------------------
// Comparing.

export interface Difference {
  /** "service api", "network edge", ... */
  where: string;
  field: string;
  compose: unknown;
  stack: unknown;
}

/** A deliberate difference: `where` may end in " *" for every service (network, ...). */
export interface Exception {
  where: string;
  field: string;
  reason: string;
}

const NOT_SET = '(not set)';

/** Every field that differs, and every service, network, volume or secret defined in one file only. */
export function differences(compose: StackRecord, stack: StackRecord): Difference[] {
  const out: Difference[] = [];
  for (const where of [...new Set([...Object.keys(compose), ...Object.keys(stack)])].sort()) {
    const a = compose[where];
    const b = stack[where];
    if (!a || !b) {
      out.push({ where, field: 'defined', compose: Boolean(a), stack: Boolean(b) });
      continue;
    }
    for (const field of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const x = field in a ? a[field] : NOT_SET;
      const y = field in b ? b[field] : NOT_SET;
      if (canonical(x) !== canonical(y)) out.push({ where, field, compose: x, stack: y });
    }
  }
  return out;
}

/** JSON with object keys sorted, so key order never counts as a difference. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isMap(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

export function covers(exception: Exception, difference: Difference): boolean {
  if (exception.field !== difference.field) return false;
  if (exception.where.endsWith(' *')) return difference.where.startsWith(exception.where.slice(0, -1));
  return exception.where === difference.where;
}

/** The files a comparison reads, as its messages name them. */
export interface FileNames {
  compose: string;
  stack: string;
}

const PRODUCTION: FileNames = { compose: 'docker-compose.prod.yml', stack: 'docker-stack.yml' };

export function describeDifference(d: Difference, names: FileNames = PRODUCTION): string {
  return `${d.where}, ${d.field}: ${names.compose} has ${canonical(d.compose)}, ${names.stack} has ${canonical(d.stack)}`;
}

/** The differences no exception covers, and the exceptions that cover nothing (stale ones hide nothing, but lie). */
export function judge(
  found: Difference[],
  exceptions: readonly Exception[],
  names: FileNames = PRODUCTION,
): { unexplained: string[]; unused: string[] } {
  return {
    unexplained: found
      .filter((d) => !exceptions.some((e) => covers(e, d)))
      .map((d) => describeDifference(d, names)),
    unused: exceptions
      .filter((e) => !found.some((d) => covers(e, d)))
      .map((e) => `${e.where}, ${e.field} (${e.reason})`),
  };
}
