/**
 * VS Code "Reopen in Container", proved with the Dev Containers CLI: `devcontainer
 * up` on a copy of the repository, as a developer who set nothing would (no
 * STAGECRAFT_CA_BUNDLE: on a machine behind a TLS-intercepting proxy, as the CI
 * machine is, the image builds and `npm ci` get through only with the host's
 * system bundle, which the container is given by default); then `npm test`, the
 * README's command for inside the container, passes there; `npm run test:e2e`
 * says in one line that the Docker-backed suites run on the host; the workspace
 * is the bind-mounted repository; then everything is removed. The config files
 * are checked against what exists, so they cannot rot.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeEnv } from './helpers/compose.js';
import { copyRepository, REPO_ROOT, requireDocker, run } from './helpers/docker.js';

interface DevContainer {
  dockerComposeFile: string[];
  initializeCommand: string;
  service: string;
  workspaceFolder: string;
  remoteUser: string;
  forwardPorts: number[];
  postCreateCommand: string;
  customizations: { vscode: { extensions: string[] } };
  features?: unknown;
}
interface Launch {
  configurations: {
    name: string;
    request: string;
    port?: number;
    localRoot?: string;
    remoteRoot?: string;
    program?: string;
    cwd?: string;
  }[];
}

const devcontainer = JSON.parse(
  readFileSync(join(REPO_ROOT, '.devcontainer/devcontainer.json'), 'utf8'),
) as DevContainer;
const launch = JSON.parse(readFileSync(join(REPO_ROOT, '.vscode/launch.json'), 'utf8')) as Launch;
const resolveWs = (p: string) => p.replace('${workspaceFolder}', REPO_ROOT.replace(/\/$/, ''));

describe('dev container and launch configuration agree with the repository', () => {
  it('names compose files that exist and a service they define, with no registry features', () => {
    requireDocker();
    const files = devcontainer.dockerComposeFile.map((f) => join(REPO_ROOT, '.devcontainer', f));
    for (const f of files) expect(existsSync(f), f).toBe(true);
    const config = JSON.parse(
      run('docker', ['compose', ...files.flatMap((f) => ['-f', f]), 'config', '--format', 'json']).stdout,
    ) as {
      services: Record<
        string,
        {
          build?: { target?: string };
          ports?: { target: number }[];
          volumes?: { source?: string; target: string }[];
          environment?: Record<string, string>;
        }
      >;
      secrets: Record<string, { file: string }>;
    };
    expect(Object.keys(config.services)).toContain(devcontainer.service);
    expect(config.services[devcontainer.service]!.build?.target).toBe('devcontainer');
    expect(devcontainer.features).toBeUndefined();
    expect(devcontainer.workspaceFolder).toBe('/workspace');
    expect(devcontainer.customizations.vscode.extensions).toEqual(
      expect.arrayContaining([
        'dbaeumer.vscode-eslint',
        'esbenp.prettier-vscode',
        'vitest.explorer',
        'ms-azuretools.vscode-docker',
      ]),
    );
    const published = Object.values(config.services).flatMap((s) => (s.ports ?? []).map((p) => p.target));
    for (const port of [8080, 9229]) expect(published, `compose publishes ${port}`).toContain(port);
    expect(devcontainer.forwardPorts).toEqual(expect.arrayContaining([8080, 3000, 9229]));
    // The host's CA bundle, copied by initialize.sh before every start, reaches the
    // image builds (the ca_bundle secret) and npm inside (NODE_EXTRA_CA_CERTS).
    const copied = join(REPO_ROOT, '.tools/ca-bundle.crt');
    expect(devcontainer.initializeCommand).toBe('sh .devcontainer/initialize.sh');
    expect(config.secrets.ca_bundle!.file).toBe(copied);
    const service = config.services[devcontainer.service]!;
    const mount = service.volumes!.find((v) => v.source === copied)!;
    expect(service.environment!.NODE_EXTRA_CA_CERTS).toBe(mount.target);
    expect(devcontainer.postCreateCommand).toMatch(/^scripts\/npm-with-ca\.sh ci /);
  });

  it('attaches the debugger where the API listens, with paths that exist', () => {
    const attach = launch.configurations.find((c) => c.request === 'attach')!;
    const nodemon = JSON.parse(readFileSync(join(REPO_ROOT, 'services/api/nodemon.json'), 'utf8')) as {
      exec: string;
    };
    expect(nodemon.exec).toContain(`:${attach.port}`);
    expect(devcontainer.forwardPorts).toContain(attach.port);
    expect(existsSync(resolveWs(attach.localRoot!))).toBe(true);
    const dockerfile = readFileSync(join(REPO_ROOT, 'services/api/Dockerfile'), 'utf8');
    const devStage = dockerfile.slice(dockerfile.indexOf('AS dev'), dockerfile.indexOf('AS build'));
    expect(devStage).toContain(`WORKDIR ${attach.remoteRoot}`);
    const tests = launch.configurations.find((c) => c.request === 'launch')!;
    expect(existsSync(resolveWs(tests.program!))).toBe(true);
    expect(existsSync(resolveWs(tests.cwd!))).toBe(true);
  });
});

describe('devcontainer up', () => {
  let copy = '';
  // Its own compose project, so a developer's running stack is never touched.
  const project = 'stagecraft-e2e-devcontainer';
  const env = {
    ...composeEnv({ gateway: 18082, prometheus: 19092, inspect: 19230 }),
    COMPOSE_PROJECT_NAME: project,
    // As a developer who set nothing: the container must find the host's bundle itself.
    STAGECRAFT_CA_BUNDLE: '',
  };
  const cli = join(REPO_ROOT, 'node_modules/.bin/devcontainer');
  // Options go before the command that `exec` runs.
  const devc = (subcommand: string, ...rest: string[]) =>
    run(cli, [subcommand, '--workspace-folder', copy, ...rest], { env });

  beforeAll(() => {
    requireDocker();
    copy = copyRepository('stagecraft-devcontainer-');
    // As a developer's checkout: owned by an ordinary user. (Run as root, as CI is,
    // the CLI cannot map root's UID onto the container user; a UID-1000 owner stands in.)
    if (process.getuid!() === 0) run('chown', ['-R', '1000:1000', copy]);
    run('docker', ['compose', '-p', project, 'down', '-v', '--remove-orphans']);
    const up = devc('up');
    if (up.status !== 0) {
      throw new Error(`devcontainer up failed:\n${up.stdout.slice(-4000)}\n${up.stderr.slice(-4000)}`);
    }
    const outcome = JSON.parse(up.stdout.trim().split('\n').at(-1)!) as { composeProjectName?: string };
    expect(outcome.composeProjectName).toBe(project);
  });

  afterAll(() => {
    run('docker', ['compose', '-p', project, 'down', '-v', '--remove-orphans']);
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('has the bind-mounted repository as its workspace, both ways, files owned by the host user', () => {
    const marker = randomUUID();
    writeFileSync(join(copy, 'host-marker.txt'), marker);
    const read = devc('exec', 'cat', '/workspace/host-marker.txt');
    expect(read.stdout.trim()).toBe(marker);
    const write = devc('exec', 'sh', '-c', 'echo from-container > /workspace/container-marker.txt && id -un');
    expect(write.stdout.trim().split('\n').at(-1)).toBe('node');
    expect(readFileSync(join(copy, 'container-marker.txt'), 'utf8').trim()).toBe('from-container');
    const owner = statSync(join(copy, 'container-marker.txt')).uid;
    expect(owner, 'a file made inside belongs to the checkout owner').toBe(statSync(copy).uid);
    expect(owner).not.toBe(0);
    expect(existsSync(join(copy, 'node_modules/vitest')), 'dependencies stay in the container volume').toBe(
      false,
    );
  });

  it("lets the debugger attach where launch.json says, inside the container: the API's inspector on 127.0.0.1:9229", async () => {
    const probe =
      "fetch('http://127.0.0.1:9229/json/version').then((r) => r.json()).then((v) => console.log(v.Browser), (e) => { console.log(String(e)); process.exit(1); })";
    // nodemon may still be starting the API.
    let result = devc('exec', 'node', '-e', probe);
    for (let i = 0; i < 60 && result.status !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      result = devc('exec', 'node', '-e', probe);
    }
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/node\.js\//);
  });

  it("gives npm inside the host's system CA bundle, without being told", () => {
    const inside = devc('exec', 'sh', '-c', 'cat "$NODE_EXTRA_CA_CERTS"');
    expect(inside.status, inside.stderr).toBe(0);
    // The host's default, by the rule initialize.sh follows (scripts/ca-bundle.sh).
    const bundle = run('scripts/ca-bundle.sh', [], { env: { STAGECRAFT_CA_BUNDLE: '' } }).stdout.trim();
    expect(inside.stdout).toBe(bundle ? readFileSync(bundle, 'utf8') : '');
  });

  it('passes npm test inside the container: lint, types and every unit suite', () => {
    const result = devc('exec', 'npm', 'test');
    const output = result.stdout + result.stderr;
    expect(result.status, output.slice(-6000)).toBe(0);
    // Every file and every test passed: none failed, none was skipped.
    expect(output).toMatch(/Test Files\s+\d+ passed \(\d+\)/);
    expect(output).toMatch(/Tests\s+\d+ passed \(\d+\)/);
  });

  it('says in one line that the Docker-backed suites run on the host', () => {
    const result = devc('exec', 'npm', 'run', 'test:e2e');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      'e2e: the Docker-backed suites run on the host, not in the dev container (it has no Docker engine): run npm run test:e2e in a terminal on the host',
    );
  });
});
