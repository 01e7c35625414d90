/**
 * The images, built and inspected for real: every target of every Dockerfile,
 * the production images' properties read off their file systems and metadata,
 * running containers becoming healthy, a failing test failing the build, the
 * gateway's configuration, its refusal to serve /metrics and the security headers
 * on each of its error answers, its files owned by root, its limits taken from the
 * environment at start (and refused, exit 78, when bad), and no setuid or setgid
 * file in any production image.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, run } from '@stagecraft/testkit/command';
import { REPO_ROOT, copyRepository } from '@stagecraft/testkit/repository';
import {
  build,
  GATEWAY_WRITABLE,
  gatewayTmpfs,
  imageFiles,
  layerFiles,
  nodeInImage,
  mustBuild,
  publishedPort,
  requireDocker,
  runGateway,
  runHardened,
  setuidFiles,
  startEchoUpstream,
  waitHealthy,
} from './helpers/docker.js';
import { expectGatewayProblem, expectSecurityHeaders, rawGet, rawRequest } from './helpers/http.js';

const TAG = 'stagecraft-test';
const SERVICES = [
  { name: 'api', dockerfile: 'services/api/Dockerfile', port: 3000, healthPath: '/healthz' },
  { name: 'sidecar', dockerfile: 'services/sidecar/Dockerfile', port: 9464, healthPath: '/healthz' },
] as const;
const containers: string[] = [];

beforeAll(() => {
  requireDocker();
});

afterAll(() => {
  for (const c of containers) run('docker', ['rm', '-f', c]);
});

describe.each(SERVICES)('$name image', ({ name, dockerfile, port, healthPath }) => {
  const production = `${TAG}/${name}:production`;
  let files: string[] = [];

  it('builds the production target, and a plain build gives the same image', () => {
    mustBuild({ dockerfile, tag: production, target: 'production' });
    mustBuild({ dockerfile, tag: `${TAG}/${name}:plain` });
    expect(docker('image', 'inspect', `${TAG}/${name}:plain`, '--format', '{{.Id}}')).toBe(
      docker('image', 'inspect', production, '--format', '{{.Id}}'),
    );
    files = imageFiles(production);
  });

  it('builds the dev target with nodemon and, for the API, the inspector', () => {
    mustBuild({ dockerfile, tag: `${TAG}/${name}:dev`, target: 'dev' });
    const config = JSON.parse(
      docker('image', 'inspect', `${TAG}/${name}:dev`, '--format', '{{json .Config}}'),
    ) as {
      Cmd: string[];
      ExposedPorts: Record<string, unknown>;
    };
    expect(config.Cmd.join(' ')).toContain('nodemon');
    const nodemon = JSON.parse(
      docker('run', '--rm', '--entrypoint', 'cat', `${TAG}/${name}:dev`, 'nodemon.json'),
    ) as { exec: string };
    if (name === 'api') {
      expect(nodemon.exec).toContain('--inspect=');
      expect(Object.keys(config.ExposedPorts)).toContain('9229/tcp');
    }
  });

  it('builds the test target, which runs type check, lint and tests', () => {
    // --no-cache-filter: the checks run now, even when an identical build passed before.
    const output = mustBuild({
      dockerfile,
      tag: `${TAG}/${name}:test`,
      target: 'test',
      extra: ['--no-cache-filter', 'test'],
    });
    expect(output).toMatch(/Tests\s+\d+ passed/);
  });

  it('runs as a non-root user with a shell-free health check, OCI labels and node as the entrypoint', () => {
    const config = JSON.parse(docker('image', 'inspect', production, '--format', '{{json .Config}}')) as {
      User: string;
      Healthcheck: { Test: string[] };
      Labels: Record<string, string>;
      Entrypoint: string[];
      StopSignal?: string;
    };
    expect(config.User).toBe('65532:65532');
    expect(config.Healthcheck.Test[0]).toBe('CMD');
    expect(config.Healthcheck.Test[1]).toBe('/nodejs/bin/node');
    expect(config.Labels['org.opencontainers.image.title']).toBe(`stagecraft-${name}`);
    expect(config.Labels['org.opencontainers.image.version']).toBeTruthy();
    expect(config.Labels['org.opencontainers.image.revision']).toBeTruthy();
    expect(config.Entrypoint).toEqual(['/nodejs/bin/node']);
    expect(config.StopSignal ?? 'SIGTERM').toBe('SIGTERM');
  });

  it('holds compiled JavaScript and production dependencies only', () => {
    expect(files).toContain(`/app/services/${name}/dist/main.js`);
    const forbidden = [
      ['a shell', (f: string) => /^\/(usr\/)?bin\/(sh|bash|dash)$/.test(f)],
      ['npm', (f: string) => /\/node_modules\/npm(\/|$)/.test(f) || /\/bin\/npm$/.test(f)],
      ['TypeScript', (f: string) => /\/node_modules\/typescript(\/|$)/.test(f)],
      ['vitest', (f: string) => /\/node_modules\/(vitest|@vitest)(\/|$)/.test(f)],
      ['nodemon', (f: string) => /\/node_modules\/nodemon(\/|$)/.test(f)],
      ['tsx', (f: string) => /\/node_modules\/(tsx|esbuild|@esbuild)(\/|$)/.test(f)],
      ['@types', (f: string) => /\/node_modules\/@types(\/|$)/.test(f)],
      [
        'TypeScript sources',
        (f: string) =>
          f.startsWith('/app/services/') && /\.(ts|mts|cts)$/.test(f) && !/\.d\.[mc]?ts$/.test(f),
      ],
      ['tests', (f: string) => /^\/app\/services\/[^/]+\/(test|tests|bench)(\/|$)/.test(f)],
      ['an npm cache', (f: string) => /\/(\.npm|_cacache)(\/|$)/.test(f)],
      ['a compiler', (f: string) => /\/(gcc|g\+\+|cc1|cc1plus|make|python3?)$/.test(f)],
      ['a build secret', (f: string) => /(^\/run\/secrets|ca_bundle)/.test(f)],
      ['an env file', (f: string) => /\/\.env(\.|$)/.test(f)],
    ] as const;
    for (const [what, matches] of forbidden) {
      expect(
        files.filter((f) => matches(f)),
        `production image holds ${what}`,
      ).toEqual([]);
    }
  });

  it('has no layer holding a secret, an env file, npm credentials, a private key or a source map with sources', () => {
    const layers = layerFiles(production);
    const everything = layers.flat();
    const suspicious = everything.filter(
      (f) =>
        /^\/run\/secrets\//.test(f) ||
        /(^|\/)(ca_bundle|\.env(\..*)?|\.npmrc|\.netrc|id_rsa|id_ed25519|\.git-credentials)$/.test(f) ||
        (/\.(key|p12|pfx)$/.test(f) && !f.includes('/node_modules/')) ||
        /(^|\/)\.git$/.test(f),
    );
    expect(suspicious).toEqual([]);
    // Source maps are kept for readable stack traces, but hold paths, never the sources.
    const maps = files.filter((f) => f.startsWith(`/app/services/${name}/dist/`) && f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const withSources = nodeInImage(
      production,
      `const fs = require('fs'); process.stdout.write(JSON.stringify(${JSON.stringify(maps)}.filter((m) => 'sourcesContent' in JSON.parse(fs.readFileSync(m, 'utf8')))))`,
    );
    expect(JSON.parse(withSources)).toEqual([]);
  });

  it('contains no copy of the CA bundle given as a build secret', () => {
    const bundle = process.env.STAGECRAFT_CA_BUNDLE ?? '/etc/ssl/certs/ca-certificates.crt';
    const secret = readFileSync(bundle, 'utf8');
    const history = docker('history', '--no-trunc', '--format', '{{.CreatedBy}}', production);
    expect(history).not.toContain(secret.slice(0, 200));
    const inImage = files.filter((f) => f.endsWith('.crt') || f.endsWith('.pem'));
    for (const file of inImage) {
      const content = nodeInImage(
        production,
        `process.stdout.write(require('fs').readFileSync(${JSON.stringify(file)}, 'utf8'))`,
      );
      expect(content === secret, `${file} is the build's CA bundle`).toBe(false);
    }
  });

  it('starts, becomes healthy, answers, and stops cleanly on SIGTERM', async () => {
    const container = `${TAG}-${name}-run`;
    containers.push(container);
    runHardened(container, production, [
      '--tmpfs',
      '/tmp',
      // API_AUTH=open: this run checks the image's life cycle, not the token (see below).
      ...(name === 'api' ? ['--tmpfs', '/data:uid=65532,gid=65532', '-e', 'API_AUTH=open'] : []),
      ...(name === 'sidecar' ? ['-e', 'UPSTREAM_URL=http://127.0.0.1:9'] : []),
      '-p',
      `127.0.0.1::${port}`,
    ]);
    const ms = await waitHealthy(container);
    const response = await fetch(`http://127.0.0.1:${publishedPort(container, port)}${healthPath}`);
    expect(response.status).toBe(200);
    console.log(`${name}: healthy ${ms} ms after start`);
    docker('stop', '--time', '15', container);
    expect(docker('inspect', container, '--format', '{{.State.ExitCode}}')).toBe('0');
    expect(docker('logs', container)).toContain('shutdown complete');
  });

  it('refuses a bad configuration in one line naming the variable, exit 78', () => {
    // The API in production without the token stored reports need; the sidecar
    // with an upstream it cannot proxy to.
    const [extra, variable] =
      name === 'api' ? [[], 'API_TOKEN_FILE'] : [['-e', 'UPSTREAM_URL=ftp://api:3000'], 'UPSTREAM_URL'];
    const result = run('docker', [
      'run',
      '--rm',
      '--read-only',
      '--tmpfs',
      '/data:uid=65532,gid=65532',
      ...extra,
      production,
    ]);
    expect(result.status).toBe(78);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(variable);
  });

  it('fails the test target when a test fails', () => {
    const context = copyRepository('stagecraft-failing-');
    try {
      writeFileSync(
        join(context, `services/${name}/test/deliberately-failing.test.ts`),
        "import { expect, it } from 'vitest';\n\nit('deliberately fails', () => {\n  expect(1 + 1).toBe(3);\n});\n",
      );
      const result = build({
        dockerfile: dockerfile,
        tag: `${TAG}/${name}:failing`,
        target: 'test',
        context,
      });
      expect(result.status).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('deliberately fails');
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });
});

describe('build cache', () => {
  it('rebuilds only the layers after the dependency install when a .ts file changes', () => {
    const context = copyRepository('stagecraft-cache-');
    try {
      mustBuild({ dockerfile: 'services/api/Dockerfile', tag: `${TAG}/api:cache`, context });
      const main = join(context, 'services/api/src/main.ts');
      writeFileSync(main, readFileSync(main, 'utf8') + `\n// a one-line change made at ${Date.now()}\n`);
      const output = mustBuild({ dockerfile: 'services/api/Dockerfile', tag: `${TAG}/api:cache`, context });
      // BuildKit's plain progress: "#12 [deps 4/4] RUN ... npm ci ..." then "#12 CACHED".
      const stepOf = (pattern: RegExp) =>
        output
          .split('\n')
          .find((l) => pattern.test(l))
          ?.match(/^#(\d+) /)?.[1];
      const install = stepOf(/\[deps \d+\/\d+\] RUN .*npm ci/);
      const compile = stepOf(/\[build \d+\/\d+\] RUN npm run build/);
      expect(install, 'the dependency install step').toBeDefined();
      expect(compile, 'the compile step').toBeDefined();
      expect(output, 'npm ci comes from the cache').toContain(`#${install} CACHED`);
      expect(output, 'the compile step runs again').not.toContain(`#${compile} CACHED`);
      expect(output).toContain(`#${compile} DONE`);
      const context_ = /transferring context: ([\d.]+)([kM]?B)/.exec(output);
      const kb = context_
        ? Number(context_[1]) * (context_[2] === 'MB' ? 1024 : context_[2] === 'kB' ? 1 : 1 / 1024)
        : NaN;
      expect(kb, 'build context size (kB)').toBeLessThan(2048);
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });
});

describe('gateway image', () => {
  const image = `${TAG}/gateway:production`;

  it('builds, rendering its templates with the defaults and checking them with nginx -t, on the reference nginx.conf', () => {
    const output = mustBuild({ dockerfile: 'nginx/Dockerfile', tag: image });
    expect(output).toMatch(
      /RUN \. \/docker-entrypoint\.d\/18-stagecraft-limits\.envsh[^\n]*&& nginx -t[\s\S]*?DONE/,
    );
    const reference = docker('run', '--rm', '--entrypoint', 'cat', 'nginx:latest', '/etc/nginx/nginx.conf');
    expect(docker('run', '--rm', '--entrypoint', 'cat', image, '/etc/nginx/nginx.conf')).toBe(reference);
    expect(run('docker', ['run', '--rm', '--entrypoint', 'nginx', image, '-t']).status).toBe(0);
    const user = docker('image', 'inspect', image, '--format', '{{.Config.User}}');
    expect(user).toBe('nginx');
  });

  it('keeps the site, the configuration and the entrypoint scripts owned by root, unwritable by nginx', () => {
    const dirs = [
      '/usr/share/nginx/site',
      '/usr/share/nginx/errors',
      '/etc/nginx/templates',
      '/etc/nginx/snippets',
      '/docker-entrypoint.d',
    ];
    const find = (...test: string[]) =>
      docker(
        'run',
        '--rm',
        '--entrypoint',
        'find',
        image,
        ...dirs,
        '(',
        '-type',
        'f',
        '-o',
        '-type',
        'd',
        ')',
        ...test,
      );
    expect(find('-path', '/usr/share/nginx/site/*').split('\n').length).toBeGreaterThan(5);
    // The site stage builds as node (1000): the files must not keep that owner.
    expect(find('(', '!', '-user', '0', '-o', '!', '-group', '0', '-o', '-perm', '/022', ')')).toBe('');
  });

  it('serves no /metrics and answers problem documents with every security header, unprivileged and read-only', async () => {
    const container = `${TAG}-gateway-run`;
    containers.push(container);
    runGateway(container, image, [
      // A test-only second server: every status through the same snippets, on demand.
      '-v',
      `${join(REPO_ROOT, 'e2e/gateway/90-every-status.conf')}:/etc/nginx/conf.d/90-every-status.conf:ro`,
      '-p',
      '127.0.0.1::8090',
    ]);
    await waitHealthy(container);
    const port = publishedPort(container, 8080);
    for (const path of [
      '/metrics',
      '/api/v1/metrics',
      '/api/metrics/x',
      '/metrics?format=text',
      '/no-such-page',
      '/api',
    ]) {
      const problem = expectGatewayProblem(await rawGet(port, path), 404, path);
      expect(problem.type).toBe('urn:stagecraft:problem:not-found');
    }
    expectGatewayProblem(await rawGet(port, '/api/v1/reports', 'BREW'), 405, 'BREW');
    expectGatewayProblem(await rawGet(port, '/gateway/status'), 403, '/gateway/status from outside');
    // No sidecar on this network: the API route answers a 502 problem document, not a hang.
    const down = expectGatewayProblem(await rawGet(port, '/api/v1/reports'), 502, 'no sidecar');
    expect(down.type).toBe('urn:stagecraft:problem:bad-gateway');

    const statuses = publishedPort(container, 8090);
    const codes = [400, 403, 404, 405, 412, 413, 414, 429, 500, 501, 502, 503, 504, 505];
    for (const code of codes)
      expectGatewayProblem(await rawGet(statuses, `/status/${code}`), code, `return ${code}`);
    // nginx's own code for an oversized header goes out as the standard 431.
    expectGatewayProblem(await rawGet(statuses, '/status/494'), 431, 'return 494');
    docker('stop', container);
    expect(docker('inspect', container, '--format', '{{.State.ExitCode}}')).toBe('0');
  });
});

describe('gateway image, in front of an upstream that echoes what reaches it', () => {
  const image = `${TAG}/gateway:production`;
  const network = `${TAG}-gateway-net`;
  const upstream = `${TAG}-gateway-echo`;
  const container = `${TAG}-gateway-front`;
  let port = 0;
  /** What the upstream received, for a raw request the gateway let through. */
  const passed = async (request: string) => {
    const answer = await rawRequest(port, [request]);
    expect(answer.status, answer.head).toBe(200);
    expectSecurityHeaders(answer.head, request.split('\r\n')[0]!);
    return JSON.parse(answer.body) as { head: string[]; body: string };
  };
  const header = (head: string[], name: string) =>
    head
      .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
      .map((l) => l.slice(name.length + 1).trim());

  beforeAll(async () => {
    run('docker', ['rm', '-f', container, upstream]);
    run('docker', ['network', 'rm', network]);
    docker('network', 'create', network);
    startEchoUpstream(upstream, network);
    runGateway(container, image, ['--network', network]);
    await waitHealthy(container);
    port = publishedPort(container, 8080);
  });

  afterAll(() => {
    run('docker', ['rm', '-f', container, upstream]);
    run('docker', ['network', 'rm', network]);
  });

  it("shows its own security headers once on a proxied answer, never the upstream's copies", async () => {
    const echoed = await passed(
      'GET /api/v1/reports HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
    expect(echoed.head[0]).toBe('GET /api/v1/reports HTTP/1.1');
  });

  it('passes no forwarding claim a client makes about itself, and no header name Node reads differently', async () => {
    const echoed = await passed(
      'GET /api/v1/reports HTTP/1.1\r\nHost: localhost\r\n' +
        'X-Forwarded-For: 203.0.113.9\r\nX-Real-IP: 203.0.113.9\r\nX-Forwarded-Host: evil.example\r\n' +
        'X-Forwarded-Port: 443\r\nX-Forwarded-Proto: https\r\nForwarded: for=203.0.113.9;host=evil.example\r\n' +
        'X_Forwarded_For: 203.0.113.10\r\nX-Request_Id: smuggled\r\nX-Request-Id: client-id.1\r\n' +
        'Connection: close\r\n\r\n',
    );
    const seen = echoed.head.join('\n');
    expect(seen).not.toMatch(/203\.0\.113|evil\.example|smuggled|https|_/i);
    expect(header(echoed.head, 'X-Forwarded-For')).toHaveLength(1);
    expect(header(echoed.head, 'X-Forwarded-For')[0]).toBe(header(echoed.head, 'X-Real-IP')[0]);
    expect(header(echoed.head, 'Forwarded')).toEqual([]);
    expect(header(echoed.head, 'X-Forwarded-Host')).toEqual([]);
    // A well-formed request id the client sent is kept, once.
    expect(header(echoed.head, 'X-Request-Id')).toEqual(['client-id.1']);
  });

  it('refuses what the Node servers could read differently, with problem documents', async () => {
    const refused = async (request: string, status: number) =>
      expectGatewayProblem(await rawRequest(port, [request]), status, JSON.stringify(request.slice(0, 60)));
    const body = 'Content-Type: text/html\r\nConnection: close\r\n';
    await refused('GET /api/v1/reports HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n', 400);
    await refused(
      `POST /api/v1/count HTTP/1.1\r\nHost: a\r\n${body}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
      400,
    );
    await refused(
      `POST /api/v1/count HTTP/1.1\r\nHost: a\r\n${body}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`,
      400,
    );
    await refused(
      `POST /api/v1/count HTTP/1.1\r\nHost: a\r\n${body}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      400,
    );
    await refused(
      `POST /api/v1/count HTTP/1.1\r\nHost: a\r\n${body}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
      400,
    );
    await refused(
      `POST /api/v1/count HTTP/1.1\r\nHost: a\r\n${body}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
      501,
    );
    await refused(
      'GET /api/v1/reports HTTP/1.1\r\nHost: a\r\nX-Folded: 1\r\n  2\r\nConnection: close\r\n\r\n',
      400,
    );
    await refused('GET /api/v1/reports HTTP/1.1\r\nConnection: close\r\n\r\n', 400);
    await refused('GET /api/v1/reports HTTP/2.0\r\nHost: a\r\n\r\n', 505);
    await refused('CONNECT sidecar:8080 HTTP/1.1\r\nHost: sidecar:8080\r\n\r\n', 405);
  });

  it('takes an absolute-form target as the path it names, with that host as Host', async () => {
    const echoed = await passed(
      'GET http://other.example/api/v1/reports?x=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
    expect(echoed.head[0]).toBe('GET /api/v1/reports?x=1 HTTP/1.1');
    expect(header(echoed.head, 'Host')).toEqual(['other.example']);
  });

  it('answers an HTTP/0.9 request itself, without passing it on', async () => {
    const before = docker('logs', upstream).length;
    const answer = await rawRequest(port, ['GET /api/v1/reports\r\n']);
    // HTTP/0.9 has no status line and no headers: the body is the whole answer.
    expect(answer.status).toBeUndefined();
    expect(JSON.parse(answer.head)).toMatchObject({
      status: 400,
      type: 'urn:stagecraft:problem:bad-request',
    });
    expect(docker('logs', upstream).length).toBe(before);
  });

  it('streams a chunked body on as one request, with the coding nginx chose', async () => {
    const echoed = await passed(
      'POST /api/v1/count?base=http://x.invalid/ HTTP/1.1\r\nHost: a\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5;ext=1\r\n<a hr\r\n6\r\nef=x>\n\r\n0\r\nX-Trailer: 1\r\n\r\n',
    );
    const framing = [...header(echoed.head, 'Content-Length'), ...header(echoed.head, 'Transfer-Encoding')];
    expect(framing).toHaveLength(1);
    // nginx sends what it has whole with a length, and re-chunks what is still arriving.
    let body = echoed.body;
    if (header(echoed.head, 'Transfer-Encoding')[0] === 'chunked') {
      let rest = body;
      body = '';
      for (;;) {
        const size = parseInt(rest, 16);
        if (!(size > 0)) break;
        const start = rest.indexOf('\r\n') + 2;
        body += rest.slice(start, start + size);
        rest = rest.slice(start + size + 2);
      }
    }
    expect(body).toBe('<a href=x>\n');
    expect(echoed.head.join('\n')).not.toMatch(/X-Trailer/i);
  });
});

describe('gateway image, its limits from the environment', () => {
  const image = `${TAG}/gateway:production`;
  const network = `${TAG}-gateway-limits-net`;
  const upstream = `${TAG}-gateway-limits-echo`;
  /** 11 MiB: above the default FETCH_MAX_BYTES (10 MiB), which would refuse it. */
  const RAISED = 11 * 1024 * 1024;
  const LOWERED = 2048;
  const ports: Record<number, number> = {};

  /** A gateway run as production runs it (read-only, conf.d on tmpfs), with `env`. */
  const startGateway = (container: string, env: string[]) =>
    runGateway(container, image, ['--network', network, ...env.flatMap((e) => ['-e', e])]);
  /** POST /api/v1/count with a body of `bytes` bytes, to the gateway on `port`. */
  const post = async (port: number, bytes: number) => {
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/count?base=http://x.invalid/`, {
      method: 'POST',
      headers: { 'content-type': 'text/html' },
      body: 'x'.repeat(bytes),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      body: await response.text(),
    };
  };
  /** The configuration nginx would load, rendered by the image's entrypoint with `env`. */
  const rendered = (env: string[]) =>
    run('docker', ['run', '--rm', ...env.flatMap((e) => ['-e', e]), image, 'nginx', '-T']);

  beforeAll(async () => {
    run('docker', ['rm', '-f', upstream, `${TAG}-gateway-raised`, `${TAG}-gateway-lowered`]);
    run('docker', ['network', 'rm', network]);
    docker('network', 'create', network);
    startEchoUpstream(upstream, network);
    for (const [name, limit] of [
      ['raised', RAISED],
      ['lowered', LOWERED],
    ] as const) {
      const container = `${TAG}-gateway-${name}`;
      containers.push(container);
      startGateway(container, [`FETCH_MAX_BYTES=${limit}`]);
      await waitHealthy(container);
      ports[limit] = publishedPort(container, 8080);
    }
  });

  afterAll(() => {
    // The gateways too: a network with containers on it cannot be removed.
    run('docker', ['rm', '-f', upstream, `${TAG}-gateway-raised`, `${TAG}-gateway-lowered`]);
    run('docker', ['network', 'rm', network]);
  });

  it.each([
    ['raised', RAISED],
    ['lowered', LOWERED],
  ])(
    'takes a body of exactly FETCH_MAX_BYTES %s (%i), and answers one byte more with a 413 stating it',
    async (_name, limit) => {
      const port = ports[limit]!;
      expect((await post(port, limit)).status).toBe(200);
      const over = await post(port, limit + 1);
      expect(over.status).toBe(413);
      expect(over.type).toBe('application/problem+json');
      expect(JSON.parse(over.body)).toEqual({
        type: 'urn:stagecraft:problem:body-too-large',
        title: 'Request body too large',
        status: 413,
        detail: `The request body is over the gateway's limit of ${limit} bytes.`,
      });
    },
  );

  it('renders its timeouts from the environment, and the defaults for a variable unset or empty', () => {
    const custom = rendered([
      'GATEWAY_PROXY_READ_TIMEOUT_MS=50000',
      'GATEWAY_PROXY_SEND_TIMEOUT_MS=40000',
      'GATEWAY_CLIENT_BODY_TIMEOUT_MS=41000',
      'GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS=30000',
    ]);
    expect(custom.status, custom.stderr).toBe(0);
    expect(custom.stdout).toContain('proxy_read_timeout 50000ms;');
    expect(custom.stdout).toContain('proxy_send_timeout 40000ms;');
    expect(custom.stdout).toContain('client_body_timeout 41000ms;');
    expect(custom.stdout).toContain('keepalive_timeout 30000ms;');
    const defaults = rendered(['FETCH_MAX_BYTES=', 'GATEWAY_PROXY_READ_TIMEOUT_MS=  ']);
    expect(defaults.status, defaults.stderr).toBe(0);
    expect(defaults.stdout).toContain('client_max_body_size 10485760;');
    expect(defaults.stdout).toContain('proxy_read_timeout 45000ms;');
    expect(defaults.stdout).toContain('proxy_send_timeout 35000ms;');
    expect(defaults.stdout).toContain('client_body_timeout 10000ms;');
    // nginx's own variables pass through the renderer untouched.
    expect(defaults.stdout).toContain('proxy_set_header Host $host;');
  });

  it.each([
    [
      'FETCH_MAX_BYTES=10m',
      'FETCH_MAX_BYTES: must be a whole number of bytes from 1024 to 67108864, got "10m"',
    ],
    [
      'FETCH_MAX_BYTES=1023',
      'FETCH_MAX_BYTES: must be a whole number of bytes from 1024 to 67108864, got "1023"',
    ],
    [
      'FETCH_MAX_BYTES=67108865',
      'FETCH_MAX_BYTES: must be a whole number of bytes from 1024 to 67108864, got "67108865"',
    ],
    [
      'GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS=60s',
      'GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS: must be a whole number of milliseconds from 1000 to 600000, got "60s"',
    ],
  ])('exits 78 before nginx starts for %s, with one line naming the variable', (setting, message) => {
    const result = run('docker', ['run', '--rm', '-e', setting, image]);
    expect(result.status).toBe(78);
    expect(result.stderr.trim().split('\n')).toEqual([`gateway: invalid configuration: ${message}`]);
    expect(result.stdout + result.stderr).not.toMatch(/start worker process|Running envsubst/);
  });

  it('exits 78 naming conf.d when a read-only root leaves nowhere to render (the upstream renderer would only log)', () => {
    const result = run('docker', [
      'run',
      '--rm',
      '--read-only',
      ...gatewayTmpfs(GATEWAY_WRITABLE.filter((path) => path !== '/etc/nginx/conf.d')),
      image,
    ]);
    expect(result.status).toBe(78);
    expect(result.stderr).toMatch(
      /^gateway: invalid configuration: \/etc\/nginx\/conf\.d is not writable by uid 101/m,
    );
  });
});

describe('production images', () => {
  // Swarm has no no-new-privileges option: a setuid file is a way up for any process.
  it.each([`${TAG}/api:production`, `${TAG}/metrics:production`, `${TAG}/gateway:production`])(
    '%s has no setuid or setgid file',
    (image) => {
      expect(setuidFiles(image)).toEqual([]);
    },
  );
});
