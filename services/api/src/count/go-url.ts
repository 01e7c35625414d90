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
 *
 * The same rules come twice: parseGoUrlBytes on a value held whole, and
 * GoUrlStream on a value fed byte by byte without keeping it (for values too long
 * to hold); the property tests check that the two always agree.
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

/** What classifying one href gives: not counted (Go rejects it), or counted on one side. */
export const URL_REJECTED = 0;
export const URL_INTERNAL = 1;
export const URL_EXTERNAL = 2;

// Where GoUrlStream is in the reference: Go's parse() decides these one after another.
const P_SCHEME_START = 0; // first byte: a letter may start a scheme
const P_SCHEME = 1; // [a-zA-Z][a-zA-Z0-9+.-]* so far, no ':' yet
const P_REST_START = 2; // first byte after the scheme (or of a scheme-less reference)
const P_SLASH1 = 3; // rest is "/" so far
const P_SLASH2 = 4; // rest is "//" so far
const P_AUTHORITY = 5; // between "//" and the next '/', '?' or '#'
const P_PATH = 6; // path: only %-escapes are checked
const P_FIRST_SEGMENT = 7; // path of a scheme-less, rootless reference, before its first '/': no ':'
const P_TAIL = 8; // query or opaque part: nothing is checked there but control bytes
const P_FRAGMENT = 9; // after the first '#': only %-escapes are checked
const P_REJECTED = 10;

// Inside a bracketed host, the bytes after the last ']' (Go's validOptionalPort).
const TAIL_EMPTY = 0;
const TAIL_PORT = 1; // ':' then digits
const TAIL_BAD = 2;

// Go's unescape(s, encodeHost) as a byte automaton: what the next byte must be.
const ESC_NONE = 0;
const ESC_FIRST = 1; // after '%'
const ESC_SECOND = 2; // after '%' and a hex digit >= 8: any hex digit
const ESC_FIVE = 3; // after "%2": only "%25" may escape an ASCII byte

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isSchemeLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

/**
 * parseGoUrlBytes and the internal/external decision, for a value fed one byte at
 * a time without keeping it: the same checks as the functions above, each turned
 * into an automaton with a few numbers of state. Used for href values too long to
 * hold (see LinkCounter's valueCap), so that memory does not depend on the page.
 *
 * Go's rules that look at the whole string are regular: the first '#', '?' and
 * '/' end a part as they arrive; for the ones that use the LAST occurrence
 * (the '@' ending the userinfo, the ']' of an IPv6 literal, the ':' of a port),
 * the verdict of the text before each occurrence is kept and replaced at the next
 * one, and the host is checked again from scratch after each '@'. The host is
 * compared with the page's host as it arrives (decoding %XX on the way), so no
 * part of it is kept either.
 */
export class GoUrlStream {
  private part = P_SCHEME_START;
  private first = -1; // the value's first byte: a value starting with '#' is internal
  private hasScheme = false;
  private pending = 0; // hex digits still due after a '%' in the path or the fragment
  private hostNonEmpty = false;
  private hostMatches = false;

  // Userinfo (Go's validUserinfo + unescape), over the whole authority so far.
  private userOk = true;
  private userPending = 0;
  private atSeen = false;
  private userVerdict = true; // of the authority before the last '@'

  // The host candidate: the bytes after the last '@' (or the whole authority).
  private hostLength = 0;
  private bracket = false; // starts with '[' (an IP literal)
  private hostOk = true; // unescape(host, encodeHost) over the whole candidate
  private hostEscape = ESC_NONE;
  private colonSeen = false;
  private portOk = true; // the bytes after the last ':' are digits
  private closeSeen = false; // a ']' was seen
  private tail = TAIL_EMPTY; // the bytes after the last ']'
  private match25 = 0; // how much of "%25" the last bytes matched (Go's strings.Index)
  private zoneFound = false;
  private beforePercentOk = false; // host verdict of the candidate before its last '%'
  private prefixOk = false; // host verdict of the candidate before the zone
  private zoneOk = true; // unescape(zone, encodeZone) so far
  private zoneEscape = 0; // 0: none, 1: after '%', 2: after '%' and zoneHigh
  private zoneHigh = 0;
  private zoneVerdict = false; // of the zone up to the last ']' after it
  private closeAfterZone = false;
  private compareAt = 0; // decoded host bytes matched against the page host
  private compareOk = true;
  private compareEscape = 0; // 0: none, 1: after '%', 2: after '%' and compareHigh
  private compareHigh = 0;

  constructor(private readonly baseHost: Uint8Array) {}

  /** Starts a new value. */
  reset(): void {
    this.part = P_SCHEME_START;
    this.first = -1;
    this.hasScheme = false;
    this.pending = 0;
    this.hostNonEmpty = false;
    this.hostMatches = false;
  }

  /** The next byte of the value (after character references were decoded). */
  push(c: number): void {
    const part = this.part;
    if (part === P_REJECTED) return;
    if (part === P_FRAGMENT) {
      this.escapeByte(c);
      return;
    }
    if (this.first < 0) this.first = c;
    if (c === 0x23 /* # */) {
      // Go's Parse cuts the fragment off first; the rest is parsed on its own.
      if (this.endBeforeFragment()) {
        this.part = P_FRAGMENT;
        this.pending = 0;
      }
      return;
    }
    if (c < 0x20 || c === 0x7f) {
      this.part = P_REJECTED; // invalid control character in URL
      return;
    }
    this.step(c);
  }

  /** The value ended: its outcome (URL_REJECTED, URL_INTERNAL or URL_EXTERNAL). */
  end(): number {
    if (this.part === P_FRAGMENT) {
      if (this.pending > 0) this.part = P_REJECTED; // a '%' near the end of the fragment
    } else if (this.part !== P_REJECTED) this.endBeforeFragment();
    if (this.part === P_REJECTED) return URL_REJECTED;
    return this.first === 0x23 || !this.hostNonEmpty || this.hostMatches ? URL_INTERNAL : URL_EXTERNAL;
  }

  private step(c: number): void {
    for (;;) {
      switch (this.part) {
        case P_SCHEME_START:
          if (isSchemeLetter(c)) this.part = P_SCHEME;
          else if (c === 0x3a)
            this.part = P_REJECTED; // missing protocol scheme
          else {
            this.part = P_REST_START; // no scheme: the rest is the whole reference
            continue;
          }
          return;

        case P_SCHEME:
          if (isSchemeLetter(c) || isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e) return;
          if (c === 0x3a) {
            this.hasScheme = true;
            this.part = P_REST_START;
            return;
          }
          // No scheme after all. What was read is letters, digits and "+-.": a first path
          // segment so far (it does not start with '/', holds no ':' and no '%').
          this.part = P_FIRST_SEGMENT;
          continue;

        case P_REST_START:
          if (c === 0x2f) this.part = P_SLASH1;
          else if (this.hasScheme)
            this.part = P_TAIL; // rootless with a scheme: opaque, e.g. mailto:x
          else {
            this.part = P_FIRST_SEGMENT;
            continue;
          }
          return;

        case P_FIRST_SEGMENT:
        case P_PATH:
          if (this.pending > 0 || c === 0x25) this.escapeByte(c);
          else if (c === 0x3f)
            this.part = P_TAIL; // Go never checks the query
          else if (this.part === P_FIRST_SEGMENT) {
            if (c === 0x3a)
              this.part = P_REJECTED; // first path segment in URL cannot contain colon
            else if (c === 0x2f) this.part = P_PATH;
          }
          return;

        case P_SLASH1:
          if (c === 0x2f) {
            this.part = P_SLASH2;
            return;
          }
          this.part = P_PATH;
          continue;

        case P_SLASH2:
          // "///" without a scheme is a path; with one, an empty authority then a path.
          // "//?" is an empty authority. Either way the host is empty.
          if (c === 0x2f) this.part = P_PATH;
          else if (c === 0x3f) this.part = P_TAIL;
          else {
            this.startAuthority();
            this.part = P_AUTHORITY;
            continue;
          }
          return;

        case P_AUTHORITY:
          if (c === 0x2f || c === 0x3f) {
            if (this.endAuthority()) this.part = c === 0x2f ? P_PATH : P_TAIL;
          } else this.authorityByte(c);
          return;

        default: // P_TAIL
          return;
      }
    }
  }

  /** A byte of a part where Go only checks %-escapes (path, fragment). */
  private escapeByte(c: number): void {
    if (this.pending > 0) {
      if (isHex(c)) this.pending--;
      else this.part = P_REJECTED; // invalid URL escape
    } else if (c === 0x25) this.pending = 2;
  }

  /** The part before the fragment ended (at '#' or at the end). False if it is rejected. */
  private endBeforeFragment(): boolean {
    const part = this.part;
    if (part === P_PATH || part === P_FIRST_SEGMENT) {
      if (this.pending > 0) this.part = P_REJECTED;
    } else if (part === P_AUTHORITY) this.endAuthority();
    return this.part !== P_REJECTED;
  }

  private startAuthority(): void {
    this.userOk = true;
    this.userPending = 0;
    this.atSeen = false;
    this.userVerdict = true;
    this.startHost();
  }

  private startHost(): void {
    this.hostLength = 0;
    this.bracket = false;
    this.hostOk = true;
    this.hostEscape = ESC_NONE;
    this.colonSeen = false;
    this.portOk = true;
    this.closeSeen = false;
    this.tail = TAIL_EMPTY;
    this.match25 = 0;
    this.zoneFound = false;
    this.beforePercentOk = false;
    this.prefixOk = false;
    this.zoneOk = true;
    this.zoneEscape = 0;
    this.zoneVerdict = false;
    this.closeAfterZone = false;
    this.compareAt = 0;
    this.compareOk = true;
    this.compareEscape = 0;
  }

  private authorityByte(c: number): void {
    // Go splits the authority at its LAST '@': the userinfo is everything before it,
    // and a userinfo may itself hold '@'. So every '@' ends a candidate userinfo
    // (its verdict is kept) and starts a new candidate host.
    if (c === 0x40) {
      this.userVerdict = this.userOk && this.userPending === 0;
      this.atSeen = true;
    }
    if (c >= 0x80 || USERINFO_OK[c] === 0) this.userOk = false;
    if (this.userPending > 0) {
      if (isHex(c)) this.userPending--;
      else {
        this.userOk = false;
        this.userPending = 0;
      }
    } else if (c === 0x25) this.userPending = 2;
    if (c === 0x40) this.startHost();
    else this.hostByte(c);
  }

  private hostByte(c: number): void {
    if (this.hostLength++ === 0) this.bracket = c === 0x5b;

    // unescape(host, encodeHost) over the whole candidate; its verdict just before
    // each '%' is kept in case that '%' starts the IPv6 zone ("%25").
    if (c === 0x25) this.beforePercentOk = this.hostOk && this.hostEscape === ESC_NONE;
    switch (this.hostEscape) {
      case ESC_NONE:
        if (c === 0x25) this.hostEscape = ESC_FIRST;
        else if (hostByteNeedsEscape(c)) this.hostOk = false;
        break;
      case ESC_FIRST:
        if (!isHex(c)) this.hostOk = false;
        else if (unhex(c) >= 8) {
          this.hostEscape = ESC_SECOND;
          break;
        } else if (c === 0x32) {
          this.hostEscape = ESC_FIVE;
          break;
        } else this.hostOk = false; // %-encoding of an ASCII byte in a host
        this.hostEscape = ESC_NONE;
        break;
      case ESC_SECOND:
        if (!isHex(c)) this.hostOk = false;
        this.hostEscape = ESC_NONE;
        break;
      default: // ESC_FIVE
        if (c !== 0x35) this.hostOk = false;
        this.hostEscape = ESC_NONE;
    }

    // Without brackets: the bytes after the last ':' must be a port.
    if (c === 0x3a) {
      this.colonSeen = true;
      this.portOk = true;
    } else if (!isDigit(c)) this.portOk = false;

    // With brackets: the bytes after the last ']' must be empty or ':' and a port.
    if (c === 0x5d) {
      this.closeSeen = true;
      this.tail = TAIL_EMPTY;
    } else if (this.tail === TAIL_EMPTY && c === 0x3a) this.tail = TAIL_PORT;
    else if (this.tail !== TAIL_PORT || !isDigit(c)) this.tail = TAIL_BAD;

    // The zone starts at the first "%25"; from there on Go checks it as a zone,
    // up to the last ']' (each ']' keeps the verdict so far).
    if (!this.zoneFound) {
      if (c === 0x25) this.match25 = 1;
      else if (this.match25 === 1 && c === 0x32) this.match25 = 2;
      else if (this.match25 === 2 && c === 0x35) {
        this.zoneFound = true;
        this.prefixOk = this.beforePercentOk; // the '%' of this match was the last '%'
      } else this.match25 = 0;
    } else this.zoneByte(c);

    // The decoded host, compared with the page's host as it arrives. Only a host Go
    // accepts is compared, and in such a host every '%' starts a valid escape.
    let d = -1;
    if (this.compareEscape === 0) {
      if (c === 0x25) this.compareEscape = 1;
      else d = c;
    } else if (this.compareEscape === 1) {
      this.compareHigh = c;
      this.compareEscape = 2;
    } else {
      d = (unhex(this.compareHigh) << 4) | unhex(c);
      this.compareEscape = 0;
    }
    if (d >= 0 && this.compareOk) {
      if (this.compareAt < this.baseHost.length && this.baseHost[this.compareAt] === d) this.compareAt++;
      else this.compareOk = false;
    }
  }

  /** unescape(zone, encodeZone), for the bytes after the "%25" that starts the zone. */
  private zoneByte(c: number): void {
    if (c === 0x5d) {
      this.zoneVerdict = this.zoneOk && this.zoneEscape === 0;
      this.closeAfterZone = true;
    }
    if (this.zoneEscape === 0) {
      if (c === 0x25) this.zoneEscape = 1;
      else if (hostByteNeedsEscape(c)) this.zoneOk = false;
    } else if (this.zoneEscape === 1) {
      if (isHex(c)) {
        this.zoneHigh = c;
        this.zoneEscape = 2;
      } else {
        this.zoneOk = false;
        this.zoneEscape = 0;
      }
    } else {
      if (!isHex(c)) this.zoneOk = false;
      else {
        const v = (unhex(this.zoneHigh) << 4) | unhex(c);
        const is25 = this.zoneHigh === 0x32 && c === 0x35;
        if (!is25 && v !== 0x20 && hostByteNeedsEscape(v)) this.zoneOk = false;
      }
      this.zoneEscape = 0;
    }
  }

  /** The authority ended: Go's parseAuthority verdict, and the host's comparison. */
  private endAuthority(): boolean {
    let ok = !this.atSeen || this.userVerdict;
    if (ok && this.hostLength > 0) {
      if (this.bracket) {
        if (!this.closeSeen || this.tail === TAIL_BAD) ok = false;
        // A valid port after the last ']' holds no '%': the zone, if any, lies before it.
        else if (this.zoneFound) ok = this.closeAfterZone && this.prefixOk && this.zoneVerdict;
        else ok = this.hostOk && this.hostEscape === ESC_NONE;
      } else {
        ok = (!this.colonSeen || this.portOk) && this.hostOk && this.hostEscape === ESC_NONE;
      }
    }
    if (!ok) {
      this.part = P_REJECTED;
      return false;
    }
    this.hostNonEmpty = this.hostLength > 0;
    this.hostMatches = this.compareOk && this.compareEscape === 0 && this.compareAt === this.baseHost.length;
    return true;
  }
}
