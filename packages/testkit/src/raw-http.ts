/**
 * The one raw-socket HTTP client, for 127.0.0.1: requests go out byte for byte
 * as written (no client normalises them, so malformed and slow requests can be
 * sent), and the answer is read until the server closes or the wait ends, so a
 * server that waits for more waits visibly and a header sent twice is seen twice.
 */
import { connect } from 'node:net';

/** Bytes to send: a string goes out UTF-8 encoded, a Buffer as it is; a pair waits delayMs first. */
export type Chunk = string | Buffer | [delayMs: number, data: string | Buffer];

export interface RawAnswer {
  /** Everything the server sent, read as latin1 (one character a byte). */
  text: string;
  /** The status code of the first status line; undefined when none came. */
  status: number | undefined;
  /** Up to the first blank line (everything, when none came). */
  head: string;
  /** The head's fields, names in lower case; of a field sent twice, the last. */
  headers: Record<string, string>;
  /** After the first blank line. */
  body: string;
  /** Milliseconds from connecting until the connection closed (or the wait ended). */
  elapsedMs: number;
  /** Whether the server ended the connection (false: the wait ran out first). */
  closedByServer: boolean;
}

/**
 * Connects to 127.0.0.1:port and writes each chunk, each after its delay counted
 * from the previous chunk. The client never half-closes; it resolves when the
 * connection closes or after `waitMs`, whichever comes first.
 */
export function rawExchange(port: number, chunks: Chunk[], waitMs = 5_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const timers: NodeJS.Timeout[] = [];
    let closedByServer = false;
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('error', () => undefined);
    socket.on('end', () => {
      closedByServer = true;
      socket.destroy();
    });
    socket.on('close', () => {
      for (const timer of timers) clearTimeout(timer);
      resolve({ ...parseAnswer(Buffer.concat(received)), elapsedMs: Date.now() - started, closedByServer });
    });
    let at = 0;
    for (const chunk of chunks) {
      const [delay, data] = Array.isArray(chunk) ? chunk : [0, chunk];
      at += delay;
      timers.push(setTimeout(() => socket.writable && socket.write(data), at));
    }
    timers.push(setTimeout(() => socket.destroy(), waitMs));
  });
}

/** The parts of an answer's bytes. */
function parseAnswer(bytes: Buffer): Omit<RawAnswer, 'elapsedMs' | 'closedByServer'> {
  const text = bytes.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    text,
    status: status === undefined ? undefined : Number(status),
    head,
    headers,
    body: split < 0 ? '' : text.slice(split + 4),
  };
}

/** The values of one header field in a raw head, one entry per line that carries it. */
export function headerValues(head: string, name: string): string[] {
  return head
    .split('\r\n')
    .slice(1)
    .filter((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((line) => line.slice(name.length + 1).trim());
}

/** A problem document from a raw answer; throws, showing the head, unless it is labelled one. */
export function problemOf(answer: RawAnswer): { type: string; status: number; detail?: string } {
  if (!/\r\ncontent-type: application\/problem\+json/i.test(answer.head))
    throw new Error(`not a problem document:\n${answer.head}`);
  return JSON.parse(answer.body) as { type: string; status: number; detail?: string };
}
