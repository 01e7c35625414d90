import { describe, expect, it } from 'vitest';
import { AllowList, ForbiddenDestinationError, SsrfGuard, blockedRange } from '../../src/fetch/ssrf-guard.js';

describe('blockedRange', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'], // cloud metadata
    ['100.64.0.1', 'cgnat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fd00::1', 'unique-local'],
    ['fc12:3456::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['fd00:ec2::254', 'unique-local'], // AWS IMDS over IPv6
    ['::ffff:127.0.0.1', 'loopback (embedded in IPv6)'],
    ['::ffff:7f00:1', 'loopback (embedded in IPv6)'],
    ['::ffff:169.254.169.254', 'link-local (embedded in IPv6)'],
    ['::127.0.0.1', 'loopback (embedded in IPv6)'],
    ['64:ff9b::a00:1', 'private (embedded in IPv6)'],
    ['2002:c0a8:101::1', 'private (embedded in IPv6)'],
    ['2001:db8::1', 'documentation'],
    ['not-an-ip', 'not an IP address'],
  ])('%s is refused (%s)', (address, range) => {
    expect(blockedRange(address)).toBe(range);
  });

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '1.1.1.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '2002:808:808::1',
  ])('%s is public', (address) => {
    expect(blockedRange(address)).toBeNull();
  });
});

describe('SsrfGuard with an allow-list', () => {
  const guard = new SsrfGuard(new AllowList(['fixtures.internal', '127.0.0.1', '10.9.0.0/16', '[::1]']));

  it('lets allow-listed names, addresses and ranges through', () => {
    expect(() => guard.check('fixtures.internal', '10.0.0.7')).not.toThrow();
    expect(() => guard.check('FIXTURES.internal.', '10.0.0.7')).not.toThrow();
    expect(() => guard.check('127.0.0.1', '127.0.0.1')).not.toThrow();
    expect(() => guard.check('anything', '10.9.200.1')).not.toThrow();
    expect(() => guard.check('::1', '::1')).not.toThrow();
  });

  it('refuses the rest, naming the range', () => {
    expect(() => guard.check('127.0.0.2', '127.0.0.2')).toThrow(ForbiddenDestinationError);
    expect(() => guard.check('evil.example', '10.8.0.1')).toThrow(/private/);
    expect(() => guard.check('metadata', '169.254.169.254')).toThrow(/link-local/);
  });

  it('is empty by default', () => {
    const strict = new SsrfGuard(new AllowList([]));
    expect(() => strict.check('localhost', '127.0.0.1')).toThrow(/loopback/);
    expect(() => strict.check('example.org', '93.184.215.14')).not.toThrow();
  });
});
