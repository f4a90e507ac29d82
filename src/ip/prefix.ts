// CIDR blocks with Go's `net.ParseCIDR` semantics (host bits masked, bare IPs rejected), containment, and
// the minimal CIDR cover of an address range.
import { familyBits, formatIP, parseIPv4Number, parseIPv6Value, type IPAddress, type IPFamily } from './address.js';

/** One CIDR block, host bits already masked. */
export interface IPPrefix {
  readonly family: IPFamily;
  /** Canonical text: IPv4 dotted quad or RFC 5952 IPv6, e.g. "10.0.0.0/24", "2001:db8::/64". */
  readonly text: string;
  /** Canonical network address without the length, e.g. "10.0.0.0". */
  readonly address: string;
  readonly length: number;
  /** First and last address as integers (inclusive), for allocation arithmetic. */
  readonly first: bigint;
  readonly last: bigint;
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

const LENGTH = /^[0-9]{1,3}$/;

/** Go `net.ParseCIDR` followed by IPNet.String(): null when invalid. */
export function parseCIDR(s: string): IPPrefix | null {
  const slash = s.indexOf('/');
  if (slash === -1) return null;
  const addr = s.slice(0, slash);
  const len = s.slice(slash + 1);
  if (!LENGTH.test(len)) return null;
  const length = Number(len);
  if (addr.includes(':')) {
    const v = parseIPv6Value(addr);
    if (v === null || length > 128) return null;
    const p = makePrefix(6, v, length);
    // Go prints an IPv4-mapped network whose mask covers the ::ffff: part as the IPv4 network.
    if (length >= 96 && p.first >> 32n === 0xffffn) return makePrefix(4, p.first & 0xffffffffn, length - 96);
    return p;
  }
  const v = parseIPv4Number(addr);
  if (v === null || length > 32) return null;
  return makePrefix(4, BigInt(v), length);
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

export function prefixContains(p: IPPrefix, ip: IPAddress): boolean {
  return p.family === ip.family && p.first <= ip.value && ip.value <= p.last;
}
