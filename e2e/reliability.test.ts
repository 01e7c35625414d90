/**
 * Faults, for real, on the production stack (its own project, gateway on
 * 127.0.0.1:18082): a rolling restart of the two API replicas under steady load
 * loses no request; SIGKILL during a burst of report writes loses no report
 * whose 201 reached the client and leaves a database that passes
 * integrity_check; the sidecar killed under load gives problem documents, never
 * a hang, and the path recovers; a full or read-only data volume makes the API
 * not-ready with 503 on writes while reads keep working.
 *
 * Load is bounded in rate, count and time, and only ever sent to 127.0.0.1.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerAsync, run } from '@stagecraft/testkit/command';
import { compose, mustCompose, type ComposeProject } from '@stagecraft/testkit/compose';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { poll } from '@stagecraft/testkit/wait';
import { composeEnv } from './helpers/compose.js';
import { nodeInContainer, publishedPort, requireDocker, runHardened, waitHealthy } from './helpers/docker.js';
import { killReplicasMidBurst, rollingRestart, serviceContainers, summary } from './helpers/faults.js';
import { expectGatewayProblem, expectSecurityHeadersIn, rawRequest } from './helpers/http.js';
import { call, steadyLoad } from './helpers/load.js';

const stack: ComposeProject = {
  project: 'stagecraft-e2e-rel',
  files: ['docker-compose.prod.yml', 'e2e/compose.fixtures.yml'],
  cwd: REPO_ROOT,
  env: composeEnv({ gateway: 18082, prometheus: 19092 }),
};
const PORT = 18082;
const gateway = `http://127.0.0.1:${PORT}`;

describe('the production stack under faults', () => {
  beforeAll(() => {
    requireDocker();
    compose(stack, 'down', '-v', '--remove-orphans');
    mustCompose(stack, 'up', '-d', '--build', '--wait', '--wait-timeout', '180');
  });

  afterAll(() => {
    compose(stack, 'down', '-v', '--remove-orphans');
  });

  it('restarts both API replicas one by one under 200 requests/s for 30 s without a failed request', async () => {
    expect(serviceContainers(stack, 'api')).toHaveLength(2);
    const r = await rollingRestart(stack, gateway, { ratePerSecond: 200, seconds: 30 });
    console.log(
      `rolling restart: ${summary(r.outcomes)}, shed ${r.shed}, sidecar retries ${r.retries}, at most ${r.peakInProgress} in progress\n  ${r.log.join('\n  ')}`,
    );

    expect(r.shed).toBe(0);
    expect(r.outcomes).toHaveLength(6_000);
    const failed = r.outcomes.filter((o) => o.status !== 200);
    expect(failed.slice(0, 5), `${failed.length} failed requests`).toEqual([]);
  });

  it('keeps every report whose 201 reached the client through SIGKILL of both replicas mid-burst, with an intact database', async () => {
    const { confirmed, replicas } = await killReplicasMidBurst(stack, gateway, 'kill -9 mid-burst');
    const check = nodeInContainer(
      replicas[0]!,
      `const Database = require(require.resolve('better-sqlite3', { paths: ['/app/services/api'] }));
       const db = new Database('/data/stagecraft.db');
       const ids = db.prepare('SELECT id FROM reports').pluck().all();
       process.stdout.write(JSON.stringify({ integrity: db.pragma('integrity_check', { simple: true }), ids }));`,
    );
    const { integrity, ids } = JSON.parse(check) as { integrity: string; ids: number[] };
    expect(integrity).toBe('ok');
    const stored = new Set(ids);
    const lost = confirmed.filter((id) => !stored.has(id));
    expect(lost, `${lost.length} of ${confirmed.length} confirmed reports missing`).toEqual([]);
    // And the API serves them after the restart.
    for (const id of confirmed.slice(-5))
      expect((await call(`${gateway}/api/v1/reports/${id}`, {})).status).toBe(200);
  });

  it('answers problem documents, never hangs, while the sidecar is killed, and recovers by itself', async () => {
    const [sidecar] = serviceContainers(stack, 'sidecar');
    const load = steadyLoad({
      url: `${gateway}/api/v1/reports?limit=1`,
      ratePerSecond: 50,
      seconds: 20,
      timeoutMs: 10_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await dockerAsync('kill', '--signal', 'KILL', sidecar!);
    const killedAt = Date.now();
    // Gone for four seconds, then started again; the gateway is not told anything.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    await dockerAsync('start', sidecar!);
    await waitHealthy(sidecar!, 60_000);
    const backAfter = Date.now() - killedAt;
    const { outcomes } = await load;
    const firstOkAfterBack = outcomes.find((o) => o.status === 200 && o.at > 2_000 + backAfter);
    console.log(
      `sidecar killed: ${summary(outcomes)}; healthy again ${backAfter} ms after the kill; gateway serving again ${firstOkAfterBack === undefined ? 'never' : `${Math.round(firstOkAfterBack.at - 2_000 - backAfter)} ms after that`}`,
    );

    expect(outcomes.filter((o) => o.error !== undefined)).toEqual([]);
    const failures = outcomes.filter((o) => o.status !== 200);
    expect(failures.length).toBeGreaterThan(0); // the kill was seen
    for (const o of failures) {
      expect([502, 503, 504]).toContain(o.status);
      expect(o.contentType).toMatch(/^application\/problem\+json/);
      expectSecurityHeadersIn(o.rawHeaders!, `${o.status} while the sidecar was down`);
    }
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(5_000);
    // Recovered: the last two seconds of the load all succeeded.
    const tail = outcomes.filter((o) => o.at > 18_000);
    expect(tail.length).toBeGreaterThan(0);
    expect(tail.every((o) => o.status === 200)).toBe(true);
  });

  it('answers 504 for a sidecar that takes connections but never answers, 502 for one that is gone: problem documents with every header', async () => {
    const [sidecar] = serviceContainers(stack, 'sidecar');
    const request = (path: string) =>
      rawRequest(PORT, [`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`]);
    // Frozen: its kernel still completes connections, nothing reads them; /readyz waits 5 s at the gateway.
    await dockerAsync('pause', sidecar!);
    try {
      const timedOut = await request('/readyz');
      console.log(`frozen sidecar: ${timedOut.status} after ${timedOut.elapsedMs} ms`);
      expect(expectGatewayProblem(timedOut, 504, 'frozen sidecar').type).toBe(
        'urn:stagecraft:problem:gateway-timeout',
      );
      expect(timedOut.elapsedMs).toBeLessThan(7_000);
    } finally {
      await dockerAsync('unpause', sidecar!);
    }
    // Gone: once its name no longer resolves (the gateway asks every 2 s), 502 at once.
    await dockerAsync('stop', sidecar!);
    try {
      const gone = await poll(
        'a 502 from the gateway',
        async () => {
          const answer = await request('/api/v1/reports?limit=1');
          return answer.status === 502 ? answer : undefined;
        },
        10_000,
        200,
      );
      expect(expectGatewayProblem(gone, 502, 'sidecar stopped').type).toBe(
        'urn:stagecraft:problem:bad-gateway',
      );
      expect(gone.elapsedMs).toBeLessThan(1_500);
    } finally {
      await dockerAsync('start', sidecar!);
      await waitHealthy(sidecar!, 60_000);
    }
    await poll('the gateway serving again', async () =>
      (await call(`${gateway}/api/v1/reports?limit=1`, {})).status === 200 ? true : undefined,
    );
  });
});

/**
 * The API's production image on a data volume that runs out of space (a 4 MB
 * tmpfs volume, filled from a second container) and on one mounted read-only.
 */
describe('the API on a data volume that is full or read-only', () => {
  const network = 'stagecraft-e2e-storage';
  const api = 'stagecraft-e2e-storage-api';
  const fixtures = 'stagecraft-e2e-storage-fixtures';
  const small = 'stagecraft-e2e-storage-small';
  const plain = 'stagecraft-e2e-storage-plain';
  let base = '';

  const write = async () => {
    const r = await call(`${base}/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://fixtures:8000/page.html' }),
    });
    return { ...r, id: r.status === 201 ? (JSON.parse(r.body!) as { id: number }).id : undefined };
  };
  const ready = async () => {
    const r = await call(`${base}/readyz`, {});
    return {
      status: r.status,
      checks: (JSON.parse(r.body ?? '{}') as { checks?: Record<string, boolean> }).checks,
    };
  };
  const listed = async () =>
    (
      JSON.parse((await call(`${base}/api/v1/reports?limit=100`, {})).body!) as { items: { id: number }[] }
    ).items.map((r) => r.id);
  /** Runs a shell command in a throw-away container with the volume at /data. */
  const onVolume = (volume: string, command: string) =>
    docker('run', '--rm', '-v', `${volume}:/data`, 'node:24-trixie-slim', 'sh', '-c', command);
  const startApi = async (volume: string, readOnly = false) => {
    runHardened(api, 'stagecraft-api:latest', [
      '--network',
      network,
      '--tmpfs',
      '/tmp:size=16m',
      '--mount',
      `type=volume,src=${volume},dst=/data${readOnly ? ',readonly' : ''}`,
      '-e',
      'FETCH_ALLOW_HOSTS=fixtures',
      // Storage is under test here, not the token (the stacks' tests cover it).
      '-e',
      'API_AUTH=open',
      '-p',
      '127.0.0.1::3000',
    ]);
    await waitHealthy(api, 60_000);
    base = `http://127.0.0.1:${publishedPort(api, 3000)}`;
  };
  const cleanUp = () => {
    run('docker', ['rm', '-f', api, fixtures]);
    run('docker', ['volume', 'rm', small, plain]);
    run('docker', ['network', 'rm', network]);
  };

  beforeAll(() => {
    requireDocker();
    expect(docker('image', 'inspect', 'stagecraft-api:latest', '--format', 'ok')).toBe('ok');
    cleanUp();
    docker('network', 'create', network);
    docker(
      'volume',
      'create',
      '--opt',
      'type=tmpfs',
      '--opt',
      'device=tmpfs',
      '--opt',
      'o=size=4m,uid=65532,gid=65532',
      small,
    );
    docker('volume', 'create', plain);
    docker(
      'run',
      '-d',
      '--name',
      fixtures,
      '--network',
      network,
      '--network-alias',
      'fixtures',
      '--read-only',
      '--user',
      'node',
      '-v',
      `${join(REPO_ROOT, 'e2e/fixtures')}:/site:ro`,
      'node:24-trixie-slim',
      'node',
      '/site/site.mjs',
    );
  });

  afterAll(cleanUp);

  it('turns not-ready when the disk fills, answers 503 on writes without losing a confirmed report, keeps reads, and recovers', async () => {
    await startApi(small);
    const confirmed: number[] = [];
    const first = await write();
    expect(first.status).toBe(201);
    confirmed.push(first.id!);

    onVolume(small, 'cat /dev/zero > /data/fill 2>/dev/null; df -k /data | tail -1');
    // Free space under 1 MiB: readiness fails before any write does.
    expect(await ready()).toMatchObject({ status: 503, checks: { storage: true, storageWritable: false } });

    // Writes go on until SQLite can no longer grow its files: then 503, never 500.
    let refused: Awaited<ReturnType<typeof write>> | undefined;
    for (let i = 0; i < 300 && refused === undefined; i++) {
      const r = await write();
      if (r.status === 201) confirmed.push(r.id!);
      else refused = r;
    }
    expect(refused, 'no write was refused on a full disk').toBeDefined();
    expect(refused!.status).toBe(503);
    expect(refused!.contentType).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(refused!.body!)).toMatchObject({ type: 'urn:stagecraft:problem:storage-unavailable' });
    console.log(`full disk: ${confirmed.length} writes confirmed before the first 503`);
    expect((await write()).status).toBe(503);
    expect(await ready()).toMatchObject({ status: 503 });
    for (const id of confirmed) expect((await call(`${base}/api/v1/reports/${id}`, {})).status).toBe(200);
    expect(docker('inspect', api, '--format', '{{.State.Running}} {{.RestartCount}}')).toBe('true 0');

    onVolume(small, 'rm /data/fill');
    expect((await write()).status).toBe(201);
    expect((await ready()).status).toBe(200);
    run('docker', ['rm', '-f', api]);
  });

  it.each([
    ['a clean stop', 'stop'],
    ['a crash (SIGKILL) that left a -wal file', 'kill'],
  ])(
    'starts on a read-only volume after %s: every report readable, not ready, 503 on writes',
    async (_name, how) => {
      await startApi(plain);
      const before = await listed();
      const confirmed = [(await write()).id, (await write()).id];
      expect(confirmed.every((id) => id !== undefined)).toBe(true);
      if (how === 'kill') docker('kill', '--signal', 'KILL', api);
      else docker('stop', api);

      await startApi(plain, true);
      expect(await listed()).toEqual([...confirmed.reverse(), ...before]);
      const refused = await write();
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body!)).toMatchObject({ type: 'urn:stagecraft:problem:storage-unavailable' });
      expect(await ready()).toMatchObject({ status: 503, checks: { storage: true, storageWritable: false } });
      run('docker', ['rm', '-f', api]);
    },
  );
});
