/*
 * FROZEN ORACLE for the property tests: the counter as it was before the bounded-memory
 * rewrite (git HEAD 5ed27b2, src/count/go-url.ts), kept byte for byte below this comment so
 * that the tests can prove the new counter gives exactly the same counts. Not used by the
 * service; never edit it to make a test pass.
 */
/**
 * The part of Go's `net/url.Parse` that href-counter's counting rule depends on:
 * whether a reference is accepted, and the host it names.
 *
 * It works on bytes, as Go does (a host with non-ASCII bytes compares byte for
 * byte), and on a range of the page's own buffer, so that classifying a link
 * allocates nothing in the common case. Ported from src/net/url/url.go (Parse,
 * parse, getScheme, parseAuthority, parseHost, unescape, shouldEscape,
 * validUserinfo, validOptionalPort); what only fills fields the rule never reads
 * (Path, RawQuery, User, ...) is dropped, every check that can reject is kept.
 */

const MODE_PATH = 1;
const MODE_HOST = 2;
const MODE_ZONE = 3;
const MODE_USER = 4;
const MODE_FRAGMENT = 5;

/** Where the host of the last accepted reference lies: b[start, end), %-escaped if `escaped`. */
export interface HostRange {
  start: number;
  end: number;
  escaped: boolean;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function unhex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return 0;
}

function byteTable(chars: string): Uint8Array {
  const table = new Uint8Array(128);
  for (const ch of chars) table[ch.charCodeAt(0)] = 1;
  return table;
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/**
 * Go's shouldEscape for host and zone: the ASCII bytes a host may hold unescaped are
 * alphanumerics, "-_.~", the sub-delims, ':' for the port, '[' ']' for IPv6, and
 * '<' '>' '"', which Go lets through as well.
 */
const HOST_OK = byteTable(ALNUM + '-_.~!$&\'()*+,;=:[]<>"');
const USERINFO_OK = byteTable(ALNUM + "-._:~!$&'()*+,;=%@");

function hostByteNeedsEscape(c: number): boolean {
  return c < 0x80 && HOST_OK[c] === 0;
}

function isPercent25(b: Uint8Array, i: number): boolean {
  return b[i + 1] === 0x32 && b[i + 2] === 0x35;
}

/** Go's unescape(s, mode) as a validity check: false where Go returns an error. */
function validEscapes(b: Uint8Array, start: number, end: number, mode: number): boolean {
  for (let i = start; i < end;) {
    const c = b[i] as number;
    if (c === 0x25 /* % */) {
      if (i + 2 >= end || !isHex(b[i + 1] as number) || !isHex(b[i + 2] as number)) return false;
      // In a host, %-encoding may only stand for non-ASCII bytes (RFC 3986), or be
      // "%25" introducing an IPv6 zone (RFC 6874).
      if (mode === MODE_HOST && unhex(b[i + 1] as number) < 8 && !isPercent25(b, i)) return false;
      if (mode === MODE_ZONE) {
        const v = (unhex(b[i + 1] as number) << 4) | unhex(b[i + 2] as number);
        if (!isPercent25(b, i) && v !== 0x20 && hostByteNeedsEscape(v)) return false;
      }
      i += 3;
    } else {
      if ((mode === MODE_HOST || mode === MODE_ZONE) && hostByteNeedsEscape(c)) return false;
      i++;
    }
  }
  return true;
}

function indexOfByte(b: Uint8Array, c: number, start: number, end: number): number {
  for (let i = start; i < end; i++) if (b[i] === c) return i;
  return -1;
}

function lastIndexOfByte(b: Uint8Array, c: number, start: number, end: number): number {
  for (let i = end - 1; i >= start; i--) if (b[i] === c) return i;
  return -1;
}

function validOptionalPort(b: Uint8Array, start: number, end: number): boolean {
  if (start === end) return true;
  if (b[start] !== 0x3a) return false;
  for (let i = start + 1; i < end; i++) {
    const c = b[i] as number;
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function validHost(b: Uint8Array, start: number, end: number): boolean {
  if (b[start] === 0x5b /* [ */ && start < end) {
    const close = lastIndexOfByte(b, 0x5d, start, end);
    if (close < 0) return false; // missing ']' in host
    if (!validOptionalPort(b, close + 1, end)) return false;
    const zone = indexOfPercent25(b, start, close);
    if (zone >= 0) {
      return (
        validEscapes(b, start, zone, MODE_HOST) &&
        validEscapes(b, zone, close, MODE_ZONE) &&
        validEscapes(b, close, end, MODE_HOST)
      );
    }
  } else {
    const colon = lastIndexOfByte(b, 0x3a, start, end);
    if (colon >= 0 && !validOptionalPort(b, colon, end)) return false;
  }
  return validEscapes(b, start, end, MODE_HOST);
}

function indexOfPercent25(b: Uint8Array, start: number, end: number): number {
  for (let i = start; i + 2 < end; i++) if (b[i] === 0x25 && isPercent25(b, i)) return i;
  return -1;
}

function validAuthority(b: Uint8Array, start: number, end: number, host: HostRange): boolean {
  const at = lastIndexOfByte(b, 0x40, start, end);
  const hostStart = at < 0 ? start : at + 1;
  if (!validHost(b, hostStart, end)) return false;
  host.start = hostStart;
  host.end = end;
  host.escaped = indexOfByte(b, 0x25, hostStart, end) >= 0;
  if (at < 0) return true;
  for (let i = start; i < at; i++) {
    const c = b[i] as number;
    if (c >= 0x80 || USERINFO_OK[c] === 0) return false; // net/url: invalid userinfo
  }
  return validEscapes(b, start, at, MODE_USER); // ':' splits user and password; neither holds '%'-errors
}

/**
 * Go's `url.Parse` of b[start, end): false where Go returns an error. On success
 * `host` says where the host is (start === end when the reference has none).
 */
export function parseGoUrlBytes(b: Uint8Array, start: number, end: number, host: HostRange): boolean {
  host.start = host.end = start;
  host.escaped = false;
  // One pass for the common case: where the fragment and query start, whether any
  // '%' needs checking, and Go's rejection of control bytes before the fragment.
  let stop = end;
  let query = -1;
  let percent = false;
  for (let i = start; i < end; i++) {
    const c = b[i] as number;
    if (c === 0x23 /* # */) {
      stop = i;
      break;
    }
    if (c < 0x20 || c === 0x7f) return false; // invalid control character in URL
    if (c === 0x3f /* ? */) {
      if (query < 0) query = i;
    } else if (c === 0x25) percent = true;
  }
  if (stop < end && !validEscapes(b, stop + 1, end, MODE_FRAGMENT)) return false;
  if (stop - start === 1 && b[start] === 0x2a /* * */) return true;

  // getScheme: [a-zA-Z][a-zA-Z0-9+-.]* followed by ':'.
  let rest = start;
  let hasScheme = false;
  for (let i = start; i < stop; i++) {
    const c = b[i] as number;
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) continue;
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
      if (i === start) break;
      continue;
    }
    if (c === 0x3a) {
      if (i === start) return false; // missing protocol scheme
      hasScheme = true;
      rest = i + 1;
    }
    break;
  }
  // A scheme cannot contain '?', so the first '?' always lies after it. Go never
  // validates the query.
  const restEnd = query < 0 ? stop : query;

  if (rest === restEnd || b[rest] !== 0x2f /* / */) {
    if (hasScheme) return true; // rootless: opaque, e.g. mailto:x
    const slash = indexOfByte(b, 0x2f, rest, restEnd);
    if (indexOfByte(b, 0x3a, rest, slash < 0 ? restEnd : slash) >= 0) return false; // colon in first segment
  }

  let path = rest;
  const slashes = restEnd - rest >= 2 && b[rest] === 0x2f && b[rest + 1] === 0x2f;
  const threeSlashes = slashes && restEnd - rest >= 3 && b[rest + 2] === 0x2f;
  if (slashes && (hasScheme || !threeSlashes)) {
    const authStart = rest + 2;
    const slash = indexOfByte(b, 0x2f, authStart, restEnd);
    const authEnd = slash < 0 ? restEnd : slash;
    if (!validAuthority(b, authStart, authEnd, host)) return false;
    path = authEnd;
  }
  return !percent || validEscapes(b, path, restEnd, MODE_PATH);
}

/** The bytes of a %-escaped host, decoded (only called for hosts Go accepted). */
export function decodeHost(b: Uint8Array, range: HostRange): Buffer {
  const out: number[] = [];
  for (let i = range.start; i < range.end; i++) {
    const c = b[i] as number;
    if (c === 0x25) {
      out.push((unhex(b[i + 1] as number) << 4) | unhex(b[i + 2] as number));
      i += 2;
    } else out.push(c);
  }
  return Buffer.from(out);
}

/** Go's `url.Parse(raw).Host` for a string given as UTF-8 text; null where Go rejects it. */
export function goUrlHost(raw: string | Uint8Array): Buffer | null {
  const b = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  const range: HostRange = { start: 0, end: 0, escaped: false };
  if (!parseGoUrlBytes(b, 0, b.length, range)) return null;
  return range.escaped ? decodeHost(b, range) : Buffer.from(b.subarray(range.start, range.end));
}
