/**
 * The SSRF guard as pure logic: which addresses are blocked, how FETCH_ALLOW_HOSTS
 * entries parse and what each exempts (names, addresses, ranges, ports), and the
 * WHATWG bad ports. No I/O at all.
 */
import { describe, expect, it } from 'vitest';
import {
  AllowList,
  AllowEntryError,
  BAD_PORTS,
  ForbiddenDestinationError,
  SsrfGuard,
  blockedRange,
  parseAllowEntry,
} from '../../src/fetch/ssrf-guard.js';

describe('blockedRange', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'metadata'], // AWS, GCP, Azure, ...
    ['169.254.170.2', 'metadata'], // AWS ECS task credentials
    ['169.254.1.1', 'link-local'],
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
    ['fd00:ec2::254', 'metadata'], // AWS IMDS over IPv6
    ['fd00:ec2::253', 'unique-local'],
    ['100.100.100.200', 'metadata'], // Alibaba Cloud
    ['168.63.129.16', 'metadata'], // Azure WireServer, in public space
    ['::ffff:168.63.129.16', 'metadata (embedded in IPv6)'],
    ['::ffff:127.0.0.1', 'loopback (embedded in IPv6)'],
    ['::ffff:7f00:1', 'loopback (embedded in IPv6)'],
    ['::ffff:169.254.169.254', 'metadata (embedded in IPv6)'],
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
    expect(() => guard.check('fixtures.internal', '10.0.0.7', 80)).not.toThrow();
    expect(() => guard.check('FIXTURES.internal.', '10.0.0.7', 80)).not.toThrow();
    expect(() => guard.check('127.0.0.1', '127.0.0.1', 8080)).not.toThrow();
    expect(() => guard.check('anything', '10.9.200.1', 443)).not.toThrow();
    expect(() => guard.check('::1', '::1', 80)).not.toThrow();
  });

  it('refuses the rest, naming the range (for the log)', () => {
    expect(() => guard.check('127.0.0.2', '127.0.0.2', 80)).toThrow(ForbiddenDestinationError);
    expect(() => guard.check('evil.example', '10.8.0.1', 80)).toThrow(/private/);
    expect(() => guard.check('metadata', '169.254.169.254', 80)).toThrow(/metadata/);
    expect(() => guard.check('link', '169.254.1.1', 80)).toThrow(/link-local/);
  });

  it('is empty by default', () => {
    const strict = new SsrfGuard(new AllowList([]));
    expect(() => strict.check('localhost', '127.0.0.1', 80)).toThrow(/loopback/);
    expect(() => strict.check('example.org', '93.184.215.14', 80)).not.toThrow();
  });
});

describe('a name entry trusts that DNS name for private addresses only', () => {
  const guard = new SsrfGuard(new AllowList(['fixtures.internal']));

  it.each([
    ['loopback', '127.0.0.1'],
    ['IPv6 loopback', '::1'],
    ['link-local (cloud metadata)', '169.254.169.254'],
    ['AWS IPv6 metadata', 'fd00:ec2::254'],
    ['Alibaba metadata', '100.100.100.200'],
    ['unspecified', '0.0.0.0'],
    ['IPv4-mapped private', '::ffff:10.0.0.7'],
  ])('a rebound answer to a %s address is refused even for the allowed name', (_range, address) => {
    expect(() => guard.check('fixtures.internal', address, 80)).toThrow(ForbiddenDestinationError);
  });

  it.each(['10.0.0.7', '172.18.0.3', '192.168.1.9', '100.64.0.2', 'fd12::3'])(
    'reaches %s, where a stack keeps its services',
    (address) => {
      expect(() => guard.check('fixtures.internal', address, 8000)).not.toThrow();
    },
  );

  it('matches the name exactly, not its subdomains or look-alikes', () => {
    expect(() => guard.check('x.fixtures.internal', '10.0.0.7', 80)).toThrow(ForbiddenDestinationError);
    expect(() => guard.check('fixtures.internal.evil', '10.0.0.7', 80)).toThrow(ForbiddenDestinationError);
  });
});

describe('allow-list ports', () => {
  it('an entry with a port covers that port only', () => {
    const guard = new SsrfGuard(
      new AllowList(['fixtures:8000', '10.1.0.0/16:8080', '[fd00::1]:8443', '127.0.0.1:9000']),
    );
    expect(() => guard.check('fixtures', '10.0.0.7', 8000)).not.toThrow();
    expect(() => guard.check('fixtures', '10.0.0.7', 8001)).toThrow(ForbiddenDestinationError);
    expect(() => guard.check('anything', '10.1.2.3', 8080)).not.toThrow();
    expect(() => guard.check('anything', '10.1.2.3', 80)).toThrow(ForbiddenDestinationError);
    expect(() => guard.check('fd00::1', 'fd00::1', 8443)).not.toThrow();
    expect(() => guard.check('fd00::1', 'fd00::1', 443)).toThrow(ForbiddenDestinationError);
    expect(() => guard.check('127.0.0.1', '127.0.0.1', 9000)).not.toThrow();
    expect(() => guard.check('127.0.0.1', '127.0.0.1', 9001)).toThrow(ForbiddenDestinationError);
  });

  it('an entry without a port covers every port but the bad ones', () => {
    const guard = new SsrfGuard(new AllowList(['127.0.0.1']));
    expect(() => guard.check('127.0.0.1', '127.0.0.1', 65535)).not.toThrow();
    expect(() => guard.check('127.0.0.1', '127.0.0.1', 25)).toThrow(/bad port/);
    expect(() => guard.checkPort('127.0.0.1', 25)).toThrow(ForbiddenDestinationError);
  });

  it.each([1, 21, 22, 25, 53, 110, 143, 587, 2049, 6667, 10080, 0])(
    'refuses bad port %i on a public address, before DNS',
    (port) => {
      const guard = new SsrfGuard(new AllowList([]));
      expect(() => guard.checkPort('example.org', port)).toThrow(/bad port/);
      expect(() => guard.check('example.org', '93.184.215.14', port)).toThrow(/bad port/);
    },
  );

  it('reaches a bad port only through an entry that names that host and port', () => {
    const guard = new SsrfGuard(new AllowList(['mail.example:25', '10.0.0.0/8:6667']));
    expect(() => guard.checkPort('mail.example', 25)).not.toThrow();
    expect(() => guard.check('mail.example', '93.184.215.14', 25)).not.toThrow();
    expect(() => guard.checkPort('other.example', 25)).toThrow(/bad port/);
    expect(() => guard.check('other.example', '93.184.215.14', 25)).toThrow(/bad port/);
    expect(() => guard.check('irc', '10.2.3.4', 6667)).not.toThrow();
    expect(() => guard.check('irc', '11.2.3.4', 6667)).toThrow(/bad port/);
  });

  it("is the WHATWG Fetch standard's bad-port list (plus 0)", () => {
    // prettier-ignore
    const spec = [1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102,
      103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514,
      515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049,
      3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080];
    expect([...BAD_PORTS].sort((a, b) => a - b)).toEqual([0, ...spec]);
  });
});

describe('allow-list ranges and metadata addresses', () => {
  it.each([
    ['169.254.0.0/16', '169.254.169.254', '169.254.1.1'],
    ['100.64.0.0/10', '100.100.100.200', '100.64.0.9'],
    ['fd00::/8', 'fd00:ec2::254', 'fd00:ec2::253'],
  ])('a range (%s) never exempts the metadata address %s inside it', (range, metadata, neighbour) => {
    const guard = new SsrfGuard(new AllowList([range]));
    expect(() => guard.check('x', neighbour, 80)).not.toThrow();
    expect(() => guard.check('x', metadata, 80)).toThrow(/metadata/);
  });

  it('an entry that is the metadata address alone exempts it', () => {
    const guard = new SsrfGuard(new AllowList(['169.254.169.254:80']));
    expect(() => guard.check('169.254.169.254', '169.254.169.254', 80)).not.toThrow();
  });
});

describe('allow-list ranges by family', () => {
  it('an IPv6 range never matches an IPv4 address', () => {
    const guard = new SsrfGuard(new AllowList(['fc00::/7']));
    expect(() => guard.check('x', 'fd00::5', 80)).not.toThrow();
    expect(() => guard.check('x', '10.0.0.1', 80)).toThrow(ForbiddenDestinationError);
    expect(() => guard.check('x', '169.254.169.254', 80)).toThrow(ForbiddenDestinationError);
  });

  it('an IPv4 entry does not match the IPv6 spelling of its address', () => {
    const guard = new SsrfGuard(new AllowList(['10.0.0.0/8']));
    expect(() => guard.check('x', '10.0.0.1', 80)).not.toThrow();
    expect(() => guard.check('x', '::ffff:10.0.0.1', 80)).toThrow(ForbiddenDestinationError);
  });
});

describe('parseAllowEntry', () => {
  it.each([
    ['fixtures', { kind: 'name', name: 'fixtures' }],
    ['Fixtures.Internal.', { kind: 'name', name: 'fixtures.internal' }],
    ['fixtures:8000', { kind: 'name', name: 'fixtures', port: 8000 }],
    ['\uff26\uff29\uff38\uff34\uff35\uff32\uff25\uff33', { kind: 'name', name: 'fixtures' }], // full-width, as WHATWG maps it
    ['b\u00fccher.example', { kind: 'name', name: 'xn--bcher-kva.example' }],
    ['127.0.0.1', { kind: 'range', family: 4, prefix: 32 }],
    ['127.1', { kind: 'range', family: 4, prefix: 32 }], // the address a URL with host 127.1 connects to
    ['1.2.3.4:8080', { kind: 'range', family: 4, prefix: 32, port: 8080 }],
    ['10.0.0.0/8', { kind: 'range', family: 4, prefix: 8 }],
    ['10.0.0.0/8:8080', { kind: 'range', family: 4, prefix: 8, port: 8080 }],
    ['fd00::/8', { kind: 'range', family: 6, prefix: 8 }],
    ['fc00::/7', { kind: 'range', family: 6, prefix: 7 }],
    ['[::1]', { kind: 'range', family: 6, prefix: 128 }],
    ['::1', { kind: 'range', family: 6, prefix: 128 }],
    ['[fd00::1]:8443', { kind: 'range', family: 6, prefix: 128, port: 8443 }],
    ['[fd00::/16]:8443', { kind: 'range', family: 6, prefix: 16, port: 8443 }],
  ])('reads %j', (entry, parsed) => {
    expect(parseAllowEntry(entry)).toMatchObject(parsed);
  });

  it('keeps the network of a range whose host bits are set', () => {
    const guard = new SsrfGuard(new AllowList(['10.1.2.3/16']));
    expect(() => guard.check('x', '10.1.200.200', 80)).not.toThrow();
    expect(() => guard.check('x', '10.2.0.1', 80)).toThrow(ForbiddenDestinationError);
  });

  it.each([
    ['0.0.0.0/0', /too much/],
    ['::/0', /too much/],
    ['0.0.0.0/1', /too much/],
    ['8.0.0.0/7', /too much/],
    ['[::/0]:80', /too much/],
    ['8000::/1', /too much/],
    ['::ffff:0:0/96', /IPv4/],
    ['::ffff:127.0.0.1', /IPv4/],
    ['[::ffff:a9fe:a9fe]:80', /IPv4/],
    ['::/8', /IPv4/],
    ['::/64', /IPv4/],
    ['::a00:1', /IPv4/], // IPv4-compatible 10.0.0.1
    ['64:ff9b::/96', /IPv4/],
    ['64:ff9b:1::/48', /IPv4/],
    ['2002::/16', /IPv4/],
    ['2002:a9fe:a9fe::/48', /IPv4/],
    ['10.0.0.0/33', /prefix length/],
    ['fe80::1%eth0', /zone/],
    ['fixtures:0', /port/],
    ['fixtures:65536', /port/],
    ['fixtures:http', /port/],
    ['[fd00::1]x', /:port/],
    ['[fixtures]:80', /IPv6/],
    ['exa mple.com', /not a host name/],
    ['http://x/', /not a host name|port/],
    ['user@host', /not a host name/],
    ['a%2eb', /not a host name/],
  ])('refuses %j', (entry, reason) => {
    expect(() => parseAllowEntry(entry)).toThrow(AllowEntryError);
    expect(() => parseAllowEntry(entry)).toThrow(reason);
  });
});
