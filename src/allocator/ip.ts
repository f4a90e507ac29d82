// Address parsing and formatting for the allocator. IPv4 addresses are plain numbers (0..2^32-1) so the hot
// allocation path never touches bigint; IPv6 addresses are bigints because 128 bits do not fit a double.
// Parsing follows Go's net.ParseIP, which is what MetalLB uses for `spec.loadBalancerIP` and the
// `loadBalancerIPs` annotation: no surrounding whitespace, no zones, no leading zeros in IPv4 octets, and an
// IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address.
import { IPv6, collapseIPv6Number } from 'ip-num';
import type { Family } from './types.js';
// One Go-compatible IPv4 parser for the whole project (config validation and allocation agree by construction).
import { formatIPv6, parseIPv4Number } from '../config/ip.js';

// The allocator's tests compare formatIPv6 with ip-num's collapse (formatIPv6Reference below).
export { formatIPv6 };

export type ParsedIP =
  | { readonly family: 'ipv4'; readonly v4: number; readonly v6: 0n; readonly text: string }
  | { readonly family: 'ipv6'; readonly v4: 0; readonly v6: bigint; readonly text: string };

const V4_MAPPED_PREFIX = 0xffffn;

/** Parses one address; null when Go's net.ParseIP would return nil. `text` is the canonical form. */
export function parseIP(s: string): ParsedIP | null {
  if (s.includes(':')) return parseIPv6(s);
  const n = parseIPv4Number(s);
  return n === null ? null : v4(n);
}

export function v4(n: number): ParsedIP {
  return { family: 'ipv4', v4: n, v6: 0n, text: formatIPv4(n) };
}

export function v6(n: bigint): ParsedIP {
  return { family: 'ipv6', v4: 0, v6: n, text: formatIPv6(n) };
}

const OCTETS: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
// The allocator formats consecutive addresses: keep the last "a.b.c." prefix so most calls do one concatenation.
let lastHigh = -1;
let lastPrefix = '';

export function formatIPv4(n: number): string {
  const high = n >>> 8;
  if (high !== lastHigh) {
    lastPrefix = `${OCTETS[(n >>> 24) & 255]!}.${OCTETS[(n >>> 16) & 255]!}.${OCTETS[high & 255]!}.`;
    lastHigh = high;
  }
  return lastPrefix + OCTETS[n & 255]!;
}

// ip-num accepts the textual forms RFC 4291 §2.2 defines (including an embedded dotted quad); this character
// check keeps out zones ("fe80::1%eth0") and anything else it might be lenient about.
const V6_CHARS = /^[0-9A-Fa-f:.]+$/;

function parseIPv6(s: string): ParsedIP | null {
  if (!V6_CHARS.test(s)) return null;
  let n: bigint;
  try {
    n = IPv6.fromString(s).getValue();
  } catch {
    return null;
  }
  // Go's To4() treats ::ffff:a.b.c.d as IPv4; MetalLB then sees an IPv4 address, and so must we.
  if (n >> 32n === V4_MAPPED_PREFIX) return v4(Number(n & 0xffffffffn));
  return v6(n);
}

/** ip-num's RFC 5952 collapse of the uncompressed form (its toString()); the reference for formatIPv6. */
export function formatIPv6Reference(n: bigint): string {
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((n >> shift) & 0xffffn).toString(16));
  return collapseIPv6Number(groups.join(':'));
}

/** Parses "a.b.c.d/len" or "x::/len" with host bits required to be zero (PoolSpec cidrs are normalized). */
export function parseCIDR(s: string): { family: Family; base: ParsedIP; length: number } | null {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const ip = parseIP(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (ip === null || !/^\d{1,3}$/.test(lenText)) return null;
  const length = Number(lenText);
  if (ip.family === 'ipv4') {
    if (length > 32) return null;
    const size = 2 ** (32 - length);
    return { family: 'ipv4', base: v4(ip.v4 - (ip.v4 % size)), length };
  }
  if (length > 128) return null;
  const hostBits = BigInt(128 - length);
  return { family: 'ipv6', base: v6((ip.v6 >> hostBits) << hostBits), length };
}
