/**
 * Faults, for real, on the production stack with PostgreSQL
 * (docker-compose.prod.yml + docker-compose.prod.postgres.yml; its own project,
 * gateway on 127.0.0.1:18088): a rolling restart of the two API replicas under
 * steady load loses no request; SIGKILL of both replicas mid-write loses no report
 * whose 201 reached the client; PostgreSQL stopped and started again under load
 * gives only 503 problem documents (and a failing /readyz) while it is gone, loses
 * nothing acknowledged, and the same API processes serve again without a restart.
 * The scenarios shared with the SQLite suite (reliability.test.ts) are in
 * helpers/faults.ts; what is checked in the database is read with psql inside the
 * postgres container.
 *
 * Load is bounded in rate, count and time, and only ever sent to 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerAsync, run } from '@stagecraft/testkit/command';
import { compose, mustCompose, type ComposeProject } from '@stagecraft/testkit/compose';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { poll } from '@stagecraft/testkit/wait';
import { composeEnv } from './helpers/compose.js';
import { requireDocker, waitHealthy } from './helpers/docker.js';
import {
  FIXTURE_PAGE,
  killReplicasMidBurst,
  rollingRestart,
  serviceContainers,
  summary,
} from './helpers/faults.js';
import { call, steadyLoad } from './helpers/load.js';

/** This run's two database secrets, made by the script the README names, in git-ignored test-results/. */
const SECRETS = join(REPO_ROOT, 'test-results', `e2e-postgres-secrets-${process.pid}`);
const secretFiles = {
  STAGECRAFT_POSTGRES_PASSWORD_FILE: join(SECRETS, 'postgres-password'),
  STAGECRAFT_DATABASE_URL_FILE: join(SECRETS, 'database-url'),
};

const PORT = 18088;
const stack: ComposeProject = {
  project: 'stagecraft-e2e-rel-pg',
  files: ['docker-compose.prod.yml', 'docker-compose.prod.postgres.yml', 'e2e/compose.fixtures.yml'],
  cwd: REPO_ROOT,
  env: { ...composeEnv({ gateway: PORT, prometheus: 19098 }), ...secretFiles },
};
const gateway = `http://127.0.0.1:${PORT}`;

/** SQL through psql on the server's own socket, as the stack's database user. */
function psql(sql: string): string {
  const [postgres] = serviceContainers(stack, 'postgres');
  return docker('exec', postgres!, 'psql', '-U', 'stagecraft', '-d', 'stagecraft', '-At', '-c', sql);
}

/** Which of these report ids the database does not hold. */
function missingFromDatabase(ids: number[]): number[] {
  const stored = new Set(psql('SELECT id FROM reports').split('\n').filter(Boolean).map(Number));
  return ids.filter((id) => !stored.has(id));
}

/** Each API container's start time and restart count: unchanged means the process was never restarted. */
function apiStarts(): string[] {
  return serviceContainers(stack, 'api').map((id) =>
    docker('inspect', id, '--format', '{{.Id}} {{.State.StartedAt}} {{.RestartCount}}'),
  );
}

describe('the production stack on PostgreSQL under faults', () => {
  beforeAll(() => {
    requireDocker();
    const made = run('sh', [join(REPO_ROOT, 'scripts/postgres-secrets.sh')], {
      env: secretFiles,
    });
    if (made.status !== 0) throw new Error(`scripts/postgres-secrets.sh failed: ${made.stderr}`);
    compose(stack, 'down', '-v', '--remove-orphans');
    mustCompose(stack, 'up', '-d', '--build', '--wait', '--wait-timeout', '180');
  });

  afterAll(() => {
    compose(stack, 'down', '-v', '--remove-orphans');
    run('rm', ['-rf', SECRETS]);
  });

  it('runs the API on the database alone: no data volume, its URL from a secret file, PostgreSQL non-root', () => {
    const [api] = serviceContainers(stack, 'api');
    const mounts = JSON.parse(docker('inspect', api!, '--format', '{{json .Mounts}}')) as {
      Type: string;
      Destination: string;
    }[];
    // Only the secrets are bind-mounted files; no volume at all (tmpfs is not a mount here).
    expect(mounts.filter((m) => m.Type !== 'bind')).toEqual([]);
    expect(mounts.map((m) => m.Destination).sort()).toEqual([
      '/run/secrets/api_token',
      '/run/secrets/database_url',
    ]);
    const env = JSON.parse(docker('inspect', api!, '--format', '{{json .Config.Env}}')) as string[];
    expect(env).toContain('DATABASE_URL_FILE=/run/secrets/database_url');
    expect(env.filter((e) => e.startsWith('DATABASE_URL='))).toEqual([]);
    // The password is in no variable of either container.
    const password = readFileSync(secretFiles.STAGECRAFT_POSTGRES_PASSWORD_FILE, 'utf8').trim();
    const [postgres] = serviceContainers(stack, 'postgres');
    for (const id of [api!, postgres!])
      expect(docker('inspect', id, '--format', '{{json .Config.Env}}')).not.toContain(password);
    expect(docker('exec', postgres!, 'id', '-u')).toBe('999');
    expect(docker('inspect', postgres!, '--format', '{{.HostConfig.ReadonlyRootfs}}')).toBe('true');
    expect(
      docker(
        'inspect',
        postgres!,
        '--format',
        '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}};{{end}}',
      ),
    ).toContain('volume stagecraft-e2e-rel-pg_postgres-data /var/lib/postgresql/data;');
    expect(docker('inspect', postgres!, '--format', '{{.State.Health.Status}}')).toBe('healthy');
  });

  it('restarts both API replicas one by one under 200 requests/s for 24 s without a failed request', async () => {
    expect(serviceContainers(stack, 'api')).toHaveLength(2);
    const r = await rollingRestart(stack, gateway, { ratePerSecond: 200, seconds: 24 });
    console.log(
      `rolling restart on PostgreSQL: ${summary(r.outcomes)}, shed ${r.shed}, sidecar retries ${r.retries}, at most ${r.peakInProgress} in progress\n  ${r.log.join('\n  ')}`,
    );
    expect(r.shed).toBe(0);
    expect(r.outcomes).toHaveLength(4_800);
    const failed = r.outcomes.filter((o) => o.status !== 200);
    expect(failed.slice(0, 5), `${failed.length} failed requests`).toEqual([]);
  });

  it('keeps every report whose 201 reached the client through SIGKILL of both replicas mid-burst', async () => {
    const { confirmed } = await killReplicasMidBurst(stack, gateway, 'kill -9 mid-burst on PostgreSQL');

    const lost = missingFromDatabase(confirmed);
    expect(lost, `${lost.length} of ${confirmed.length} confirmed reports missing`).toEqual([]);
    for (const id of confirmed.slice(-5))
      expect((await call(`${gateway}/api/v1/reports/${id}`, {})).status).toBe(200);
  });

  it('answers only 503 problem documents while PostgreSQL restarts under load, loses nothing acknowledged, and recovers without restarting the API', async () => {
    const [postgres] = serviceContainers(stack, 'postgres');
    const startsBefore = apiStarts();
    const seconds = 20;
    // Reads at 40/s and writes at 5/s: under the gateway's 10/s for requests that
    // fetch a page, so every answer but a 2xx is the database's doing.
    const reads = steadyLoad({ url: `${gateway}/api/v1/reports?limit=5`, ratePerSecond: 40, seconds });
    const writes = steadyLoad({
      url: `${gateway}/api/v1/reports`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: FIXTURE_PAGE }),
      ratePerSecond: 5,
      seconds,
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // SIGINT, the image's stop signal: PostgreSQL's fast shutdown, every connection cut.
    const stoppedAt = Date.now();
    await dockerAsync('stop', '--time', '30', postgres!);
    const downReadiness = (await call(`${gateway}/readyz`, {})).body;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await dockerAsync('start', postgres!);
    await waitHealthy(postgres!, 60_000);
    const healthyAfter = Date.now() - stoppedAt;
    const ready = await poll(
      'every API replica ready again',
      async () => {
        const answers = await Promise.all([1, 2, 3, 4].map(() => call(`${gateway}/readyz`, {})));
        return answers.every((a) => a.status === 200) ? Date.now() - stoppedAt : undefined;
      },
      20_000,
      100,
    );
    const [r, w] = await Promise.all([reads, writes]);
    const all = [...r.outcomes, ...w.outcomes];
    const failures = all.filter((o) => o.status === undefined || o.status >= 300);
    const confirmed = w.outcomes
      .filter((o) => o.status === 201)
      .map((o) => (JSON.parse(o.body!) as { id: number }).id);
    console.log(
      `PostgreSQL restart: reads ${summary(r.outcomes)}; writes ${summary(w.outcomes)}; healthy again ${healthyAfter} ms after the stop, API ready ${ready} ms after it; /readyz while down: ${downReadiness}`,
    );

    expect(JSON.parse(downReadiness!)).toMatchObject({
      status: 'not-ready',
      checks: { storage: false, storageWritable: false },
    });
    expect(r.shed + w.shed).toBe(0);
    expect(failures.length, 'the restart was not seen by any request').toBeGreaterThan(0);
    for (const o of failures) {
      expect(o.status, `${o.error ?? ''}`).toBe(503);
      expect(o.contentType).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(o.body!)).toMatchObject({ type: 'urn:stagecraft:problem:storage-unavailable' });
    }
    expect(Math.max(...all.map((o) => o.ms))).toBeLessThan(5_000);
    // Recovered: the last 3 s of load all succeeded, from the same processes.
    const tail = all.filter((o) => o.at > (seconds - 3) * 1000);
    expect(tail.length).toBeGreaterThan(0);
    expect(tail.filter((o) => o.status !== 200 && o.status !== 201)).toEqual([]);
    expect(apiStarts()).toEqual(startsBefore);
    expect(confirmed.length).toBeGreaterThan(0);
    expect(missingFromDatabase(confirmed)).toEqual([]);
  });
});

describe('docker-stack.postgres.yml', () => {
  it('is a stack file Docker accepts (docker stack config: no swarm needed)', () => {
    const checked = run('docker', ['stack', 'config', '-c', 'docker-stack.postgres.yml'], {
      cwd: REPO_ROOT,
      env: stack.env,
    });
    expect(checked.stderr).toBe('');
    expect(checked.status).toBe(0);
    expect(checked.stdout).toMatch(/^ {2}postgres:$/m);
  });
});
