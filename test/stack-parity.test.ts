/**
 * docker-stack.yml restates docker-compose.prod.yml for Swarm (which cannot read the
 * Compose file: it refuses mem_limit/cpus and health-gated depends_on, and
 * `docker stack deploy` has no extends, include or .env). This keeps the two in
 * agreement: both files are read into one shape (stack-record.ts) and compared
 * service by service, field by field: images, users, read-only roots,
 * capabilities, limits, health checks, environment, networks, mounts, secrets,
 * ports. Every deliberate difference is listed once below, with its reason;
 * anything else fails, naming the service, the field and both values. Compose runs
 * Alertmanager with the operator overlay (docker-compose.prod.ops.yml), Swarm in
 * the stack: what the overlay adds for it joins the Compose side first. No Docker.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mergeCompose, parseCompose, readComposeFile } from './compose-overlay.js';
import {
  bytes,
  differences,
  duration,
  type Exception,
  type FileNames,
  interpolate,
  judge,
  parseYaml,
  readStackFile,
  stackRecord,
  tmpfsOptions,
} from './stack-record.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const COMPOSE_FILE = join(repoRoot, 'docker-compose.prod.yml');
const STACK_FILE = join(repoRoot, 'docker-stack.yml');
const OPS_FILE = join(repoRoot, 'docker-compose.prod.ops.yml');
const POSTGRES_OVERLAY = join(repoRoot, 'docker-compose.prod.postgres.yml');
const POSTGRES_STACK = join(repoRoot, 'docker-stack.postgres.yml');

const SIDECAR_BINDS_BY_SUBNET =
  'Swarm puts a task in DNS only once healthy, too late for the sidecar to find its own address by alias: it binds to its address in the subnet the stack fixes (checked below)';
const ONE_DATA_NODE =
  'its data is on the node labelled stagecraft.data=true (README: storage); Compose runs on one host';

/** Every deliberate difference between the two files, once, with its reason. */
const EXCEPTIONS: readonly Exception[] = [
  {
    where: 'file',
    field: 'name',
    reason: 'Compose names the project in the file; a stack is named on the docker stack deploy command line',
  },
  {
    where: 'service *',
    field: 'security_opt',
    reason: 'Swarm services have no no-new-privileges setting (README: there is nothing to escalate to)',
  },
  {
    where: 'service *',
    field: 'restart',
    reason: 'Swarm ignores restart:, it restarts by deploy.restart_policy',
  },
  {
    where: 'service *',
    field: 'deploy.restart_policy',
    reason: 'Swarm restarts a task on any exit, after a delay; Compose does by restart: unless-stopped',
  },
  { where: 'service *', field: 'deploy.update_config', reason: 'rolling updates are a Swarm feature' },
  { where: 'service *', field: 'deploy.rollback_config', reason: 'automatic rollback is a Swarm feature' },
  {
    where: 'service *',
    field: 'deploy.endpoint_mode',
    reason: 'no Swarm virtual IPs (names resolve to the healthy tasks); Compose has none to begin with',
  },
  {
    where: 'service *',
    field: 'depends_on',
    reason: 'Swarm ignores depends_on: a stack has no start order',
  },
  { where: 'service api', field: 'deploy.placement', reason: `the SQLite file: ${ONE_DATA_NODE}` },
  { where: 'service prometheus', field: 'deploy.placement', reason: `its TSDB: ${ONE_DATA_NODE}` },
  {
    where: 'service api',
    field: 'replicas',
    reason: 'Swarm runs three APIs by default (API_REPLICAS, README), Compose two on its one host',
  },
  {
    where: 'service sidecar',
    field: 'replicas',
    reason: 'Swarm runs two sidecars, so a rolling update always leaves one; Compose one',
  },
  {
    where: 'service api',
    field: 'reservations.memory',
    reason: "Swarm's scheduler places tasks by their reservations; Compose schedules nothing",
  },
  {
    where: 'service api',
    field: 'secrets.ownership',
    reason: 'Compose mounts a file secret as the file is (README: readable by uid 65532); Swarm can own it',
  },
  {
    where: 'service alertmanager',
    field: 'secrets.ownership',
    reason:
      'Compose mounts a file secret as the file is (README: readable by uid 65534); Swarm mounts it 0444',
  },
  { where: 'service sidecar', field: 'environment.HOST', reason: SIDECAR_BINDS_BY_SUBNET },
  { where: 'service sidecar', field: 'environment.METRICS_HOST', reason: SIDECAR_BINDS_BY_SUBNET },
  { where: 'service sidecar', field: 'networks.aliases', reason: SIDECAR_BINDS_BY_SUBNET },
  { where: 'network edge', field: 'ipam', reason: SIDECAR_BINDS_BY_SUBNET },
  { where: 'network metrics', field: 'ipam', reason: SIDECAR_BINDS_BY_SUBNET },
  {
    where: 'service gateway',
    field: 'ports.host_ip',
    reason: 'Swarm binds a host-mode port on every interface (README: firewall it); Compose on GATEWAY_BIND',
  },
  {
    where: 'secret ca_bundle',
    field: 'defined',
    reason: 'a build secret: the stack builds nothing, it runs the images Compose built',
  },
];

type Doc = Record<string, unknown>;
type Edit = (compose: Doc, stack: Doc) => void;

/**
 * docker-compose.prod.yml with what the operator overlay adds for Alertmanager,
 * which the stack runs too: every service, network, volume and secret the overlay
 * defines, and Prometheus's added networks and mounts. The operator's own access
 * (the ops network and its published port, the listener there, the resolver) has
 * no Swarm counterpart and stays out; a new key in the overlay's Prometheus fails
 * here until it is sorted into one or the other.
 */
function withOperatorAlerting(compose: Doc): Doc {
  const ops = readStackFile(OPS_FILE);
  const operatorOnly = { network: 'ops', prometheus: ['command', 'ports', 'dns'] };
  for (const section of ['services', 'networks', 'volumes', 'secrets']) {
    for (const [name, value] of Object.entries((ops[section] ?? {}) as Doc)) {
      if (section === 'networks' && name === operatorOnly.network) continue;
      if (section === 'services' && name === 'prometheus') continue;
      if (name in ((compose[section] ?? {}) as Doc))
        throw new Error(`docker-compose.prod.ops.yml redefines ${section} ${name}`);
      compose[section] = { ...((compose[section] ?? {}) as Doc), [name]: value };
    }
  }
  const overlay = at(ops, 'services', 'prometheus');
  const prometheus = at(compose, 'services', 'prometheus');
  for (const key of Object.keys(overlay)) {
    if (operatorOnly.prometheus.includes(key)) continue;
    if (key === 'networks') {
      const added = Object.keys(overlay.networks as Doc).filter((n) => n !== operatorOnly.network);
      prometheus.networks = [...(prometheus.networks as string[]), ...added];
    } else if (key === 'volumes') {
      prometheus.volumes = [...(prometheus.volumes as unknown[]), ...(overlay.volumes as unknown[])];
    } else
      throw new Error(`docker-compose.prod.ops.yml: prometheus.${key} is neither compared nor operator-only`);
  }
  return compose;
}

/** Two files that must describe one stack: how to read each, and the differences allowed. */
interface Pair {
  compose: () => Doc;
  stack: string;
  exceptions: readonly Exception[];
  names: FileNames;
}

const PRODUCTION: Pair = {
  compose: () => withOperatorAlerting(readStackFile(COMPOSE_FILE)),
  stack: STACK_FILE,
  exceptions: EXCEPTIONS,
  names: { compose: 'docker-compose.prod.yml', stack: 'docker-stack.yml' },
};

/**
 * The PostgreSQL pair: docker-compose.prod.yml with the operator's Alertmanager
 * and docker-compose.prod.postgres.yml merged onto it as Compose merges an overlay
 * (compose-overlay.ts), against docker-stack.postgres.yml, a file of its own (its
 * header says why it is no overlay). The same exceptions as the production pair,
 * but where the API may run and what only PostgreSQL brings.
 */
const POSTGRES: Pair = {
  compose: () => mergeCompose(PRODUCTION.compose(), readComposeFile(POSTGRES_OVERLAY)),
  stack: POSTGRES_STACK,
  exceptions: [
    ...EXCEPTIONS.filter((e) => !(e.where === 'service api' && e.field === 'deploy.placement')),
    {
      where: 'service api',
      field: 'deploy.placement',
      reason: 'no data of its own: Swarm spreads the replicas over the nodes; Compose runs on one host',
    },
    { where: 'service postgres', field: 'deploy.placement', reason: `its data: ${ONE_DATA_NODE}` },
    {
      where: 'service postgres',
      field: 'secrets.ownership',
      reason:
        'Compose mounts a file secret as the file is (scripts/postgres-secrets.sh: readable by uid 999); Swarm can own it',
    },
    {
      where: 'volume api-data',
      field: 'defined',
      reason:
        'an overlay cannot remove a volume its base file defines; no service of the Compose pair mounts it',
    },
  ],
  names: {
    compose: 'docker-compose.prod.yml + docker-compose.prod.postgres.yml',
    stack: 'docker-stack.postgres.yml',
  },
};

/** Reads both files afresh, lets `edit` change the parsed documents, then judges them. */
function compare(edit: Edit = () => undefined, pair: Pair = PRODUCTION) {
  const compose = pair.compose();
  const stack = readStackFile(pair.stack);
  edit(compose, stack);
  return judge(
    differences(stackRecord(compose, 'compose'), stackRecord(stack, 'swarm')),
    pair.exceptions,
    pair.names,
  );
}

/** What an edit adds to the verdict on the files as they are: the comparison must see the drift. */
function drift(edit: Edit, pair: Pair = PRODUCTION): string[] {
  const before = new Set(compare(undefined, pair).unexplained);
  return compare(edit, pair).unexplained.filter((message) => !before.has(message));
}

/** A path into a parsed document, for the edits below. */
function at(doc: Doc, ...path: string[]): Doc {
  return path.reduce((node, key) => node[key] as Doc, doc);
}

describe('docker-compose.prod.yml and docker-stack.yml', () => {
  it('differ only where a listed exception says why', () => {
    const { unexplained } = compare();
    expect(unexplained, `\n${unexplained.join('\n')}\n`).toEqual([]);
  });

  it('list no exception that no longer differs', () => {
    const { unused } = compare();
    expect(unused, `\n${unused.join('\n')}\n`).toEqual([]);
  });

  it('bind the sidecar to its own address on edge and on metrics: by alias in Compose, by subnet in Swarm', () => {
    const compose = stackRecord(readStackFile(COMPOSE_FILE), 'compose');
    const stack = stackRecord(readStackFile(STACK_FILE), 'swarm');
    const aliases = compose['service sidecar']!['networks.aliases'] as Record<string, string[]>;
    expect(aliases.edge).toContain(compose['service sidecar']!['environment.HOST']);
    expect(aliases.metrics).toContain(compose['service sidecar']!['environment.METRICS_HOST']);
    const subnet = (network: string) =>
      (stack[`network ${network}`]!.ipam as { config: { subnet: string }[] }).config.map((c) => c.subnet);
    expect(subnet('edge')).toEqual([stack['service sidecar']!['environment.HOST']]);
    expect(subnet('metrics')).toEqual([stack['service sidecar']!['environment.METRICS_HOST']]);
    expect(stack['service sidecar']!.networks).toEqual(expect.arrayContaining(['edge', 'metrics']));
  });
});

describe('the comparison fails on drift', () => {
  it('in a memory limit (mem_limit against deploy.resources)', () => {
    expect(
      drift((_c, s) => (at(s, 'services', 'api', 'deploy', 'resources', 'limits').memory = '512M')),
    ).toEqual([
      'service api, limits.memory: docker-compose.prod.yml has "256 MiB", docker-stack.yml has "512 MiB"',
    ]);
  });

  it('in a pid limit and a CPU limit', () => {
    expect(
      drift((c) => {
        at(c, 'services', 'sidecar').pids_limit = 256;
        at(c, 'services', 'sidecar').cpus = 0.5;
      }),
    ).toEqual([
      'service sidecar, limits.cpus: docker-compose.prod.yml has 0.5, docker-stack.yml has 1',
      'service sidecar, limits.pids: docker-compose.prod.yml has 256, docker-stack.yml has 128',
    ]);
  });

  it('in an environment value, even of a service with excepted variables', () => {
    expect(drift((c) => (at(c, 'services', 'sidecar', 'environment').UPSTREAM_RETRIES = '3'))).toEqual([
      'service sidecar, environment.UPSTREAM_RETRIES: docker-compose.prod.yml has "3", docker-stack.yml has "2"',
    ]);
  });

  it('in a variable passed in one file only', () => {
    expect(
      drift((c) => (at(c, 'services', 'api', 'environment').NODE_DEBUG = '${NODE_DEBUG:-http}')),
    ).toEqual([
      'service api, environment.NODE_DEBUG: docker-compose.prod.yml has "\\"http\\" unless $NODE_DEBUG", docker-stack.yml has "(not set)"',
    ]);
  });

  it('when one file fixes a value the other lets the shell set', () => {
    expect(drift((_c, s) => (at(s, 'services', 'api', 'environment').LOG_LEVEL = 'info'))).toEqual([
      'service api, environment.LOG_LEVEL: docker-compose.prod.yml has "\\"info\\" unless $LOG_LEVEL", docker-stack.yml has "info"',
    ]);
  });

  it("in a network's internal flag", () => {
    expect(drift((_c, s) => (at(s, 'networks', 'app').internal = false))).toEqual([
      'network app, internal: docker-compose.prod.yml has true, docker-stack.yml has false',
    ]);
  });

  it("in a service's networks", () => {
    expect(
      drift((_c, s) => (at(s, 'services', 'api').networks = ['app', 'api-metrics', 'egress', 'edge'])),
    ).toEqual([
      'service api, networks: docker-compose.prod.yml has ["api-metrics","app","egress"], docker-stack.yml has ["api-metrics","app","edge","egress"]',
    ]);
  });

  it('in dropped or added capabilities, the user and the read-only root', () => {
    expect(
      drift((c, s) => {
        at(s, 'services', 'api').cap_drop = ['NET_RAW'];
        at(c, 'services', 'gateway').cap_add = ['NET_BIND_SERVICE'];
        at(s, 'services', 'sidecar').user = '0:0';
        at(c, 'services', 'prometheus').read_only = false;
      }),
    ).toEqual([
      'service api, cap_drop: docker-compose.prod.yml has ["ALL"], docker-stack.yml has ["NET_RAW"]',
      'service gateway, cap_add: docker-compose.prod.yml has ["NET_BIND_SERVICE"], docker-stack.yml has []',
      'service prometheus, read_only: docker-compose.prod.yml has false, docker-stack.yml has true',
      'service sidecar, user: docker-compose.prod.yml has "65532:65532", docker-stack.yml has "0:0"',
    ]);
  });

  it('in an image', () => {
    expect(drift((_c, s) => (at(s, 'services', 'prometheus').image = 'prom/prometheus:v3.5.2'))).toEqual([
      'service prometheus, image: docker-compose.prod.yml has "prom/prometheus:v3.5.3", docker-stack.yml has "prom/prometheus:v3.5.2"',
    ]);
  });

  it('in a health check, and when one file drops it for the image’s', () => {
    expect(
      drift((c, s) => {
        at(s, 'services', 'prometheus', 'healthcheck').interval = '30s';
        at(c, 'services', 'api').healthcheck = { disable: true };
      }),
    ).toEqual([
      'service api, healthcheck: docker-compose.prod.yml has "disabled", docker-stack.yml has "(the image\'s HEALTHCHECK)"',
      expect.stringMatching(/^service prometheus, healthcheck: .*"interval":"10s".*"interval":"30s"/),
    ]);
  });

  it('in a tmpfs: its size, a flag, a mount missing from one file', () => {
    expect(
      drift((c, s) => {
        at(s, 'services', 'sidecar', 'volumes', '0', 'tmpfs').size = 16777216;
        at(c, 'services', 'api').tmpfs = ['/tmp:size=16m,exec,nosuid,nodev'];
        at(s, 'volumes', 'gateway-run', 'driver_opts').o = 'size=1m,uid=101,gid=101,mode=0755,nosuid,nodev';
        at(c, 'services', 'gateway').tmpfs = (
          at(c, 'services', 'gateway').tmpfs as unknown as string[]
        ).filter((mount) => !mount.startsWith('/etc/nginx/conf.d:'));
      }),
    ).toEqual([
      'service api, tmpfs /tmp: docker-compose.prod.yml has "size=16 MiB,mode=1777,nodev,nosuid", docker-stack.yml has "size=16 MiB,mode=1777,nodev,noexec,nosuid"',
      'service gateway, tmpfs /etc/nginx/conf.d: docker-compose.prod.yml has "(not set)", docker-stack.yml has "size=1 MiB,mode=0755,uid=101,gid=101,nodev,noexec,nosuid"',
      expect.stringMatching(/^service gateway, tmpfs \/run: .*noexec,nosuid".*nodev,nosuid"$/),
      'service sidecar, tmpfs /tmp: docker-compose.prod.yml has "size=8 MiB,mode=1777,nodev,noexec,nosuid", docker-stack.yml has "size=16 MiB,mode=1777,nodev,noexec,nosuid"',
    ]);
  });

  it('in stop_grace_period, replicas, mounts and published ports', () => {
    expect(
      drift((c, s) => {
        at(s, 'services', 'api').stop_grace_period = '1m';
        at(s, 'services', 'gateway', 'deploy').replicas = 2;
        at(c, 'services', 'prometheus').volumes = [
          './prometheus/prometheus.yml:/etc/prometheus/prometheus.yml',
        ];
        at(c, 'services', 'gateway').ports = ['${GATEWAY_BIND:-127.0.0.1}:${GATEWAY_PORT:-8080}:8081'];
      }),
    ).toEqual([
      'service api, stop_grace_period: docker-compose.prod.yml has "15s", docker-stack.yml has "60s"',
      expect.stringMatching(
        /^service gateway, ports: .*"8080->8081\/tcp, host mode".*"8080->8080\/tcp, host mode"/,
      ),
      'service gateway, replicas: docker-compose.prod.yml has 1, docker-stack.yml has 2',
      expect.stringMatching(
        /^service prometheus, mounts: docker-compose.prod.yml has \["host file .\/prometheus\/prometheus.yml at \/etc\/prometheus\/prometheus.yml"\], docker-stack.yml has \[.*"host file .\/prometheus\/prometheus.yml at \/etc\/prometheus\/prometheus.yml, read-only".*"volume prometheus-data at \/prometheus"\]$/,
      ),
    ]);
  });

  it("in the operator overlay's Alertmanager, and in what the overlay adds to Prometheus", () => {
    expect(
      drift((c, s) => {
        at(c, 'services', 'alertmanager').mem_limit = '256m';
        at(s, 'services', 'alertmanager').networks = ['alerting'];
        at(s, 'services', 'prometheus').networks = ['metrics', 'api-metrics'];
      }),
    ).toEqual([
      'service alertmanager, limits.memory: docker-compose.prod.yml has "256 MiB", docker-stack.yml has "128 MiB"',
      'service alertmanager, networks: docker-compose.prod.yml has ["alert-egress","alerting"], docker-stack.yml has ["alerting"]',
      'service prometheus, networks: docker-compose.prod.yml has ["alerting","api-metrics","metrics"], docker-stack.yml has ["api-metrics","metrics"]',
    ]);
  });

  it('when a service, a network, a volume or a secret is in one file only', () => {
    expect(
      drift((c, s) => {
        at(s, 'services').debug = { image: 'busybox' };
        at(c, 'networks').spare = { internal: true };
        at(s, 'volumes')['spare-data'] = null;
      }),
    ).toEqual([
      'network spare, defined: docker-compose.prod.yml has true, docker-stack.yml has false',
      'service debug, defined: docker-compose.prod.yml has false, docker-stack.yml has true',
      'volume spare-data, defined: docker-compose.prod.yml has false, docker-stack.yml has true',
    ]);
    // An exception that no longer covers anything is reported too: here the stack gains ca_bundle.
    const sameSecret = { file: './scripts/docker/no-extra-ca.crt' };
    expect(compare((_c, s) => (at(s, 'secrets').ca_bundle = sameSecret)).unused).toEqual([
      'secret ca_bundle, defined (a build secret: the stack builds nothing, it runs the images Compose built)',
    ]);
  });

  it('on a key it was never taught to read, rather than skip it', () => {
    expect(() => compare((_c, s) => (at(s, 'services', 'gateway').privileged = true))).toThrow(
      'service gateway: unknown key "privileged"',
    );
    expect(() => compare((c) => (at(c, 'services', 'api', 'deploy').labels = {}))).toThrow(
      'service api deploy: unknown key "labels"',
    );
  });
});

describe('docker-compose.prod.yml + docker-compose.prod.postgres.yml and docker-stack.postgres.yml', () => {
  it('differ only where a listed exception says why', () => {
    const { unexplained } = compare(undefined, POSTGRES);
    expect(unexplained, `\n${unexplained.join('\n')}\n`).toEqual([]);
  });

  it('list no exception that no longer differs', () => {
    const { unused } = compare(undefined, POSTGRES);
    expect(unused, `\n${unused.join('\n')}\n`).toEqual([]);
  });

  it('pin only what keeps data to the data node: PostgreSQL and Prometheus; the API replicas run anywhere, spread', () => {
    const stack = readStackFile(POSTGRES_STACK);
    const deploy = (service: string) => at(stack, 'services', service, 'deploy');
    const pinned = Object.keys(at(stack, 'services')).filter((name) =>
      JSON.stringify(deploy(name).placement ?? {}).includes('node.labels.stagecraft.data == true'),
    );
    expect(pinned.sort()).toEqual(['postgres', 'prometheus']);
    expect(deploy('api').placement).toEqual({ preferences: [{ spread: 'node.id' }] });
    // Two servers must never share one data folder: the old task stops before the new one starts.
    expect(at(deploy('postgres'), 'update_config').order).toBe('stop-first');
    expect(at(deploy('postgres'), 'rollback_config').order).toBe('stop-first');
    expect(JSON.stringify(at(stack, 'services', 'api').volumes)).not.toContain('api-data');
    expect(Object.keys(at(stack, 'volumes'))).not.toContain('api-data');
  });
});

describe('the PostgreSQL comparison fails on drift', () => {
  it("in PostgreSQL's limits, health check and environment", () => {
    expect(
      drift((c, s) => {
        at(s, 'services', 'postgres', 'deploy', 'resources', 'limits').memory = '1G';
        at(s, 'services', 'postgres', 'healthcheck').retries = 5;
        at(c, 'services', 'postgres', 'environment').POSTGRES_DB = 'reports';
      }, POSTGRES),
    ).toEqual([
      'service postgres, environment.POSTGRES_DB: docker-compose.prod.yml + docker-compose.prod.postgres.yml has "reports", docker-stack.postgres.yml has "stagecraft"',
      expect.stringMatching(/^service postgres, healthcheck: .*"retries":3.*"retries":5/),
      'service postgres, limits.memory: docker-compose.prod.yml + docker-compose.prod.postgres.yml has "512 MiB", docker-stack.postgres.yml has "1 GiB"',
    ]);
  });

  it("in the API's database network, its URL's secret, and a data volume mounted again", () => {
    expect(
      drift((c, s) => {
        at(s, 'services', 'api').networks = ['app', 'api-metrics', 'egress'];
        at(c, 'services', 'api', 'environment').DATABASE_URL_FILE = '/run/secrets/db';
        (at(s, 'services', 'api').volumes as unknown[]).push('api-data:/data');
      }, POSTGRES),
    ).toEqual([
      'service api, environment.DATABASE_URL_FILE: docker-compose.prod.yml + docker-compose.prod.postgres.yml has "/run/secrets/db", docker-stack.postgres.yml has "/run/secrets/database_url"',
      'service api, mounts: docker-compose.prod.yml + docker-compose.prod.postgres.yml has [], docker-stack.postgres.yml has ["volume api-data at /data"]',
      'service api, networks: docker-compose.prod.yml + docker-compose.prod.postgres.yml has ["api-metrics","app","database","egress"], docker-stack.postgres.yml has ["api-metrics","app","egress"]',
    ]);
  });

  it("in PostgreSQL's socket folder, its /dev/shm, and its user", () => {
    expect(
      drift((c, s) => {
        at(s, 'volumes', 'postgres-run', 'driver_opts').o =
          'size=1m,uid=0,gid=0,mode=0755,noexec,nosuid,nodev';
        at(c, 'services', 'postgres').shm_size = '64m';
        at(s, 'services', 'postgres').user = '0:0';
      }, POSTGRES),
    ).toEqual([
      'service postgres, tmpfs /dev/shm: docker-compose.prod.yml + docker-compose.prod.postgres.yml has "size=64 MiB,mode=1777,nodev,noexec,nosuid", docker-stack.postgres.yml has "size=128 MiB,mode=1777,nodev,noexec,nosuid"',
      'service postgres, tmpfs /var/run/postgresql: docker-compose.prod.yml + docker-compose.prod.postgres.yml has "size=1 MiB,mode=0755,uid=999,gid=999,nodev,noexec,nosuid", docker-stack.postgres.yml has "size=1 MiB,mode=0755,uid=0,gid=0,nodev,noexec,nosuid"',
      'service postgres, user: docker-compose.prod.yml + docker-compose.prod.postgres.yml has "999:999", docker-stack.postgres.yml has "0:0"',
    ]);
  });

  it('in a change to the production pair that the PostgreSQL stack did not follow', () => {
    expect(drift((c) => (at(c, 'services', 'sidecar').pids_limit = 256), POSTGRES)).toEqual([
      'service sidecar, limits.pids: docker-compose.prod.yml + docker-compose.prod.postgres.yml has 256, docker-stack.postgres.yml has 128',
    ]);
  });
});

describe("Compose's merge of an overlay (compose-overlay.ts)", () => {
  const base = parseCompose(`services:
  api:
    environment: { A: '1', B: '2' }
    networks: [app]
    volumes: ['data:/data', 'logs:/logs']
    secrets: [token]
    command: [serve, --fast]
    healthcheck: { test: [CMD, a], interval: 10s }
volumes:
  data:
`);

  it('merges mappings, appends lists, replaces commands, merges mounts by where they are mounted', () => {
    const overlay = parseCompose(`services:
  api:
    environment: { B: '3', C: '4' }
    networks: [database]
    volumes: ['other:/data']
    secrets: [token, url]
    command: [serve]
    healthcheck: { test: [CMD, b] }
`);
    expect(mergeCompose(base, overlay)).toEqual({
      services: {
        api: {
          environment: { A: '1', B: '3', C: '4' },
          networks: ['app', 'database'],
          volumes: ['other:/data', 'logs:/logs'],
          secrets: ['token', 'url'],
          command: ['serve'],
          healthcheck: { test: ['CMD', 'b'], interval: '10s' },
        },
      },
      volumes: { data: null },
    });
  });

  it('removes what !reset names and replaces what !override names', () => {
    const overlay = parseCompose(`services:
  api:
    volumes: !reset []
    networks: !override [database]
    healthcheck: !reset
`);
    expect(at(mergeCompose(base, overlay), 'services', 'api')).toEqual({
      environment: { A: '1', B: '2' },
      networks: ['database'],
      secrets: ['token'],
      command: ['serve', '--fast'],
    });
  });

  it('refuses what it does not know how to merge, rather than guess', () => {
    const list = parseCompose(`services:\n  api:\n    environment: ['B=3']\n`);
    expect(() => mergeCompose(parseCompose(`services:\n  api:\n    environment: ['A=1']\n`), list)).toThrow(
      'services.api.environment: a KEY=value list',
    );
  });
});

describe('the reading of both files', () => {
  it('resolves variables to their defaults and remembers which ones can change a value', () => {
    expect(interpolate('${STAGECRAFT_REGISTRY:-}stagecraft-api:${API_TAG:-latest}')).toEqual({
      value: 'stagecraft-api:latest',
      variables: ['STAGECRAFT_REGISTRY', 'API_TAG'],
    });
    expect(interpolate('$$HOME ${A-x} $B ${C}')).toEqual({ value: '$HOME x  ', variables: ['A', 'B', 'C'] });
    expect(() => interpolate('${TOKEN:?set it}')).toThrow('requires TOKEN');
  });

  it('reads sizes as Docker does (binary units) and durations as Go does', () => {
    expect(new Set([bytes('256m'), bytes('256M'), bytes('256MiB'), bytes(268435456)])).toEqual(
      new Set([268435456]),
    );
    expect(bytes('64k')).toBe(65536);
    expect(() => bytes('lots')).toThrow('not a size');
    expect([duration('1m30s'), duration('500ms'), duration('15s')]).toEqual(['90s', '500ms', '15s']);
  });

  it('reads published ports in either syntax, the host address apart', () => {
    const record = stackRecord(
      parseYaml(`services:
  web:
    ports: ['[::1]:8080:80', '127.0.0.1:9000:90/udp', '7000:70', '60']
  swarm:
    ports: [{ target: 80, published: 8080, mode: host }]
`),
      'compose',
    );
    expect(record['service web']!.ports).toEqual([
      '8080->80/tcp, host mode',
      '9000->90/udp, host mode',
      '7000->70/tcp, host mode',
      '(any)->60/tcp, host mode',
    ]);
    expect(record['service web']!['ports.host_ip']).toEqual([
      '8080: ::1',
      '9000: 127.0.0.1',
      '7000: (every address)',
      '(any): (every address)',
    ]);
    expect(record['service swarm']!.ports).toEqual(['8080->80/tcp, host mode']);
  });

  it("gives a container tmpfs Docker's noexec, nosuid, nodev unless undone; a tmpfs volume only what it names", () => {
    const docker = ['noexec', 'nosuid', 'nodev'];
    expect(tmpfsOptions(['size=16m'], docker)).toBe('size=16 MiB,mode=1777,nodev,noexec,nosuid');
    expect(tmpfsOptions(['size=16m', 'exec'], docker)).toBe('size=16 MiB,mode=1777,nodev,nosuid');
    expect(tmpfsOptions(['uid=101', 'mode=0755', 'size=1m'], [])).toBe('size=1 MiB,mode=0755,uid=101');
  });
});
