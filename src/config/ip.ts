// IP address and prefix arithmetic with Go's `net` package semantics, which is what decides whether MetalLB
// accepts an address: `net.ParseIP` (no zones, no IPv4 leading zeros, IPv4-mapped IPv6 is IPv4) and
// `net.ParseCIDR` (host bits masked, bare IPs rejected). Addresses are bigints so IPv4 and IPv6 share one code
// path; text output is dotted quad or RFC 5952 §4 IPv6 (lowercase, longest zero run compressed), as Go prints.
import type { IPFamily, IPPrefix } from './types.js';

export interface IPAddress {
  readonly family: IPFamily;
  readonly value: bigint;
}

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

function parseIPv4Value(s: string): bigint | null {
  const n = parseIPv4Number(s);
  return n === null ? null : BigInt(n);
}

function parseIPv6Value(s: string): bigint | null {
  // An embedded dotted IPv4 tail (e.g. ::ffff:1.2.3.4) stands for the last two groups.
  let tail: bigint | null = null;
  let body = s;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) !== -1) {
    tail = parseIPv4Value(s.slice(lastColon + 1));
    if (tail === null) return null;
    body = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = body.indexOf('::');
  if (dbl !== -1 && body.indexOf('::', dbl + 1) !== -1) return null;
  const parseGroups = (t: string): number[] | null => {
    if (t === '') return [];
    const out: number[] = [];
    for (const g of t.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
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
  if (tail !== null) v = (v & ~0xffffffffn) | tail;
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
  const v = parseIPv4Value(s);
  return v === null ? null : { family: 4, value: v };
}

export function formatIP(family: IPFamily, value: bigint): string {
  if (family === 4) {
    const n = Number(value);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  return formatIPv6(value);
}

/**
 * RFC 5952 §4 text: lowercase, no leading zeros, the longest run of two or more zero groups (the first on a
 * tie) written "::". Done by hand because ip-num's collapseIPv6Number costs ~6 µs a call, most of an IPv6
 * allocation; ip-num's version stays the reference the allocator's tests compare this one against.
 */
export function formatIPv6(n: bigint): string {
  const groups = new Array<number>(8);
  // Four 32-bit words through Number, then plain integer ops: far cheaper than eight bigint shifts.
  for (let w = 0; w < 4; w++) {
    const word = Number((n >> BigInt(96 - 32 * w)) & 0xffffffffn);
    groups[2 * w] = word >>> 16;
    groups[2 * w + 1] = word & 0xffff;
  }
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

export function formatIPAddress(ip: IPAddress): string {
  return formatIP(ip.family, ip.value);
}

/** Builds a prefix from any address inside it: host bits are masked. */
export function makePrefix(family: IPFamily, value: bigint, length: number): IPPrefix {
  const bits = BigInt(familyBits(family));
  const hostBits = bits - BigInt(length);
  const hostMask = (1n << hostBits) - 1n;
  const first = value & ~hostMask;
  const address = formatIP(family, first);
  return { family, text: `${address}/${length}`, address, length, first, last: first | hostMask };
}

/** Go `net.ParseCIDR` followed by IPNet.String(): null when invalid. */
export function parseCIDR(s: string): IPPrefix | null {
  const slash = s.indexOf('/');
  if (slash === -1) return null;
  const addr = s.slice(0, slash);
  const len = s.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(len)) return null;
  const length = Number(len);
  if (addr.includes(':')) {
    const v = parseIPv6Value(addr);
    if (v === null || length > 128) return null;
    const p = makePrefix(6, v, length);
    // Go prints an IPv4-mapped network whose mask covers the ::ffff: part as the IPv4 network.
    if (length >= 96 && p.first >> 32n === 0xffffn) return makePrefix(4, p.first & 0xffffffffn, length - 96);
    return p;
  }
  const v = parseIPv4Value(addr);
  if (v === null || length > 32) return null;
  return makePrefix(4, v, length);
}

/**
 * The minimal list of CIDR blocks whose union is exactly [start, end], ascending. Each step takes the largest
 * block that starts at `start` (alignment) and does not pass `end`.
 */
export function summarizeRange(family: IPFamily, start: bigint, end: bigint): IPPrefix[] {
  const bits = familyBits(family);
  const out: IPPrefix[] = [];
  let cur = start;
  while (cur <= end) {
    let hostBits = 0;
    while (hostBits < bits) {
      const size = 1n << BigInt(hostBits + 1);
      if ((cur & (size - 1n)) !== 0n || cur + size - 1n > end) break;
      hostBits++;
    }
    out.push(makePrefix(family, cur, bits - hostBits));
    cur += 1n << BigInt(hostBits);
  }
  return out;
}

export function prefixesOverlap(a: IPPrefix, b: IPPrefix): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function prefixContains(p: IPPrefix, ip: IPAddress): boolean {
  return p.family === ip.family && p.first <= ip.value && ip.value <= p.last;
}
