/**
 * A DNS server for tests, on a UDP socket bound to 127.0.0.1: it answers A and
 * AAAA questions from a table the test gives, says NXDOMAIN for names not in the
 * table, and never answers names the test marks as hanging (a dead resolver, as
 * seen from the fetcher). Tests point the API's c-ares resolver at it, so no test
 * ever sends a query to a real DNS server.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { isIP } from 'node:net';

export interface DnsAnswers {
  /** Name (lower case, no trailing dot) to the addresses it resolves to, IPv4 and IPv6 mixed. */
  records?: Record<string, string[]>;
  /** Names whose questions are received and never answered. */
  hang?: (name: string) => boolean;
}

export interface TestDnsServer {
  /** `127.0.0.1:port`, the form FETCH_DNS_SERVERS and Resolver#setServers take. */
  server: string;
  /** Every question received, as `name/A` or `name/AAAA`. */
  questions: string[];
  close: () => Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

/** Reads the question's name (labels, no compression in questions) and returns it with the offset after it. */
function readName(message: Buffer, offset: number): [string, number] {
  const labels: string[] = [];
  let at = offset;
  while (at < message.length) {
    const length = message[at]!;
    at++;
    if (length === 0) break;
    labels.push(message.toString('latin1', at, at + length));
    at += length;
  }
  return [labels.join('.').toLowerCase(), at];
}

function addressBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  const [head = '', tail = ''] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

function answer(query: Buffer, answers: DnsAnswers): Buffer | null {
  if (query.length < 12) return null;
  const [name, afterName] = readName(query, 12);
  const type = query.readUInt16BE(afterName);
  if (answers.hang?.(name)) return null;
  const known = answers.records?.[name];
  const family = type === TYPE_A ? 4 : type === TYPE_AAAA ? 6 : 0;
  const addresses = (known ?? []).filter((address) => isIP(address) === family);
  const question = query.subarray(12, afterName + 4);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0); // same id
  // QR, opcode 0, AA, RD copied, RA; RCODE 3 (NXDOMAIN) for unknown names, else 0.
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (known ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const records = addresses.map((address) => {
    const data = addressBytes(address);
    const record = Buffer.alloc(12);
    record.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    record.writeUInt16BE(type, 2);
    record.writeUInt16BE(1, 4); // IN
    record.writeUInt32BE(5, 6); // TTL
    record.writeUInt16BE(data.length, 10);
    return Buffer.concat([record, data]);
  });
  return Buffer.concat([header, question, ...records]);
}

export async function startDnsServer(answers: DnsAnswers): Promise<TestDnsServer> {
  const socket = createSocket('udp4');
  const questions: string[] = [];
  socket.on('message', (query: Buffer, from: RemoteInfo) => {
    if (query.length >= 12) {
      const [name, afterName] = readName(query, 12);
      const type = afterName + 2 <= query.length ? query.readUInt16BE(afterName) : 0;
      questions.push(`${name}/${type === TYPE_A ? 'A' : type === TYPE_AAAA ? 'AAAA' : type}`);
    }
    const reply = answer(query, answers);
    if (reply !== null) socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    questions,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
