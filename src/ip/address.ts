// IP addresses with Go's `net` package semantics, which is what decides whether MetalLB accepts an address:
// `net.ParseIP` (no zones, no IPv4 leading zeros, IPv4-mapped IPv6 is IPv4). Addresses are bigints so IPv4
// and IPv6 share one code path, plus a plain-number IPv4 form for hot paths that must not touch bigint. Text
// output is dotted quad or RFC 5952 §4 IPv6 (lowercase, longest zero run compressed), as Go prints it.

/** The one spelling of "address family" in ingot: 4 or 6 (BGP's AFI/SAFI pair is a different thing). */
export type IPFamily = 4 | 6;

export interface IPAddress {
  readonly family: IPFamily;
  readonly value: bigint;
}

/** Address width in bits: 32 or 128. */
export function familyBits(family: IPFamily): number {
  return family === 4 ? 32 : 128;
}

/**
 * Dotted quad to an unsigned 32-bit number with Go's rules, or null. A character loop rather than split and
 * regular expressions: it runs for every Service address at start-up (10,000 Services in a standalone
 * cluster file), and the allocator uses it on its hot path too.
 */
export function parseIPv4Number(s: string): number | null {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      // Go 1.17+ rejects leading zeros, which older parsers read as octal: "010" is ambiguous, so refuse it.
      if (digits === 1 && octet === 0) return null;
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return null;
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return null;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return null;
    }
  }
  if (dots !== 3 || digits === 0) return null;
  return value * 256 + octet;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * IPv6 text (RFC 4291 §2.2: "::", an embedded dotted IPv4 tail; no zone) to its 128-bit value, or null.
 * IPv4-mapped addresses are returned as they are (parseIP decides what they mean).
 */
export function parseIPv6Value(s: string): bigint | null {
  // An embedded dotted IPv4 tail (e.g. ::ffff:1.2.3.4) stands for the last two groups.
  let tail: number | null = null;
  let body = s;
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return null;
  if (s.indexOf('.', lastColon) !== -1) {
    tail = parseIPv4Number(s.slice(lastColon + 1));
    if (tail === null) return null;
    body = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = body.indexOf('::');
  if (dbl !== -1 && body.indexOf('::', dbl + 1) !== -1) return null;
  const parseGroups = (t: string): number[] | null => {
    if (t === '') return [];
    const out: number[] = [];
    for (const g of t.split(':')) {
      if (!HEX_GROUP.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl === -1) {
    const g = parseGroups(body);
    if (g === null || g.length !== 8) return null;
    groups = g;
  } else {
    const head = parseGroups(body.slice(0, dbl));
    const rest = parseGroups(body.slice(dbl + 2));
    if (head === null || rest === null) return null;
    // "::" must stand for at least one zero group.
    if (head.length + rest.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  if (tail !== null) v = (v & ~0xffffffffn) | BigInt(tail);
  return v;
}

/** Go `net.ParseIP`: IPv4 dotted quad or IPv6 (no zone); IPv4-mapped IPv6 is reported as IPv4. */
export function parseIP(s: string): IPAddress | null {
  if (s.includes(':')) {
    const v = parseIPv6Value(s);
    if (v === null) return null;
    if (v >> 32n === 0xffffn) return { family: 4, value: v & 0xffffffffn };
    return { family: 6, value: v };
  }
  const n = parseIPv4Number(s);
  return n === null ? null : { family: 4, value: BigInt(n) };
}

/** The family of an address's text by its shape (a colon means IPv6); no validation. */
export function familyOfText(s: string): IPFamily {
  return s.includes(':') ? 6 : 4;
}

const OCTETS: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
// The allocator formats consecutive addresses: keep the last "a.b.c." prefix so most calls do one concatenation.
let lastHigh = -1;
let lastPrefix = '';

/** Dotted quad of an unsigned 32-bit number (the one IPv4 formatter). */
export function formatIPv4(n: number): string {
  const high = n >>> 8;
  if (high !== lastHigh) {
    lastPrefix = `${OCTETS[(n >>> 24) & 255]!}.${OCTETS[(n >>> 16) & 255]!}.${OCTETS[high & 255]!}.`;
    lastHigh = high;
  }
  return lastPrefix + OCTETS[n & 255]!;
}

/**
 * RFC 5952 §4 text: lowercase, no leading zeros, the longest run of two or more zero groups (the first on a
 * tie) written "::". Done by hand because ip-num's collapseIPv6Number costs ~6 µs a call, most of an IPv6
 * allocation; the tests compare it with ip-num's as an independent reference.
 */
export function formatIPv6(n: bigint): string {
  const groups = new Array<number>(8);
  // Four 32-bit words through Number, then plain integer ops: far cheaper than eight bigint shifts.
  for (let w = 0; w < 4; w++) {
    const word = Number((n >> BigInt(96 - 32 * w)) & 0xffffffffn);
    groups[2 * w] = word >>> 16;
    groups[2 * w + 1] = word & 0xffff;
  }
  return formatGroups(groups);
}

function formatGroups(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    if (groups[i] !== 0) {
      runStart = -1;
      continue;
    }
    if (runStart < 0) runStart = i;
    if (i - runStart + 1 > bestLen) {
      bestLen = i - runStart + 1;
      bestStart = runStart;
    }
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += groups[i]!.toString(16);
  }
  return out;
}

export function formatIP(family: IPFamily, value: bigint): string {
  return family === 4 ? formatIPv4(Number(value)) : formatIPv6(value);
}

export function formatIPAddress(ip: IPAddress): string {
  return formatIP(ip.family, ip.value);
}

// ---- bytes (network order) -------------------------------------------------------------------------

/** RFC 5952 text of the 16 octets at `b[off..off+16)`. */
export function formatIPv6Bytes(b: Uint8Array, off = 0): string {
  const groups = new Array<number>(8);
  for (let i = 0; i < 8; i++) groups[i] = (b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!;
  return formatGroups(groups);
}

/** Dotted quad of the 4 octets at `b[off..off+4)`. */
export function formatIPv4Bytes(b: Uint8Array, off = 0): string {
  return formatIPv4(((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0);
}

/** The 4 octets of an unsigned 32-bit address. */
export function ipv4ToBytes(n: number): Uint8Array {
  return new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

/** The 16 octets of a 128-bit address. */
export function ipv6ToBytes(v: bigint): Uint8Array {
  const out = new Uint8Array(16);
  for (let w = 0; w < 4; w++) {
    const word = Number((v >> BigInt(96 - 32 * w)) & 0xffffffffn);
    out[4 * w] = word >>> 24;
    out[4 * w + 1] = (word >>> 16) & 0xff;
    out[4 * w + 2] = (word >>> 8) & 0xff;
    out[4 * w + 3] = word & 0xff;
  }
  return out;
}

/** The 4 or 16 octets of an address. */
export function ipToBytes(ip: IPAddress): Uint8Array {
  return ip.family === 4 ? ipv4ToBytes(Number(ip.value)) : ipv6ToBytes(ip.value);
}

/** An address from 4 or 16 octets at `b[off..)`; `family` says which. */
export function ipFromBytes(family: IPFamily, b: Uint8Array, off = 0): IPAddress {
  let v = 0n;
  const n = family === 4 ? 4 : 16;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[off + i]!);
  return { family, value: v };
}

// ---- throwing forms, for code that holds already-validated text (config output, tests, tools) -------------

/** Dotted quad to an unsigned 32-bit number (Go's rules); throws RangeError on bad input. */
export function ipv4Number(s: string): number {
  const n = parseIPv4Number(s);
  if (n === null) throw new RangeError(`bad IPv4 address ${JSON.stringify(s)}`);
  return n;
}

/** IPv6 text to its 16 octets (an IPv4-mapped address stays 16 octets); throws RangeError on bad input. */
export function ipv6Bytes(s: string): Uint8Array {
  const v = parseIPv6Value(s);
  if (v === null) throw new RangeError(`bad IPv6 address ${JSON.stringify(s)}`);
  return ipv6ToBytes(v);
}
