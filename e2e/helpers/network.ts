/**
 * Who can reach whom on a stack's Docker networks, tried for real: TCP connects
 * made from a container's own network namespace to every address a target has
 * on any network, so a refusal is not just a name that does not resolve. Only
 * addresses of the project's own containers are ever tried.
 */
import { readFileSync } from 'node:fs';
import { docker } from '@stagecraft/testkit/command';

/** A container's address on each network it is attached to, by network name. */
export function containerAddresses(container: string): Record<string, string> {
  const networks = JSON.parse(
    docker('inspect', container, '--format', '{{json .NetworkSettings.Networks}}'),
  ) as Record<string, { IPAddress: string }>;
  return Object.fromEntries(Object.entries(networks).map(([name, n]) => [name, n.IPAddress]));
}

/** "connected", or why not (ECONNREFUSED, timeout, EHOSTUNREACH...), for each address:port. */
export type Reach = Record<string, string>;

const toNumber = (address: string) => address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
function within(address: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toNumber(address) / size) === Math.floor(toNumber(base) / size);
}

/** The IPv4 subnets of the networks `container` is attached to. */
function subnetsOf(container: string): string[] {
  return Object.keys(containerAddresses(container)).flatMap((network) =>
    docker('network', 'inspect', network, '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}')
      .split(' ')
      .filter((subnet) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(subnet)),
  );
}

/** The subnets this host routes to a local bridge (Docker's bridge networks), from /proc/net/route. */
function localBridgeSubnets(): string[] {
  const hex = (h: string) => [3, 2, 1, 0].map((i) => parseInt(h.slice(i * 2, i * 2 + 2), 16)).join('.');
  return readFileSync('/proc/net/route', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length > 7 && /^(br-|docker)/.test(f[0]!) && f[1] !== '00000000')
    .map((f) => `${hex(f[1]!)}/${toNumber(hex(f[7]!)).toString(2).replace(/0+$/, '').length}`);
}

/**
 * Connects from inside `container`'s network namespace (a throw-away node
 * container joined to it: the same interfaces, routes and addresses; the gateway
 * and Prometheus images have no node) to each target, each within 1.5 s.
 *
 * Only to addresses whose packets stay on this machine: on a network the
 * container is attached to, or on a bridge network this host routes locally
 * (where Docker drops traffic between networks). Anything else (an overlay
 * network the container is not on, say) would leave by the default route, so it
 * is refused here, before any packet is sent.
 */
export function reachFrom(container: string, targets: { address: string; port: number }[]): Reach {
  const local = [...subnetsOf(container), ...localBridgeSubnets()];
  const stray = targets.filter(({ address }) => !local.some((subnet) => within(address, subnet)));
  if (stray.length > 0) {
    throw new Error(
      `not probing ${stray.map((t) => t.address).join(', ')} from ${container}: no network of it and no local bridge holds them`,
    );
  }
  const script = `
    const net = require('node:net');
    const targets = ${JSON.stringify(targets)};
    Promise.all(targets.map(({ address, port }) => new Promise((resolve) => {
      const socket = net.connect({ host: address, port, timeout: 1500 });
      const done = (outcome) => { socket.destroy(); resolve([address + ':' + port, outcome]); };
      socket.on('connect', () => done('connected'));
      socket.on('timeout', () => done('timeout'));
      socket.on('error', (error) => done(error.code));
    }))).then((outcomes) => process.stdout.write(JSON.stringify(Object.fromEntries(outcomes))));`;
  return JSON.parse(
    docker(
      'run',
      '--rm',
      '--network',
      `container:${container}`,
      '--read-only',
      '--cap-drop',
      'ALL',
      '--user',
      'node',
      'node:24-trixie-slim',
      'node',
      '-e',
      script,
    ),
  ) as Reach;
}

/** Every address of `container`, on `port`. */
export function everyAddress(container: string, port: number): { address: string; port: number }[] {
  return Object.values(containerAddresses(container)).map((address) => ({ address, port }));
}

/** The addresses of `target`, on `port`, on the networks it shares with `source`. */
export function sharedAddresses(
  source: string,
  target: string,
  port: number,
): { address: string; port: number }[] {
  const mine = containerAddresses(source);
  return Object.entries(containerAddresses(target))
    .filter(([network]) => network in mine)
    .map(([, address]) => ({ address, port }));
}

/** The networks two containers are both attached to. */
export function sharedNetworks(a: string, b: string): string[] {
  const mine = containerAddresses(a);
  return Object.keys(containerAddresses(b)).filter((network) => network in mine);
}
