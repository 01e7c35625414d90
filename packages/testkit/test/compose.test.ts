/**
 * compose, mustCompose, containerIds and composeUpWatch against a stand-in
 * `docker` (a shell script first on the PATH) that prints how it was called: the
 * arguments and folder they hand on, what they make of its answers, and how a
 * background `up --watch` is stopped. No engine is needed.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  compose,
  composeUpWatch,
  containerIds,
  mustCompose,
  type ComposeProject,
  type ComposeWatch,
} from '../src/compose.js';
import { poll } from '../src/wait.js';

const bin = mkdtempSync(join(tmpdir(), 'testkit-docker-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));
writeFileSync(
  join(bin, 'docker'),
  `#!/bin/sh
case "$*" in
  *" ps --all --format "*) printf 'api 1111\\nsidecar 2222\\n\\n' ;;
  *" fail"*) echo "some output"; echo "it broke" >&2; exit 4 ;;
  *" up --watch"*)
    printf '%s|' "$PWD" "$PROJECT_VALUE" "$@"; printf '\\n'
    # As Compose: Ctrl-C ends it, unless this stand-in is told to hang on.
    if [ "$IGNORE_INT" = 1 ]; then trap '' INT; else trap 'echo stopped by SIGINT; kill $!; exit 130' INT; fi
    echo "Watch enabled"
    # FLOOD: as a busy stack, 100,000 characters of container logs after one of Compose's own lines.
    if [ "$FLOOD" = 1 ]; then
      printf '\\033[2K\tRebuilding service "api" after changes were detected\n'
      i=0; while [ $i -lt 1000 ]; do printf '\\033[2Kapi-1      | %090d\n' $i; i=$((i + 1)); done
      echo "flooded"
    fi
    sleep 30 & wait ;;
  *) printf '%s|' "$PWD" "$PROJECT_VALUE" "$@"; printf '\\n' ;;
esac
`,
);
chmodSync(join(bin, 'docker'), 0o755);

const project: ComposeProject = {
  project: 'testkit-p',
  files: ['a.yml', 'b.yml'],
  cwd: tmpdir(),
  env: { PATH: `${bin}:${process.env.PATH}`, PROJECT_VALUE: 'v' },
};

describe('compose', () => {
  it("runs docker compose with the project's name and files, in its folder, with its environment", () => {
    const result = compose(project, 'up', '-d');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${tmpdir()}|v|compose|-p|testkit-p|-f|a.yml|-f|b.yml|up|-d|\n`);
  });

  it('reports a failure rather than throwing', () => {
    expect(compose(project, 'fail')).toMatchObject({ status: 4, stderr: 'it broke\n' });
  });
});

describe('mustCompose', () => {
  it('returns the output as printed, not trimmed', () => {
    expect(mustCompose(project, 'logs').endsWith('|logs|\n')).toBe(true);
  });

  it('throws with the status and the output when compose fails', () => {
    expect(() => mustCompose(project, 'fail')).toThrow(
      /docker compose fail exited 4\nsome output\n\nit broke/,
    );
  });
});

describe('containerIds', () => {
  it('maps each service to its container id', () => {
    expect(containerIds(project)).toEqual({ api: '1111', sidecar: '2222' });
  });
});

describe('composeUpWatch', () => {
  const watching = (watch: ComposeWatch) =>
    poll(
      'the stand-in to watch',
      async () => watch.output().includes('Watch enabled') || undefined,
      10_000,
      20,
    );

  it("runs docker compose up --watch with the project's name, files, folder and environment, and stops it with SIGINT", async () => {
    const watch = composeUpWatch(project, '--build');
    await watching(watch);
    expect(watch.output()).toContain(
      `${tmpdir()}|v|compose|-p|testkit-p|-f|a.yml|-f|b.yml|up|--watch|--build|\n`,
    );
    await watch.stop(10_000);
    expect(await watch.exited).toBe(130);
    expect(watch.output()).toContain('stopped by SIGINT');
  });

  it("keeps Compose's own lines apart from the containers' logs, which would push them out of output()", async () => {
    const watch = composeUpWatch({ ...project, env: { ...project.env, FLOOD: '1' } });
    await poll(
      'the stand-in to flood',
      async () => watch.output().includes('flooded') || undefined,
      10_000,
      20,
    );
    expect(watch.output()).not.toContain('Rebuilding service');
    expect(watch.composeLines()).toContain('Rebuilding service "api" after changes were detected');
    expect(watch.composeLines()).not.toContain('api-1');
    await watch.stop(10_000);
  });

  it('kills it when SIGINT has not stopped it within the grace period', async () => {
    const watch = composeUpWatch({ ...project, env: { ...project.env, IGNORE_INT: '1' } });
    await watching(watch);
    await watch.stop(300);
    expect(await watch.exited).toBe(-1);
    expect(watch.output()).not.toContain('stopped by SIGINT');
  });
});
