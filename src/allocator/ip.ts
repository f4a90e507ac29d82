// The allocator's address value. IPv4 addresses are plain numbers (0..2^32-1) so the hot allocation path
// never touches bigint; IPv6 addresses are bigints because 128 bits do not fit a double. Parsing is src/ip's
// (Go's net.ParseIP, which is what MetalLB uses for `spec.loadBalancerIP` and the `loadBalancerIPs`
// annotation): no surrounding whitespace, no zones, no leading zeros in IPv4 octets, and an IPv4-mapped IPv6
// address (::ffff:a.b.c.d) is the IPv4 address. `family` is MetalLB's ipfamily text ('ipv4' | 'ipv6'), which
// the allocator's MetalLB-worded errors print and its per-pool state is keyed by.
import type { Family } from './types.js';
// src/ip owns parsing and formatting (Go's rules); this file only shapes its results for the allocator.
import { formatIPv4, formatIPv6, parseIPv4Number, parseIPv6Value } from '../ip/index.js';

export { formatIPv4, formatIPv6 };

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

function parseIPv6(s: string): ParsedIP | null {
  const n = parseIPv6Value(s);
  if (n === null) return null;
  // Go's To4() treats ::ffff:a.b.c.d as IPv4; MetalLB then sees an IPv4 address, and so must we.
  if (n >> 32n === V4_MAPPED_PREFIX) return v4(Number(n & 0xffffffffn));
  return v6(n);
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
