/**
 * ./stagecraft, the README's two commands, without Docker: stand-in `docker`,
 * `sudo`, `apt-get`, `uname` and `node` commands first on PATH play the machine.
 * Where something must be installed and cannot be (macOS, no root and no sudo),
 * it stops with one last line "stagecraft: missing: ..." and installs nothing;
 * with an engine answering, `up` says what it does, one line a step, hands the
 * build the CA bundle and passes its options to `docker compose up --build`, the
 * same on a second run. Run as an ordinary user (nobody, when the tests run as root).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let work = '';
const log = () => join(work, 'calls.log');
const calls = () => (existsSync(log()) ? readFileSync(log(), 'utf8') : '');

function fake(name: string, script: string) {
  writeFileSync(join(work, 'bin', name), `#!/bin/sh\n${script}\n`);
  chmodSync(join(work, 'bin', name), 0o755);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'stagecraft-entry-'));
  spawnSync('mkdir', ['-p', join(work, 'bin')]);
  chmodSync(work, 0o777);
  fake(
    'docker',
    `[ -n "$FAKE_ENGINE" ] || { echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock" >&2; exit 1; }
case "$1" in
  version) echo 26.1.5 ;;
  compose) if [ "$2" = version ]; then echo "Docker Compose version 2.26.1"; else echo "docker $* CA=$STAGECRAFT_CA_BUNDLE" >>"$FAKE_LOG"; fi ;;
  buildx) echo "github.com/docker/buildx 0.13.1" ;;
  image) ;;
  *) echo "unexpected: docker $*" >>"$FAKE_LOG"; exit 1 ;;
esac`,
  );
  fake('sudo', 'echo "sudo $*" >>"$FAKE_LOG"; echo "sudo: a password is required" >&2; exit 1');
  fake('apt-get', 'echo "apt-get $*" >>"$FAKE_LOG"; exit 1');
  fake(
    'uname',
    'case "$1" in -s) echo "$FAKE_SYSTEM" ;; -m) echo "$FAKE_MACHINE" ;; *) echo "$FAKE_SYSTEM" ;; esac',
  );
  fake('node', 'echo v20.19.0');
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** ./stagecraft as an ordinary user on the machine the environment describes. */
function stagecraft(args: string[], machine: Record<string, string>) {
  rmSync(log(), { force: true });
  const root = process.getuid?.() === 0;
  const result = spawnSync(join(REPO_ROOT, 'stagecraft'), args, {
    cwd: work,
    encoding: 'utf8',
    ...(root ? { uid: 65534, gid: 65534 } : {}),
    env: {
      PATH: `${join(work, 'bin')}:${process.env.PATH}`,
      HOME: work,
      FAKE_LOG: log(),
      FAKE_SYSTEM: 'Linux',
      FAKE_MACHINE: 'x86_64',
      FAKE_ENGINE: '',
      STAGECRAFT_CA_BUNDLE: '',
      ...machine,
    },
  });
  const lines = result.stderr.trim().split('\n');
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, last: lines.at(-1) };
}

describe('./stagecraft help', () => {
  it('lists the commands; an unknown one gets the same list and exit 2', () => {
    const help = stagecraft(['help'], {});
    expect(help.status).toBe(0);
    expect(
      help.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
    ).toEqual(['./stagecraft up', './stagecraft test', './stagecraft help']);
    const unknown = stagecraft(['deploy'], {});
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe(help.stdout);
  });
});

describe('where something is missing and cannot be installed here', () => {
  it('up on macOS with no engine answering names Docker Desktop, in one last line', () => {
    const result = stagecraft(['up'], { FAKE_SYSTEM: 'Darwin', FAKE_MACHINE: 'arm64' });
    expect(result.status).toBe(1);
    expect(result.last).toBe(
      'stagecraft: missing: a running Docker engine with Compose v2 and Buildx (Docker Desktop on macOS and Windows; ./stagecraft installs one only on Debian-like Linux)',
    );
    expect(calls()).toBe('');
  });

  it('up on Debian with no engine, as a user sudo refuses, says installing needs root, and installs nothing', () => {
    const result = stagecraft(['up', '-d'], {});
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'stagecraft: scripts/docker/ensure-engine.sh needs root: running it with sudo',
    );
    expect(result.last).toBe(
      'stagecraft: missing: a Docker engine with Compose v2 and Buildx: installing one needs root (run as root, or as a user sudo lets install it)',
    );
    expect(calls()).toBe('sudo scripts/docker/ensure-engine.sh\n');
  });

  it('test on macOS without Node.js 24 names it, in one last line, before anything else', () => {
    const result = stagecraft(['test'], { FAKE_SYSTEM: 'Darwin', FAKE_MACHINE: 'arm64', FAKE_ENGINE: '1' });
    expect(result.status).toBe(1);
    expect(result.last).toBe(
      'stagecraft: missing: Node.js 24 and npm on PATH (scripts/install-node.sh fetches them for Linux x64 only)',
    );
    expect(calls()).toBe('');
  });
});

describe('./stagecraft up with an engine answering', () => {
  it('says each step, hands the image builds the CA bundle, passes its options to docker compose up --build; the same again', () => {
    const system = '/etc/ssl/certs/ca-certificates.crt';
    const bundle = existsSync(system) && statSync(system).size > 0 ? system : '';
    for (const _ of [1, 2]) {
      const result = stagecraft(['up', '-d', '--wait'], { FAKE_ENGINE: '1' });
      expect(result.status, result.stderr).toBe(0);
      for (const line of result.stderr.trim().split('\n')) expect(line).toMatch(/^(stagecraft|stand-ins): /);
      expect(result.stderr).toContain('stagecraft: docker: engine 26.1.5 with compose and buildx answers');
      // QEMU for the arm64 tests is `test`'s business only (scripts/docker/ensure-arm64.sh).
      expect(result.stderr).not.toContain('ensure-arm64');
      expect(result.last).toBe(
        'stagecraft: starting the development stack: docker compose up --build -d --wait',
      );
      expect(calls()).toBe(`docker compose up --build -d --wait CA=${bundle}\n`);
    }
  });
});
