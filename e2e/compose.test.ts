/**
 * Both compose stacks, for real. Production: the gateway on 127.0.0.1 is the only
 * way in; each service reaches only the services it needs, tried from inside;
 * counting, reports, request ids across three services' logs, no public /metrics,
 * Prometheus scraping every target on its metrics port and counting exactly,
 * persistence across restart and down/up, clean stops. Development: the same
 * networks, the inspector reachable from the host's 127.0.0.1 and from no
 * container, an edit on the host shows in the next response, timed. Fixture pages
 * come from a test-only service on a network of its own with the API
 * (e2e/compose.fixtures.yml).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, run } from '@stagecraft/testkit/command';
import { compose, containerIds, mustCompose, type ComposeProject } from '@stagecraft/testkit/compose';
import { REPO_ROOT, copyRepository } from '@stagecraft/testkit/repository';
import { poll } from '@stagecraft/testkit/wait';
import { composeEnv } from './helpers/compose.js';
import { authorization } from './helpers/api-token.js';
import { requireDocker } from './helpers/docker.js';
import { containerAddresses, everyAddress, reachFrom } from './helpers/network.js';

const prod: ComposeProject = {
  project: 'stagecraft-e2e',
  // The ops overlay publishes Prometheus on 127.0.0.1 so the test can query it.
  files: ['docker-compose.prod.yml', 'docker-compose.prod.ops.yml', 'e2e/compose.fixtures.yml'],
  cwd: REPO_ROOT,
  env: composeEnv({ gateway: 18080, prometheus: 19090 }),
};
const gateway = 'http://127.0.0.1:18080';
const prometheus = 'http://127.0.0.1:19090';

async function promQuery(query: string): Promise<number | undefined> {
  const r = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await r.json()) as { data: { result: { value: [number, string] }[] } };
  const first = body.data.result[0];
  return first === undefined ? undefined : Number(first.value[1]);
}

describe('compose files', () => {
  it.each(['docker-compose.yml', 'docker-compose.prod.yml', 'docker-compose.prod.ops.yml'])(
    '%s is valid (docker compose config -q)',
    (file) => {
      requireDocker();
      const files = file.endsWith('.ops.yml') ? ['-f', 'docker-compose.prod.yml', '-f', file] : ['-f', file];
      const result = run('docker', ['compose', ...files, 'config', '-q']);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    },
  );

  it.each(['docker-compose.yml', 'docker-compose.prod.yml', 'docker-compose.prod.ops.yml'])(
    '%s starts with a comment giving its invocation',
    (file) => {
      const first = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n')[0]!;
      expect(first).toMatch(/^# .*docker compose .*up/);
    },
  );

  it('the production file inherits nothing and bind-mounts no source', () => {
    const text = readFileSync(join(REPO_ROOT, 'docker-compose.prod.yml'), 'utf8');
    expect(text).not.toMatch(/^\s*extends:/m);
    expect(text).not.toMatch(/\.\/services\//);
  });

  it('publishes only the gateway by default, on 127.0.0.1', () => {
    requireDocker();
    const config = JSON.parse(
      run('docker', ['compose', '-f', 'docker-compose.prod.yml', 'config', '--format', 'json']).stdout,
    ) as { services: Record<string, { ports?: { host_ip?: string; published?: string }[] }> };
    const published = Object.entries(config.services).filter(([, s]) => (s.ports ?? []).length > 0);
    expect(published.map(([name]) => name)).toEqual(['gateway']);
    expect(published[0]![1].ports!.map((p) => p.host_ip)).toEqual(['127.0.0.1']);
  });
});

describe('production stack', () => {
  beforeAll(() => {
    requireDocker();
    compose(prod, 'down', '-v', '--remove-orphans');
    const started = Date.now();
    mustCompose(prod, 'up', '-d', '--build', '--wait', '--wait-timeout', '180');
    console.log(`production stack built and healthy in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  afterAll(() => {
    compose(prod, 'down', '-v', '--remove-orphans');
  });

  it('runs two API replicas', () => {
    const api = mustCompose(prod, 'ps', '--format', '{{.Service}} {{.Health}}', 'api').trim().split('\n');
    expect(api).toEqual(['api healthy', 'api healthy']);
  });

  it('publishes the gateway and, with the ops overlay, Prometheus, both on 127.0.0.1 only', () => {
    const published = mustCompose(prod, 'ps', '--format', '{{.Service}} {{.Ports}}')
      .trim()
      .split('\n')
      .filter((line) => line.includes('->'));
    expect(published.map((l) => l.split(' ')[0]).sort()).toEqual(['gateway', 'prometheus']);
    for (const line of published) expect(line).not.toMatch(/0\.0\.0\.0|:::/);
  });

  it('splits the networks: each service reaches the services it needs and no other', () => {
    const ids = containerIds(prod);
    const [apiId] = mustCompose(prod, 'ps', '-q', 'api').trim().split('\n');
    const on = (id: string, network: string) => containerAddresses(id)[`${prod.project}_${network}`]!;
    const internal = (network: string) =>
      docker('network', 'inspect', `${prod.project}_${network}`, '--format', '{{.Internal}}');
    // Only the networks holding a published port or the API's fetches lead out.
    expect(
      ['public', 'edge', 'app', 'metrics', 'api-metrics', 'egress', 'ops'].map((n) => `${n} ${internal(n)}`),
    ).toEqual([
      'public false',
      'edge true',
      'app true',
      'metrics true',
      'api-metrics true',
      'egress false',
      'ops false',
    ]);

    // What must work, so that the refusals below are not a probe that cannot connect at all.
    expect(
      reachFrom(ids.gateway!, [{ address: on(ids.sidecar!, 'edge'), port: 8080 }]),
      'gateway -> sidecar:8080',
    ).toEqual({ [`${on(ids.sidecar!, 'edge')}:8080`]: 'connected' });
    expect(Object.values(reachFrom(ids.sidecar!, [{ address: on(apiId!, 'app'), port: 3000 }]))).toEqual([
      'connected',
    ]);
    expect(
      Object.values(
        reachFrom(ids.prometheus!, [
          { address: on(apiId!, 'api-metrics'), port: 9464 },
          { address: on(ids.sidecar!, 'metrics'), port: 9464 },
        ]),
      ),
    ).toEqual(['connected', 'connected']);
    expect(
      Object.values(reachFrom(apiId!, [{ address: on(ids.fixtures!, 'fixture-site'), port: 8000 }])),
    ).toEqual(['connected']);

    // The API, which fetches any URL it is given: not Prometheus, not the gateway, on any address.
    const fromApi = reachFrom(apiId!, [
      ...everyAddress(ids.prometheus!, 9090),
      ...everyAddress(ids.gateway!, 8080),
    ]);
    expect(Object.entries(fromApi).filter(([, outcome]) => outcome === 'connected')).toEqual([]);
    // The gateway: not the API (only through the sidecar), not Prometheus.
    const fromGateway = reachFrom(ids.gateway!, [
      ...everyAddress(apiId!, 3000),
      ...everyAddress(apiId!, 9464),
      ...everyAddress(ids.prometheus!, 9090),
    ]);
    expect(Object.entries(fromGateway).filter(([, outcome]) => outcome === 'connected')).toEqual([]);
  });

  it("keeps the sidecar's ports out of the API's reach", () => {
    // The sidecar shares app with the API (it calls the API there) and metrics
    // (Prometheus scrapes it there): only listeners bound to its edge and metrics
    // addresses keep the API out (the sidecar's HOST, METRICS_HOST).
    const ids = containerIds(prod);
    const [apiId] = mustCompose(prod, 'ps', '-q', 'api').trim().split('\n');
    const fromApi = reachFrom(apiId!, [
      ...everyAddress(ids.sidecar!, 9464),
      ...everyAddress(ids.sidecar!, 8080),
    ]);
    expect(Object.entries(fromApi).filter(([, outcome]) => outcome === 'connected')).toEqual([]);
  });

  it('counts links of a fixture page through the gateway', async () => {
    const r = await fetch(
      `${gateway}/api/v1/count?url=${encodeURIComponent('http://fixtures:8000/page.html')}`,
    );
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ internal: 2, external: 1, fetch: { status: 200 } });
    const blocked = await fetch(
      `${gateway}/api/v1/count?url=${encodeURIComponent('http://127.0.0.1:3000/healthz')}`,
    );
    expect(blocked.status).toBe(403);
  });

  it('creates, lists, reads and deletes reports through the gateway', async () => {
    const created = await fetch(`${gateway}/api/v1/reports`, {
      method: 'POST',
      headers: { ...authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://fixtures:8000/many.html' }),
    });
    expect(created.status).toBe(201);
    const report = (await created.json()) as { id: number; internal: number };
    expect(report.internal).toBe(50);
    expect(created.headers.get('location')).toBe(`/api/v1/reports/${report.id}`);
    const list = (await (
      await fetch(`${gateway}/api/v1/reports?limit=5`, { headers: authorization })
    ).json()) as {
      items: { id: number }[];
    };
    expect(list.items[0]?.id).toBe(report.id);
    const one = `${gateway}/api/v1/reports/${report.id}`;
    expect((await fetch(one, { headers: authorization })).status).toBe(200);
    expect((await fetch(one, { method: 'DELETE', headers: authorization })).status).toBe(204);
    expect((await fetch(one, { headers: authorization })).status).toBe(404);
  });

  it('keeps stored reports behind the bearer token; counting stays public', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/reports'],
      ['POST', '/api/v1/reports'],
      ['GET', '/api/v1/reports/1'],
      ['DELETE', '/api/v1/reports/1'],
    ] as const) {
      const r = await fetch(gateway + path, { method });
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="stagecraft"');
    }
    const wrong = await fetch(`${gateway}/api/v1/reports`, {
      headers: { authorization: `Bearer ${'0'.repeat(64)}` },
    });
    expect(wrong.status).toBe(401);
    const counted = await fetch(`${gateway}/api/v1/count?base=http://example.test/`, {
      method: 'POST',
      headers: { 'content-type': 'text/html' },
      body: '<a href="/x">',
    });
    expect(counted.status).toBe(200);
  });

  // One access line per request across the stack: the gateway logs every one;
  // the services log at info only what is unusual (a refusal, a 5xx, a slow
  // answer), and then with the same request id.
  it('carries one request id through the logs of gateway, sidecar and API', async () => {
    const logsOf = () =>
      ['gateway', 'sidecar', 'api'].map((service) => mustCompose(prod, 'logs', '--no-color', service));
    const refused = `e2e-${randomUUID()}`;
    const r = await fetch(`${gateway}/api/v1/reports?limit=1`, {
      headers: { authorization: `Bearer ${'0'.repeat(64)}`, 'x-request-id': refused },
    });
    expect(r.status).toBe(401);
    expect(r.headers.get('x-request-id')).toBe(refused);
    const ordinary = `e2e-${randomUUID()}`;
    const ok = await fetch(`${gateway}/api/v1/reports?limit=1`, {
      headers: { ...authorization, 'x-request-id': ordinary },
    });
    expect(ok.status).toBe(200);
    await poll(
      'the refused request id in all three logs',
      async () => (logsOf().every((log) => log.includes(refused)) ? true : undefined),
      10_000,
    );
    const [gatewayLog, sidecarLog, apiLog] = logsOf();
    expect(gatewayLog).toContain(ordinary);
    expect(sidecarLog).not.toContain(ordinary);
    expect(apiLog).not.toContain(ordinary);
  });

  it('serves no /metrics of any service through the gateway', async () => {
    for (const path of ['/metrics', '/api/v1/metrics', '/api/v1/reports/../../metrics', '/api/metrics/']) {
      const r = await fetch(gateway + path);
      expect(r.status, path).toBe(404);
    }
  });

  it('has Prometheus scrape every target on its metrics port, and count exactly the requests made', async () => {
    const scraped = await poll('every Prometheus target up', async () => {
      const r = (await (await fetch(`${prometheus}/api/v1/targets`)).json()) as {
        data: { activeTargets: { labels: { job: string }; scrapeUrl: string; health: string }[] };
      };
      const targets = r.data.activeTargets;
      return targets.length === 4 && targets.every((t) => t.health === 'up') ? targets : undefined;
    });
    // Both API replicas and the sidecar on 9464 (never the API's own port), Prometheus itself on its loopback.
    expect(scraped.map((t) => `${t.labels.job} ${new URL(t.scrapeUrl).port}`).sort()).toEqual([
      'api 9464',
      'api 9464',
      'prometheus 9090',
      'sidecar 9464',
    ]);
    const query =
      // HEAD: no other test sends it, so no earlier request can still be on its way into this series.
      'sum(http_server_request_duration_seconds_count{job="sidecar",http_request_method="HEAD",http_route="/api/v1/reports/{id}",http_response_status_code="404"})';
    const before = (await promQuery(query)) ?? 0;
    const N = 25;
    for (let i = 0; i < N; i++)
      expect(
        (await fetch(`${gateway}/api/v1/reports/${900_000 + i}`, { method: 'HEAD', headers: authorization }))
          .status,
      ).toBe(404);
    const after = await poll(
      `the sidecar counter to reach ${before + N}`,
      async () => {
        const value = await promQuery(query);
        return value === before + N ? value : undefined;
      },
      30_000,
      500,
    );
    expect(after - before).toBe(N);
  });

  it('keeps reports across a restart of the API and a down/up without -v', async () => {
    const created = await fetch(`${gateway}/api/v1/reports`, {
      method: 'POST',
      headers: { ...authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://fixtures:8000/page.html' }),
    });
    const { id } = (await created.json()) as { id: number };
    mustCompose(prod, 'restart', 'api');
    mustCompose(prod, 'up', '-d', '--wait', '--wait-timeout', '120');
    expect(
      await poll('the report after restart', async () =>
        (await fetch(`${gateway}/api/v1/reports/${id}`, { headers: authorization })).status === 200
          ? true
          : undefined,
      ),
    );
    mustCompose(prod, 'down');
    mustCompose(prod, 'up', '-d', '--wait', '--wait-timeout', '120');
    const again = await poll('the report after down/up', async () => {
      const r = await fetch(`${gateway}/api/v1/reports/${id}`, { headers: authorization });
      return r.status === 200 ? ((await r.json()) as { id: number }) : undefined;
    });
    expect(again.id).toBe(id);
  });

  it('stops every service cleanly within its grace period', () => {
    const ids = containerIds(prod);
    const started = Date.now();
    mustCompose(prod, 'stop');
    const seconds = (Date.now() - started) / 1000;
    for (const [service, id] of Object.entries(ids)) {
      const [exit, oom] = docker('inspect', id, '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}').split(
        ' ',
      );
      expect(['0', '143'], `${service} exit code`).toContain(exit);
      expect(oom, `${service} OOM-killed`).toBe('false');
    }
    console.log(`production stack stopped in ${seconds.toFixed(1)} s`);
    expect(seconds).toBeLessThan(25);
  });
});

describe('development stack', () => {
  let copy = '';
  let dev: ComposeProject;

  beforeAll(() => {
    requireDocker();
    // A copy of the repository, so editing a source file never touches the working tree.
    copy = copyRepository('stagecraft-dev-');
    dev = {
      project: 'stagecraft-e2e-dev',
      files: ['docker-compose.yml', 'e2e/compose.fixtures.yml'],
      cwd: copy,
      env: composeEnv({ gateway: 18081, prometheus: 19091, inspect: 19229 }),
    };
    compose(dev, 'down', '-v', '--remove-orphans');
    mustCompose(dev, 'up', '-d', '--build', '--wait', '--wait-timeout', '240');
  });

  afterAll(() => {
    if (dev) compose(dev, 'down', '-v', '--remove-orphans');
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('runs the dev targets with sources from the host and dependencies from the image', async () => {
    const r = await fetch(
      'http://127.0.0.1:18081/api/v1/count?url=' + encodeURIComponent('http://fixtures:8000/page.html'),
    );
    expect(r.status).toBe(200);
    const image = docker('inspect', containerIds(dev).api!, '--format', '{{.Config.Image}}');
    expect(image).toBe('stagecraft-api:dev');
    expect(existsSync(join(copy, 'services/api/node_modules'))).toBe(false);
    expect(existsSync(join(copy, 'node_modules'))).toBe(false);
  });

  it("opens the API's inspector to the host's 127.0.0.1 and to no container", async () => {
    const r = await fetch('http://127.0.0.1:19229/json/version');
    expect(r.status).toBe(200);
    expect(((await r.json()) as { Browser: string }).Browser).toMatch(/^node\.js\//);
    // Every other container of the stack, on every address the API has (its
    // inspector listens on its egress address, where no other container is).
    const ids = containerIds(dev);
    for (const from of ['sidecar', 'gateway', 'prometheus', 'fixtures']) {
      const outcomes = reachFrom(ids[from]!, everyAddress(ids.api!, 9229));
      expect(
        Object.entries(outcomes).filter(([, outcome]) => outcome === 'connected'),
        from,
      ).toEqual([]);
    }
    // The probe itself connects where something listens: the API from the sidecar.
    const app = containerAddresses(ids.api!)[`${dev.project}_app`]!;
    expect(reachFrom(ids.sidecar!, [{ address: app, port: 3000 }])).toEqual({ [`${app}:3000`]: 'connected' });
  });

  it('shows a source edit on the host in the next responses, without any manual step', async () => {
    const file = join(copy, 'services/api/src/http/ops-routes.ts');
    const marker = `edited-${Date.now()}`;
    const source = readFileSync(file, 'utf8');
    expect(source).toContain("res.json({ status: 'ok' });");
    const saved = Date.now();
    writeFileSync(
      file,
      source.replace("res.json({ status: 'ok' });", `res.json({ status: 'ok', edit: '${marker}' });`),
    );
    await poll(
      'the edited /healthz through the gateway',
      async () => {
        const r = await fetch('http://127.0.0.1:18081/healthz');
        return r.ok && (await r.text()).includes(marker) ? true : undefined;
      },
      60_000,
      50,
    );
    const ms = Date.now() - saved;
    console.log(`save-to-response through the dev stack: ${ms} ms`);
    expect(ms).toBeGreaterThan(0);
  });

  it('stops cleanly', () => {
    const ids = containerIds(dev);
    mustCompose(dev, 'stop');
    for (const [service, id] of Object.entries(ids)) {
      const exit = docker('inspect', id, '--format', '{{.State.ExitCode}}');
      expect(['0', '143'], `${service} exit code`).toContain(exit);
    }
  });
});
