/**
 * Server-side request forgery guard: decides whether the API may open a
 * connection to an address. Pure logic, no I/O; fetch-page.ts calls it with the
 * address it is about to connect to, after DNS resolution, on every hop.
 *
 * Everything that is not a globally routable unicast address is refused:
 * loopback, private, link-local (cloud metadata lives there), CGNAT, unique-local,
 * multicast, unspecified, documentation, benchmarking and reserved ranges, plus
 * IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4), which
 * are judged by the IPv4 address they carry.
 */
import { BlockList, isIP } from 'node:net';

const IPV4_RANGES: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'cgnat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // includes 255.255.255.255 broadcast
];

const IPV6_RANGES: [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'reserved'], // IPv4-compatible forms too short to carry an address
  ['::ffff:0:0:0', 96, 'reserved'], // IPv4-translated (RFC 2765)
  ['100::', 64, 'discard'],
  ['2001::', 23, 'reserved'], // IETF protocol assignments (Teredo, ORCHID, ...)
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

function rangeList(ranges: [string, number, string][], family: 'ipv4' | 'ipv6'): [BlockList, string][] {
  return ranges.map(([network, prefix, name]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, family);
    return [list, name];
  });
}

const V4 = rangeList(IPV4_RANGES, 'ipv4');
const V6 = rangeList(IPV6_RANGES, 'ipv6');

/** Expands an IPv6 address to its 8 groups of 16 bits. */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // A trailing dotted quad counts as two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, dotted.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  return [...headGroups, ...Array<string>(fill).fill('0'), ...tailGroups].map((g) => parseInt(g, 16));
}

/** The IPv4 address an IPv6 address carries, for the forms that route to one. */
function embeddedIpv4(groups: number[]): string | null {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const v4 = (hi: number, lo: number): string => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroPrefix && (g5 === 0xffff || g5 === 0) && !(g5 === 0 && g6 === 0)) return v4(g6, g7); // mapped, compatible
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4(g6, g7); // NAT64
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return v4(g6, g7); // local-use NAT64 (RFC 8215)
  if (g0 === 0x2002) return v4(g1, g2); // 6to4
  return null;
}

/**
 * Why an address must not be connected to ("loopback", "private", ...), or null
 * when it is a public unicast address.
 */
export function blockedRange(address: string): string | null {
  const family = isIP(address);
  if (family === 4) {
    for (const [list, name] of V4) if (list.check(address, 'ipv4')) return name;
    return null;
  }
  if (family === 6) {
    const groups = ipv6Groups(address);
    const v4 = embeddedIpv4(groups);
    if (v4 !== null) {
      const inner = blockedRange(v4);
      return inner === null ? null : `${inner} (embedded in IPv6)`;
    }
    const normal = groups.map((g) => g.toString(16)).join(':');
    for (const [list, name] of V6) if (list.check(normal, 'ipv6')) return name;
    return null;
  }
  return 'not an IP address';
}

/** FETCH_ALLOW_HOSTS: host names, addresses and CIDR ranges exempt from the guard. */
export class AllowList {
  private readonly names = new Set<string>();
  private readonly addresses = new BlockList();
  private empty = true;

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase();
      if (entry === '') continue;
      this.empty = false;
      const slash = entry.indexOf('/');
      const bare = entry.startsWith('[') && entry.endsWith(']') ? entry.slice(1, -1) : entry;
      if (slash >= 0) {
        const network = entry.slice(0, slash);
        const family = isIP(network) === 6 ? 'ipv6' : 'ipv4';
        this.addresses.addSubnet(network, Number(entry.slice(slash + 1)), family);
      } else if (isIP(bare) !== 0) {
        this.addresses.addAddress(bare, isIP(bare) === 6 ? 'ipv6' : 'ipv4');
      } else {
        this.names.add(entry.endsWith('.') ? entry.slice(0, -1) : entry);
      }
    }
  }

  allows(hostname: string, address: string): boolean {
    if (this.empty) return false;
    const name = hostname.toLowerCase().replace(/\.$/, '');
    if (this.names.has(name)) return true;
    const family = isIP(address);
    return family !== 0 && this.addresses.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}

export class ForbiddenDestinationError extends Error {
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(`destination ${hostname} resolves to ${address}, a ${range} address`);
    this.name = 'ForbiddenDestinationError';
  }
}

export class SsrfGuard {
  constructor(private readonly allowList: AllowList) {}

  /** Throws ForbiddenDestinationError unless `address` (what `hostname` resolved to) may be connected to. */
  check(hostname: string, address: string): void {
    const range = blockedRange(address);
    if (range !== null && !this.allowList.allows(hostname, address)) {
      throw new ForbiddenDestinationError(hostname, address, range);
    }
  }
}
