/** run, sh and their asynchronous twins, on small shell commands. */
import { describe, expect, it } from 'vitest';
import { run, runAsync, sh, shAsync } from '../src/command.js';
import { REPO_ROOT } from '../src/repository.js';

const ESC = String.fromCharCode(27);
const script = `printf '${ESC}[31mred${ESC}[0m out'; printf 'err' >&2; exit 3`;

describe('run and runAsync', () => {
  it('report the exit status and the output, colour codes removed', async () => {
    const expected = { status: 3, stdout: 'red out', stderr: 'err' };
    expect(run('sh', ['-c', script])).toEqual(expected);
    expect(await runAsync('sh', ['-c', script])).toEqual(expected);
  });

  it('start in the repository root, with the environment given and BuildKit on', async () => {
    const env = { TEST_VALUE: 'given' };
    const show = ['-c', 'printf "%s %s %s" "$PWD" "$TEST_VALUE" "$DOCKER_BUILDKIT"'];
    const expected = `${REPO_ROOT.replace(/\/$/, '')} given 1`;
    expect(run('sh', show, { env }).stdout).toBe(expected);
    expect((await runAsync('sh', show, { env })).stdout).toBe(expected);
  });

  it('run feeds its input to the command', () => {
    expect(run('cat', [], { input: 'fed' }).stdout).toBe('fed');
  });

  it('throw or reject when the command cannot start', async () => {
    expect(() => run('no-such-command-stagecraft', [])).toThrow(/ENOENT/);
    await expect(runAsync('no-such-command-stagecraft', [])).rejects.toThrow(/ENOENT/);
  });
});

describe('sh and shAsync', () => {
  it('return the trimmed output of a command that exits 0', async () => {
    expect(sh('sh', ['-c', 'echo "  hi  "'])).toBe('hi');
    expect(await shAsync('sh', ['-c', 'echo "  hi  "'])).toBe('hi');
  });

  it('throw with the command, its status and its output otherwise', async () => {
    const message = /sh -c .* exited 3\nred out\nerr/;
    expect(() => sh('sh', ['-c', script])).toThrow(message);
    await expect(shAsync('sh', ['-c', script])).rejects.toThrow(message);
  });
});
