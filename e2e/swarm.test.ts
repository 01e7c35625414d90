/**
 * The production stack on a single-node Docker Swarm (docker-stack.yml), for real:
 * deploy, every service converges to its replica count, requests flow through the
 * gateway (host-mode port 18084, reached on 127.0.0.1), each service reaches only
 * what it needs, Prometheus scrapes every task, the gateway's tmpfs volumes are
 * mounted noexec, nosuid, nodev; a rolling update of the
 * API image under bounded steady load loses no request, a rollback likewise, then
 * the stack is removed and, if this test created the swarm, the swarm is left.
 * A machine that is already a swarm manager is used as it is and left in it.
 * Then the PostgreSQL variant (docker-stack.postgres.yml) on the same swarm:
 * it converges, the API replicas serve from the database, and only the data
 * (PostgreSQL, and Prometheus's node-local TSDB) is pinned to the data node.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, run, runAsync } from '@stagecraft/testkit/command';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { percentile } from '@stagecraft/testkit/stats';
import { poll } from '@stagecraft/testkit/wait';
import { NOWHERE_WEBHOOK_URL_FILE } from './helpers/alert-webhook.js';
import { API_TOKEN_FILE } from './helpers/api-token.js';
import { nodeInContainer, requireDocker } from './helpers/docker.js';
import { call, steadyLoad } from './helpers/load.js';
import { containerAddresses, reachFrom, sharedAddresses, sharedNetworks } from './helpers/network.js';

const STACK = 'stagecraft-e2e-swarm';
const PORT = 18084;
const gateway = `http://127.0.0.1:${PORT}`;
const NEXT_TAG = 'e2e-next';
const env = {
  GATEWAY_PORT: String(PORT),
  API_REPLICAS: '3',
  STAGECRAFT_API_TOKEN_FILE: API_TOKEN_FILE,
  STAGECRAFT_ALERT_WEBHOOK_URL_FILE: NOWHERE_WEBHOOK_URL_FILE,
};
const expectedReplicas: Record<string, number> = {
  api: 3,
  sidecar: 2,
  gateway: 1,
  prometheus: 1,
  alertmanager: 1,
};

let createdSwarm = false;

/** The running containers of a service's tasks (one node: all of them are here). */
function taskContainers(service: string): string[] {
  return docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${STACK}_${service}`)
    .split('\n')
    .filter(Boolean);
}

function serviceImage(service: string): string {
  return docker(
    'service',
    'inspect',
    `${STACK}_${service}`,
    '--format',
    '{{.Spec.TaskTemplate.ContainerSpec.Image}}',
  );
}

/** Running tasks of a service, by the image they run. */
function runningTasks(service: string): string[] {
  return docker(
    'service',
    'ps',
    `${STACK}_${service}`,
    '--filter',
    'desired-state=running',
    '--format',
    '{{.CurrentState}}|{{.Image}}',
  )
    .split('\n')
    .filter((line) => line.startsWith('Running'))
    .map((line) => line.split('|')[1]!);
}

async function converged(): Promise<true | undefined> {
  for (const [service, replicas] of Object.entries(expectedReplicas)) {
    const tasks = runningTasks(service);
    if (tasks.length !== replicas) return undefined;
  }
  const health = await call(`${gateway}/readyz`, { timeoutMs: 2_000 });
  return health.status === 200 ? true : undefined;
}

/** Runs `docker service <args>` (waiting for it to finish) while steady load goes through the gateway. */
async function underLoad(what: string, ...args: string[]) {
  const load = steadyLoad({
    url: `${gateway}/api/v1/reports?limit=1`,
    ratePerSecond: 100,
    seconds: 45,
    maxInFlight: 256,
  });
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const result = await runAsync('docker', ['service', ...args]);
  const took = (Date.now() - started - 2_000) / 1000;
  const { outcomes, shed } = await load;
  const ms = outcomes.map((o) => o.ms);
  const failed = outcomes.filter((o) => o.status !== 200);
  console.log(
    `${what}: done in ${took.toFixed(1)} s under load; ${outcomes.length} requests, ${failed.length} failed, shed ${shed}, p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms`,
  );
  expect(result.status, result.stderr).toBe(0);
  expect(took).toBeLessThan(40); // the load outlasted the update
  expect(shed).toBe(0);
  expect(
    failed.slice(0, 5).map((o) => o.status ?? o.error),
    `${failed.length} failed requests`,
  ).toEqual([]);
  expect(outcomes).toHaveLength(4_500);
}

beforeAll(async () => {
  requireDocker();
  const state = docker('info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}');
  if (state.startsWith('inactive')) {
    docker('swarm', 'init', '--advertise-addr', '127.0.0.1');
    createdSwarm = true;
  } else if (state !== 'active true') {
    throw new Error(
      `this machine is in a swarm but not a manager (${state}); the Swarm test needs a manager`,
    );
  }
  const node = docker('info', '--format', '{{.Swarm.NodeID}}');
  docker('node', 'update', '--label-add', 'stagecraft.data=true', node);
  // The images the stack runs, from the production Compose file (cached after the other tests).
  const built = run(
    'docker',
    ['compose', '-f', 'docker-compose.prod.yml', 'build', 'api', 'sidecar', 'gateway'],
    {
      env: {
        STAGECRAFT_CA_BUNDLE: process.env.STAGECRAFT_CA_BUNDLE ?? '/etc/ssl/certs/ca-certificates.crt',
      },
    },
  );
  expect(built.status, built.stderr.slice(-3000)).toBe(0);
  run('docker', ['stack', 'rm', STACK]);
  await poll('an earlier stack to be gone', async () =>
    docker('network', 'ls', '--filter', `label=com.docker.stack.namespace=${STACK}`, '-q') === ''
      ? true
      : undefined,
  );
  const deployed = run(
    'docker',
    ['stack', 'deploy', '--detach=true', '--resolve-image', 'never', '-c', 'docker-stack.yml', STACK],
    {
      cwd: REPO_ROOT,
      env,
    },
  );
  expect(deployed.status, deployed.stderr).toBe(0);
});

afterAll(async () => {
  run('docker', ['stack', 'rm', STACK]);
  await poll(
    'the stack to be removed',
    async () =>
      docker('ps', '-a', '--filter', `label=com.docker.stack.namespace=${STACK}`, '-q') === '' &&
      docker('network', 'ls', '--filter', `label=com.docker.stack.namespace=${STACK}`, '-q') === ''
        ? true
        : undefined,
    60_000,
    500,
  ).catch(() => undefined);
  run('docker', ['image', 'rm', `stagecraft-api:${NEXT_TAG}`]);
  const volumes = run('docker', [
    'volume',
    'ls',
    '-q',
    '--filter',
    `label=com.docker.stack.namespace=${STACK}`,
  ]);
  for (const volume of volumes.stdout.split('\n').filter(Boolean)) run('docker', ['volume', 'rm', volume]);
  if (createdSwarm) run('docker', ['swarm', 'leave', '--force']);
});

describe('the production stack on Docker Swarm', () => {
  it('converges: every service at its replica count, healthy, serving through the gateway', async () => {
    const started = Date.now();
    await poll('every service at its replica count and the API ready', converged, 180_000, 1_000);
    console.log(`swarm stack converged in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const counted = await call(
      `${gateway}/api/v1/count?base=${encodeURIComponent('http://swarm.invalid/')}`,
      {
        method: 'POST',
        headers: { 'content-type': 'text/html' },
        body: '<a href="/in">x</a><a href="http://elsewhere.invalid/">y</a>',
      },
    );
    expect(counted.status).toBe(200);
    expect(JSON.parse(counted.body!)).toMatchObject({ internal: 1, external: 1 });
    expect((await call(`${gateway}/api/v1/reports?limit=1`, {})).status).toBe(200);
    expect((await call(`${gateway}/metrics`, {})).status).toBe(404);
  });

  it('separates the networks as Compose does: the API reaches neither Prometheus nor the gateway, the gateway not the API', () => {
    const [api] = taskContainers('api');
    const [gatewayTask] = taskContainers('gateway');
    const [prometheus] = taskContainers('prometheus');
    const [sidecar] = taskContainers('sidecar');
    const networks = (container: string) =>
      Object.keys(containerAddresses(container))
        .map((n) => n.replace(`${STACK}_`, ''))
        .sort();
    expect({
      api: networks(api!),
      sidecar: networks(sidecar!),
      gateway: networks(gatewayTask!),
      prometheus: networks(prometheus!),
    }).toEqual({
      api: ['api-metrics', 'app', 'egress'],
      sidecar: ['app', 'edge', 'metrics'],
      gateway: ['edge', 'public'],
      prometheus: ['alerting', 'api-metrics', 'metrics'],
    });
    // No network in common: no path (an overlay address of another network is not
    // even tried: the packet would leave this machine by the default route).
    expect(sharedNetworks(api!, gatewayTask!)).toEqual([]);
    const connected = (outcomes: Record<string, string>) =>
      Object.entries(outcomes).filter(([, outcome]) => outcome === 'connected');
    // Where they share one: the probe connects where something listens for them...
    expect(connected(reachFrom(gatewayTask!, sharedAddresses(gatewayTask!, sidecar!, 8080)))).not.toEqual([]);
    expect(connected(reachFrom(sidecar!, sharedAddresses(sidecar!, api!, 3000)))).not.toEqual([]);
    expect(connected(reachFrom(prometheus!, sharedAddresses(prometheus!, api!, 9464)))).not.toEqual([]);
    // ...and the API finds nothing of Prometheus on api-metrics: it listens on its own loopback.
    expect(reachFrom(api!, sharedAddresses(api!, prometheus!, 9090))).toEqual({
      [`${sharedAddresses(api!, prometheus!, 9090)[0]!.address}:9090`]: 'ECONNREFUSED',
    });
    // ...nor either of the sidecar's ports, though the two share app: the sidecar
    // listens on its edge and metrics addresses only (HOST/METRICS_HOST subnets).
    for (const port of [8080, 9464])
      expect(
        connected(reachFrom(api!, sharedAddresses(api!, sidecar!, port))),
        `api -> sidecar:${port}`,
      ).toEqual([]);
  });

  it('has Prometheus scrape every API and sidecar task on its metrics port', async () => {
    const [prometheus] = taskContainers('prometheus');
    // Prometheus listens on its own loopback only: ask from inside its network namespace.
    const targets = await poll(
      'every target up',
      async () => {
        const out = docker(
          'run',
          '--rm',
          '--network',
          `container:${prometheus}`,
          'node:24-trixie-slim',
          'node',
          '-e',
          "fetch('http://127.0.0.1:9090/api/v1/targets').then((r) => r.text()).then((t) => process.stdout.write(t))",
        );
        const active = (
          JSON.parse(out) as {
            data: { activeTargets: { labels: { job: string }; scrapeUrl: string; health: string }[] };
          }
        ).data.activeTargets;
        return active.length === 6 && active.every((t) => t.health === 'up') ? active : undefined;
      },
      60_000,
      1_000,
    );
    expect(targets.map((t) => `${t.labels.job} ${new URL(t.scrapeUrl).port}`).sort()).toEqual([
      'api 9464',
      'api 9464',
      'api 9464',
      'prometheus 9090',
      'sidecar 9464',
      'sidecar 9464',
    ]);
  });

  it("mounts the gateway's tmpfs volumes and the API's /tmp noexec, nosuid, nodev", () => {
    const [gatewayTask] = taskContainers('gateway');
    const [api] = taskContainers('api');
    // Each container's own view of its mounts (the gateway has cat; the API, node only).
    const gatewayMounts = docker('exec', gatewayTask!, 'cat', '/proc/self/mounts');
    const apiMounts = nodeInContainer(
      api!,
      "process.stdout.write(require('fs').readFileSync('/proc/self/mounts', 'utf8'))",
    );
    for (const [table, path] of [
      [gatewayMounts, '/var/cache/nginx'],
      [gatewayMounts, '/run'],
      [apiMounts, '/tmp'],
    ] as const) {
      const line = table.split('\n').find((l) => l.split(' ')[1] === path) ?? '';
      expect(line.split(' ')[3]?.split(',') ?? [], path).toEqual(
        expect.arrayContaining(['noexec', 'nosuid', 'nodev']),
      );
    }
  });

  it('rolls the API to a new image under steady load without a failed request', async () => {
    const before = serviceImage('api');
    // A new image: same code, new version label (a real new image id).
    docker(
      'build',
      '-q',
      '-f',
      'services/api/Dockerfile',
      '--build-arg',
      `VERSION=${NEXT_TAG}`,
      '-t',
      `stagecraft-api:${NEXT_TAG}`,
      '--secret',
      `id=ca_bundle,src=${process.env.STAGECRAFT_CA_BUNDLE ?? '/etc/ssl/certs/ca-certificates.crt'}`,
      REPO_ROOT,
    );
    await underLoad(
      'rolling update',
      'update',
      '--detach=false',
      '--quiet',
      '--image',
      `stagecraft-api:${NEXT_TAG}`,
      `${STACK}_api`,
    );
    expect(serviceImage('api')).toBe(`stagecraft-api:${NEXT_TAG}`);
    expect(runningTasks('api')).toEqual(Array(3).fill(`stagecraft-api:${NEXT_TAG}`));
    expect(before).not.toBe(serviceImage('api'));
  });

  it('rolls back to the previous image under steady load without a failed request', async () => {
    await underLoad('rollback', 'rollback', '--detach=false', '--quiet', `${STACK}_api`);
    expect(serviceImage('api')).toBe('stagecraft-api:latest');
    expect(runningTasks('api')).toEqual(Array(3).fill('stagecraft-api:latest'));
  });
});

describe('the PostgreSQL variant on the same swarm (docker-stack.postgres.yml)', () => {
  const PG_STACK = 'stagecraft-e2e-swarm-pg';
  const pgGateway = 'http://127.0.0.1:18086';
  const secrets = join(REPO_ROOT, 'test-results', `e2e-swarm-pg-secrets-${process.pid}`);
  const pgEnv = {
    ...env,
    GATEWAY_PORT: '18086',
    API_REPLICAS: '2',
    STAGECRAFT_POSTGRES_PASSWORD_FILE: join(secrets, 'postgres-password'),
    STAGECRAFT_DATABASE_URL_FILE: join(secrets, 'database-url'),
  };
  const pgReplicas: Record<string, number> = { ...expectedReplicas, api: 2, postgres: 1 };
  const service = (name: string) => `${PG_STACK}_${name}`;
  const placement = (name: string) =>
    JSON.parse(
      docker('service', 'inspect', service(name), '--format', '{{json .Spec.TaskTemplate.Placement}}'),
    ) as { Constraints?: string[] };
  const gone = async (stack: string) =>
    poll(
      `the stack ${stack} to be removed`,
      async () =>
        docker('ps', '-a', '--filter', `label=com.docker.stack.namespace=${stack}`, '-q') === '' &&
        docker('network', 'ls', '--filter', `label=com.docker.stack.namespace=${stack}`, '-q') === ''
          ? true
          : undefined,
      90_000,
      500,
    );

  beforeAll(async () => {
    // One stack at a time on this one node: the SQLite stack has had its turn.
    run('docker', ['stack', 'rm', STACK]);
    await gone(STACK);
    mkdirSync(secrets, { recursive: true });
    const made = run('sh', [join(REPO_ROOT, 'scripts/postgres-secrets.sh')], { env: pgEnv });
    expect(made.status, made.stderr).toBe(0);
    const deployed = run(
      'docker',
      [
        'stack',
        'deploy',
        '--detach=true',
        '--resolve-image',
        'never',
        '-c',
        'docker-stack.postgres.yml',
        PG_STACK,
      ],
      { cwd: REPO_ROOT, env: pgEnv },
    );
    expect(deployed.status, deployed.stderr).toBe(0);
  });

  afterAll(async () => {
    run('docker', ['stack', 'rm', PG_STACK]);
    await gone(PG_STACK).catch(() => undefined);
    const volumes = run('docker', [
      'volume',
      'ls',
      '-q',
      '--filter',
      `label=com.docker.stack.namespace=${PG_STACK}`,
    ]);
    for (const volume of volumes.stdout.split('\n').filter(Boolean)) run('docker', ['volume', 'rm', volume]);
    rmSync(secrets, { recursive: true, force: true });
  });

  it('converges, and the API replicas serve from PostgreSQL through the gateway', async () => {
    const started = Date.now();
    await poll(
      'every service at its replica count and the API ready (its readiness includes the database)',
      async () => {
        for (const [name, replicas] of Object.entries(pgReplicas)) {
          const running = docker(
            'service',
            'ps',
            service(name),
            '--filter',
            'desired-state=running',
            '--format',
            '{{.CurrentState}}',
          )
            .split('\n')
            .filter((line) => line.startsWith('Running'));
          if (running.length !== replicas) return undefined;
        }
        return (await call(`${pgGateway}/readyz`, { timeoutMs: 2_000 })).status === 200 ? true : undefined;
      },
      180_000,
      1_000,
    );
    console.log(`PostgreSQL swarm stack converged in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // Reads that reach the database: a page of reports, and an id it does not hold.
    expect((await call(`${pgGateway}/api/v1/reports?limit=1`, {})).status).toBe(200);
    expect((await call(`${pgGateway}/api/v1/reports/999999`, {})).status).toBe(404);
    // The API's credential is the database_url secret, read from a file; it keeps no volume.
    const spec = JSON.parse(
      docker('service', 'inspect', service('api'), '--format', '{{json .Spec.TaskTemplate.ContainerSpec}}'),
    ) as { Env?: string[]; Mounts?: { Type: string }[]; Secrets?: { SecretName: string }[] };
    expect(spec.Env).toContain('DATABASE_URL_FILE=/run/secrets/database_url');
    expect((spec.Env ?? []).some((e) => e.startsWith('DATABASE_URL='))).toBe(false);
    expect((spec.Mounts ?? []).filter((m) => m.Type === 'volume')).toEqual([]);
    expect(spec.Secrets?.map((secret) => secret.SecretName)).toContain(`${PG_STACK}_database_url`);
  });

  it('pins only the data to the data node: the API replicas may run on any node', () => {
    const DATA_NODE = 'node.labels.stagecraft.data == true';
    expect(placement('api').Constraints ?? []).toEqual([]);
    expect(placement('sidecar').Constraints ?? []).toEqual([]);
    expect(placement('postgres').Constraints).toEqual([DATA_NODE]);
    expect(placement('prometheus').Constraints).toEqual([DATA_NODE]);
  });
});
