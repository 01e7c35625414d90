/** poll: the first value, errors counted as not yet, and a timeout that names what it waited for. */
import { describe, expect, it } from 'vitest';
import { poll } from '../src/wait.js';

describe('poll', () => {
  it('returns the first value other than undefined, trying again after errors', async () => {
    let calls = 0;
    const value = await poll(
      'the third call',
      async () => {
        calls++;
        if (calls === 1) throw new Error('not up yet');
        return calls === 3 ? 'up' : undefined;
      },
      5_000,
      10,
    );
    expect(value).toBe('up');
    expect(calls).toBe(3);
  });

  it('throws after the timeout, naming what it waited for and the last error', async () => {
    const started = Date.now();
    await expect(
      poll(
        'the gateway',
        async () => {
          throw new Error('ECONNREFUSED');
        },
        200,
        20,
      ),
    ).rejects.toThrow('timed out waiting for the gateway: Error: ECONNREFUSED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });
});
