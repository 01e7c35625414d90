/**
 * A listen address given as a NAME (a Docker network alias such as
 * `sidecar-edge`): the one address of this container that the name resolves to.
 *
 * Why: a container on several Docker networks has one address on each, and a
 * server on 0.0.0.0 answers on all of them. Binding to the alias a service has on
 * one network keeps its port off the others (the sidecar's proxy port is for the
 * gateway's network, its metrics port for Prometheus's, neither for the API's).
 * In Swarm an alias resolves to every replica: only the address that is this
 * container's own is kept. Addresses and the wildcards pass through unchanged.
 * A CIDR range (`10.231.3.0/24`) names the own address inside it, with no DNS:
 * Swarm publishes a task in DNS only once it is healthy, too late for a process
 * choosing where to listen, so the Swarm stack gives its networks fixed subnets.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** This container's (or machine's) own addresses, every interface. */
export function localAddresses(): Set<string> {
  const own = new Set<string>();
  for (const list of Object.values(networkInterfaces()))
    for (const entry of list ?? []) own.add(entry.address);
  return own;
}

/**
 * The address to bind for `host`: itself when it is an IP address, else the first
 * address the name resolves to that belongs to this container. Resolution is
 * tried for up to `waitMs` (a network alias may appear a moment after start);
 * null when the name never resolves to an own address.
 */
export async function ownAddress(
  host: string,
  options: {
    waitMs?: number;
    resolve?: (name: string) => Promise<string[]>;
    local?: () => Set<string>;
  } = {},
): Promise<string | null> {
  if (isIP(host) !== 0) return host;
  const slash = host.indexOf('/');
  if (slash > 0) {
    const network = host.slice(0, slash);
    const family = isIP(network) === 6 ? 'ipv6' : 'ipv4';
    const range = new BlockList();
    range.addSubnet(network, Number(host.slice(slash + 1)), family);
    const local = options.local ?? localAddresses;
    return (
      [...local()].find(
        (address) => isIP(address) !== 0 && range.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4'),
      ) ?? null
    );
  }
  const resolve =
    options.resolve ?? (async (name: string) => (await lookup(name, { all: true })).map((a) => a.address));
  const local = options.local ?? localAddresses;
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  for (;;) {
    try {
      const own = local();
      const found = (await resolve(host)).find((address) => own.has(address));
      if (found !== undefined) return found;
    } catch {
      // not resolvable (yet): try again until the deadline
    }
    if (Date.now() >= deadline) return null;
    await new Promise((done) => setTimeout(done, 250));
  }
}
