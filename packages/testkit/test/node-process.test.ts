/** startNodeProcess with small node -e programs: ready on a line, the stderr tail, exits before ready, stop. */
import { describe, expect, it } from 'vitest';
import { startNodeProcess } from '../src/node-process.js';

describe('startNodeProcess', () => {
  it('resolves once its output matches, with the match, its environment and its stderr', async () => {
    const program = `
      console.error('warming up');
      setTimeout(() => console.log('listening on ' + process.env.TEST_PORT), 100);
      setInterval(() => console.log('x'.repeat(1000)), 1);`; // keeps writing: a full pipe would stall it
    const started = await startNodeProcess(['-e', program], {
      env: { TEST_PORT: '4321' },
      ready: /on (\d+)/,
    });
    expect(started.ready[1]).toBe('4321');
    await new Promise((r) => setTimeout(r, 300));
    expect(started.stderr()).toContain('warming up');
    expect(started.child.exitCode).toBeNull();
    await started.stop();
    expect(await started.exited).toBeNull(); // ended by SIGKILL
    expect(started.child.signalCode).toBe('SIGKILL');
  });

  it('rejects with the exit code and stderr when it exits before it is ready', async () => {
    await expect(
      startNodeProcess(['-e', "console.error('bad config'); process.exit(78)"], { ready: /never/ }),
    ).rejects.toThrow(/exited with 78 before it was ready: bad config/);
  });

  it('keeps only the end of a long stderr', async () => {
    const started = await startNodeProcess(
      ['-e', "process.stderr.write('a'.repeat(20000) + 'END'); console.log('ready')"],
      { ready: /ready/ },
    );
    await started.exited;
    expect(started.stderr()).toHaveLength(8000);
    expect(started.stderr().endsWith('END')).toBe(true);
    await started.stop(); // already exited: nothing to kill
  });
});
