/**
 * ownAddress: a network alias becomes this container's own address among those
 * the name resolves to (Swarm: every replica's); addresses pass through. The
 * resolver and the interface list are injected: no DNS is asked.
 */
import { describe, expect, it } from 'vitest';
import { localAddresses, ownAddress } from '../src/own-address.js';

const local = () => new Set(['127.0.0.1', '10.0.3.7', '10.0.4.9']);

describe('ownAddress', () => {
  it('keeps addresses and wildcards as they are', async () => {
    for (const host of ['0.0.0.0', '::', '10.9.9.9', '127.0.0.1'])
      expect(await ownAddress(host, { resolve: () => Promise.reject(new Error('not asked')), local })).toBe(
        host,
      );
  });

  it("picks this container's address among every replica's", async () => {
    const resolve = async () => ['10.0.3.5', '10.0.3.7', '10.0.3.6'];
    expect(await ownAddress('sidecar-edge', { resolve, local })).toBe('10.0.3.7');
  });

  it('gives null when the name never names an own address, after waiting', async () => {
    const started = Date.now();
    const resolve = async () => ['10.0.3.5'];
    expect(await ownAddress('sidecar-edge', { resolve, local, waitMs: 300 })).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('waits for a name that resolves late', async () => {
    let calls = 0;
    const resolve = async () => {
      calls++;
      if (calls < 3) throw Object.assign(new Error('not yet'), { code: 'ENOTFOUND' });
      return ['10.0.4.9'];
    };
    expect(await ownAddress('sidecar-metrics', { resolve, local, waitMs: 5_000 })).toBe('10.0.4.9');
    expect(calls).toBe(3);
  });

  it('names the own address inside a CIDR range, without DNS', async () => {
    const resolve = () => Promise.reject(new Error('not asked'));
    expect(await ownAddress('10.0.4.0/24', { resolve, local })).toBe('10.0.4.9');
    expect(await ownAddress('10.0.5.0/24', { resolve, local })).toBeNull();
  });

  it('knows the loopback address as its own', () => {
    expect(localAddresses().has('127.0.0.1')).toBe(true);
  });
});
