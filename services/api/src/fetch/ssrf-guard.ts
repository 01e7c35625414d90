/**
 * Server-side request forgery guard: decides whether the API may open a
 * connection to an address and port. Pure logic, no I/O; fetch-page.ts calls it
 * before DNS (the port) and with the address it is about to connect to, after DNS
 * resolution, on every hop.
 *
 * Everything that is not a globally routable unicast address is refused:
 * loopback, private, link-local (cloud metadata lives there), CGNAT, unique-local,
 * multicast, unspecified, documentation, benchmarking and reserved ranges, cloud
 * metadata addresses outside those, plus IPv6 forms that embed an IPv4 address
 * (mapped, compatible, NAT64, 6to4), which are judged by the IPv4 address they
 * carry. The WHATWG Fetch standard's bad ports are refused whatever the address.
 * FETCH_ALLOW_HOSTS exempts destinations (AllowList below says exactly how).
 */
import { BlockList, isIP } from 'node:net';

// First match names the range, so single metadata addresses come before the
// ranges that contain them.
const IPV4_RANGES: [string, number, string][] = [
  ['169.254.169.254', 32, 'metadata'], // AWS, GCP, Azure, OpenStack, ...
  ['169.254.170.2', 32, 'metadata'], // AWS ECS task credentials
  ['100.100.100.200', 32, 'metadata'], // Alibaba Cloud
  ['168.63.129.16', 32, 'metadata'], // Azure WireServer: a public address, reachable only from inside Azure
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
  ['fd00:ec2::254', 128, 'metadata'], // AWS IMDS over IPv6
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

/**
 * The WHATWG Fetch standard's "bad ports" (https://fetch.spec.whatwg.org/#bad-port):
 * ports of protocols that read a request line as commands (SMTP, FTP, IRC, SIP,
 * ...), which a fetch must not be usable to talk to. Port 0 is added: nothing
 * listens there, and a URL naming it is a probe.
 */
export const BAD_PORTS: ReadonlySet<number> = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104,
  109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515,
  526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049,
  3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/**
 * The blocked ranges a host-name entry may reach: where a stack's own services
 * live (Docker and Kubernetes networks, VPCs). Never loopback, link-local, cloud
 * metadata, or an IPv4 address embedded in IPv6: whoever controls the name's DNS
 * answers would otherwise decide what the API connects to, and one rebound
 * record would reach the host itself or its credentials. Those need an address
 * entry, which is a decision about an address rather than about a DNS name.
 */
const NAME_REACHABLE_RANGES: ReadonlySet<string> = new Set(['private', 'cgnat', 'unique-local']);

/**
 * The shortest prefix an allow-list range may have, per family: no entry may
 * cover more than the largest special-purpose block does (10.0.0.0/8, fc00::/7),
 * so a typo or a catch-all (0.0.0.0/0, ::/0) cannot switch the guard off.
 */
const MIN_PREFIX = { 4: 8, 6: 7 } as const;

/**
 * IPv6 space whose addresses blockedRange judges by an IPv4 address they carry
 * (mapped, NAT64, 6to4; compatible below). An IPv6 entry overlapping it would
 * exempt IPv4 destinations through their IPv6 spelling ([::ffff:169.254.169.254]):
 * such entries are refused, and IPv4 destinations are allowed by IPv4 entries only.
 */
const EMBEDDING_V6: [string, number][] = [
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['2002::', 16],
];

const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** One FETCH_ALLOW_HOSTS entry. Without a port it covers every port but the bad ones. */
export type AllowEntry =
  | { kind: 'name'; name: string; port?: number }
  | { kind: 'range'; family: 4 | 6; network: Uint8Array; prefix: number; port?: number };

/** Why an allow-list entry cannot be used; config.ts turns it into a ConfigError. */
export class AllowEntryError extends Error {
  constructor(entry: string, reason: string) {
    super(`${JSON.stringify(entry)} ${reason}`);
    this.name = 'AllowEntryError';
  }
}

/** The bytes of an IP address (4 or 16), or null when it is not one. */
function addressBytes(address: string): Uint8Array | null {
  const family = isIP(address);
  if (family === 4) return Uint8Array.from(address.split('.').map(Number));
  if (family !== 6) return null;
  const bytes = new Uint8Array(16);
  ipv6Groups(address).forEach((group, i) => {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  });
  return bytes;
}

/** True when the first `bits` bits of `a` and `b` are equal. */
function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const mask = 0x80 >> (i % 8);
    if ((a[i >> 3]! & mask) !== (b[i >> 3]! & mask)) return false;
  }
  return true;
}

function overlaps(network: Uint8Array, prefix: number, other: string, otherPrefix: number): boolean {
  return samePrefix(network, addressBytes(other)!, Math.min(prefix, otherPrefix));
}

/** True when the IPv6 range carries IPv4 addresses in any form blockedRange unwraps. */
function embedsIpv4(network: Uint8Array, prefix: number): boolean {
  if (EMBEDDING_V6.some(([space, bits]) => overlaps(network, prefix, space, bits))) return true;
  // IPv4-compatible ::a.b.c.d, except ::0.0.x.x (which holds ::1 and ::).
  const compatible = overlaps(network, prefix, '::', 96);
  const withinLow = prefix >= 112 && samePrefix(network, addressBytes('::')!, 112);
  return compatible && !withinLow;
}

function parsePort(entry: string, text: string): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65_535)
    throw new AllowEntryError(entry, `has port ${JSON.stringify(text)}, not one from 1 to 65535`);
  return port;
}

function parseRange(entry: string, host: string, port: number | undefined): AllowEntry {
  const slash = host.indexOf('/');
  const address = slash >= 0 ? host.slice(0, slash) : host;
  const family = isIP(address) as 0 | 4 | 6;
  if (family === 0 || address.includes('%'))
    throw new AllowEntryError(entry, 'is not an IP address or CIDR range (zone ids are not allowed)');
  const bits = slash >= 0 ? host.slice(slash + 1) : String(family === 4 ? 32 : 128);
  const prefix = Number(bits);
  if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128))
    throw new AllowEntryError(
      entry,
      `has prefix length ${JSON.stringify(bits)}, not one from 0 to ${family === 4 ? 32 : 128}`,
    );
  if (prefix < MIN_PREFIX[family])
    throw new AllowEntryError(
      entry,
      `covers too much: the shortest prefix allowed is /${MIN_PREFIX[family]} for IPv${family}`,
    );
  const network = addressBytes(address)!;
  // Host bits are cleared, so 10.1.2.3/8 means 10.0.0.0/8.
  for (let i = prefix; i < network.length * 8; i++) network[i >> 3]! &= ~(0x80 >> (i % 8));
  if (family === 6 && embedsIpv4(network, prefix))
    throw new AllowEntryError(
      entry,
      'covers IPv6 forms of IPv4 addresses (mapped, compatible, NAT64, 6to4): list the IPv4 address or range instead',
    );
  return { kind: 'range', family, network, prefix, ...(port === undefined ? {} : { port }) };
}

/**
 * Parses one FETCH_ALLOW_HOSTS entry: `name`, `name:port`, `1.2.3.4`,
 * `1.2.3.4:8080`, `10.0.0.0/8`, `10.0.0.0/8:8080`, `fd00::1`, `fd00::/8`,
 * `[fd00::1]:8080`, `[fd00::/8]:8080`. Names are put in the form the WHATWG URL
 * parser gives a URL's host (lower case, IDN as punycode, numeric forms as IPv4),
 * the form the fetcher compares, so an entry cannot differ from a URL naming the
 * same host. Throws AllowEntryError.
 */
export function parseAllowEntry(raw: string): AllowEntry {
  const entry = raw.trim().toLowerCase();
  if (entry === '') throw new AllowEntryError(raw, 'is empty');
  let host = entry;
  let port: number | undefined;
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) throw new AllowEntryError(raw, 'has no closing ]');
    host = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new AllowEntryError(raw, 'has text after ] that is not :port');
      port = parsePort(raw, rest.slice(1));
    }
    if (isIP(host.split('/')[0]!) !== 6) throw new AllowEntryError(raw, 'holds no IPv6 address in [ ]');
    return parseRange(raw, host, port);
  }
  if (entry.split(':').length > 2) return parseRange(raw, entry, undefined); // bare IPv6: no port
  const colon = entry.lastIndexOf(':');
  if (colon >= 0) {
    port = parsePort(raw, entry.slice(colon + 1));
    host = entry.slice(0, colon);
  }
  if (host.includes('/') || isIP(host) !== 0) return parseRange(raw, host, port);

  if (/[\s/\\?#@%[\]]/.test(host))
    throw new AllowEntryError(raw, 'is not a host name, IP address or CIDR range');
  let canonical: string;
  try {
    canonical = new URL(`http://${host}/`).hostname;
  } catch {
    throw new AllowEntryError(raw, 'is not a host name, IP address or CIDR range');
  }
  if (isIP(canonical) !== 0) return parseRange(raw, canonical, port); // 127.1, 0x7f.0.0.1, ...
  const name = canonical.replace(/\.$/, '');
  if (!HOST_NAME.test(name)) throw new AllowEntryError(raw, 'is not a host name, IP address or CIDR range');
  return { kind: 'name', name, ...(port === undefined ? {} : { port }) };
}

/** A URL host name in the form allow-list names are kept in. */
function normalName(hostname: string): string {
  return hostname.toLowerCase().replace(/\.$/, '');
}

/**
 * FETCH_ALLOW_HOSTS: exemptions from the guard, each for one port or for every
 * port but the bad ones.
 *
 * - An address or range entry exempts destinations whose address is in it, of
 *   the same family only (an IPv6 range never matches an IPv4 address, and no
 *   IPv6 entry may cover IPv4 addresses in IPv6 form), whatever name led there;
 *   a cloud metadata address only through an entry that is that one address.
 * - A name entry is a trust decision about that DNS name: it exempts URLs whose
 *   host is exactly that name (after WHATWG normalisation: case, trailing dot,
 *   IDN), on its port, when the name resolves to a private, CGNAT or
 *   unique-local address, whatever address that is at the time of each connection.
 *   It never exempts loopback, link-local, metadata or other blocked addresses:
 *   a rebound or mistaken DNS answer for an allowed name still cannot reach them.
 * - A bad port (BAD_PORTS) is reachable only through an entry that names it.
 */
export class AllowList {
  private readonly entries: AllowEntry[];

  constructor(entries: readonly string[]) {
    this.entries = entries.filter((entry) => entry.trim() !== '').map(parseAllowEntry);
  }

  private portMatches(entry: AllowEntry, port: number): boolean {
    return entry.port === undefined ? !BAD_PORTS.has(port) : entry.port === port;
  }

  /** True when some entry names this bad port for this host (checked before DNS). */
  namesPort(hostname: string, port: number): boolean {
    const name = normalName(hostname);
    return this.entries.some(
      (entry) => entry.port === port && (entry.kind === 'range' || entry.name === name),
    );
  }

  /** True when `address`, reached as `hostname` on `port`, is exempt from the guard. */
  allows(hostname: string, address: string, port: number): boolean {
    const bytes = addressBytes(address);
    if (bytes === null) return false;
    const range = blockedRange(address);
    const name = normalName(hostname);
    return this.entries.some((entry) => {
      if (!this.portMatches(entry, port)) return false;
      if (entry.kind === 'name')
        return entry.name === name && (range === null || NAME_REACHABLE_RANGES.has(range));
      if (entry.network.length !== bytes.length || !samePrefix(entry.network, bytes, entry.prefix))
        return false;
      // A metadata address (credentials) is exempt only by an entry that is that
      // address alone, never as part of a range meant for a network's services.
      return range !== 'metadata' || entry.prefix === bytes.length * 8;
    });
  }
}

/**
 * A refused destination. The message is for the logs only: it says where a name
 * resolves, which a client must not learn (errors.ts answers a fixed detail).
 */
export class ForbiddenDestinationError extends Error {
  constructor(
    readonly hostname: string,
    readonly address: string | null,
    readonly port: number,
    readonly reason: string,
  ) {
    super(
      address === null
        ? `destination ${hostname} port ${port}: ${reason}`
        : `destination ${hostname} port ${port} resolves to ${address}: ${reason}`,
    );
    this.name = 'ForbiddenDestinationError';
  }
}

export class SsrfGuard {
  constructor(private readonly allowList: AllowList) {}

  /** Before any DNS: throws ForbiddenDestinationError for a bad port no allow-list entry names. */
  checkPort(hostname: string, port: number): void {
    if (BAD_PORTS.has(port) && !this.allowList.namesPort(hostname, port))
      throw new ForbiddenDestinationError(hostname, null, port, 'a bad port (WHATWG Fetch)');
  }

  /**
   * Throws ForbiddenDestinationError unless `address` (what `hostname` resolved
   * to) may be connected to on `port`.
   */
  check(hostname: string, address: string, port: number): void {
    const range = blockedRange(address);
    const badPort = BAD_PORTS.has(port);
    if ((range !== null || badPort) && !this.allowList.allows(hostname, address, port)) {
      throw new ForbiddenDestinationError(
        hostname,
        address,
        port,
        [range === null ? '' : `a ${range} address`, badPort ? 'a bad port (WHATWG Fetch)' : '']
          .filter((reason) => reason !== '')
          .join(', on '),
      );
    }
  }
}
