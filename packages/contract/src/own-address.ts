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
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
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
