/**
 * X.509 certificates for tests, made with node:crypto alone (no openssl on the
 * dev container's image, no dependency): a CA, and a server certificate for
 * 127.0.0.1 that CA signs, as a TLS-intercepting proxy presents them. DER is
 * written by hand: only the few structures a certificate needs.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const sequence = (...parts: Buffer[]) => tlv(0x30, ...parts);
const set = (...parts: Buffer[]) => tlv(0x31, ...parts);
const integer = (bytes: Buffer) =>
  tlv(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
const boolean = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0]));
const octets = (bytes: Buffer) => tlv(0x04, bytes);
const bits = (bytes: Buffer) => tlv(0x03, Buffer.from([0]), bytes);
const utcTime = (date: Date) =>
  tlv(0x17, Buffer.from(`${date.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`));
function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [first! * 40 + second!];
  for (const n of rest) {
    const encoded = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) encoded.unshift(0x80 | (v & 0x7f));
    bytes.push(...encoded);
  }
  return tlv(0x06, Buffer.from(bytes));
}
const commonName = (name: string) => sequence(set(sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(name)))));
const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));

export interface Issued {
  /** PEM. */
  cert: string;
  /** PEM (PKCS #8). */
  key: string;
  name: string;
  privateKey: KeyObject;
}

/** A certificate for `name`, signed by `issuer` (self-signed without one); a CA, or a server for 127.0.0.1. */
export function issue(name: string, options: { ca: boolean; issuer?: Issued }): Issued {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const extensions = options.ca
    ? // basicConstraints, critical: CA
      [sequence(oid('2.5.29.19'), boolean(true), octets(sequence(boolean(true))))]
    : // subjectAltName: IP address 127.0.0.1
      [sequence(oid('2.5.29.17'), octets(sequence(tlv(0x87, Buffer.from([127, 0, 0, 1])))))];
  const now = Date.now();
  const serial = randomBytes(8);
  serial[0]! &= 0x7f;
  const tbs = sequence(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(serial),
    ECDSA_WITH_SHA256,
    commonName(options.issuer?.name ?? name),
    sequence(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 86_400_000))),
    commonName(name),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, options.issuer?.privateKey ?? privateKey);
  const der = sequence(tbs, ECDSA_WITH_SHA256, bits(signature));
  const pem = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${pem}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    name,
    privateKey,
  };
}
