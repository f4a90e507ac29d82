// The usable addresses of one family of one pool, numbered 0..capacity-1 ("ordinals") in MetalLB's walk
// order: CIDRs in config order, ascending inside each CIDR, with avoid-buggy-ips addresses (.0 and .255 of
// every /24) simply not numbered. The allocator's tries work on ordinals, so "lowest free ordinal" is exactly
// the address MetalLB's scan would reach first, found without scanning, and a buggy address can never be
// handed out because it has no ordinal.
import { compareDigits, type Digits } from './ordinal-set.js';
import { formatIPv4, parseCIDR, v4, v6, type ParsedIP } from './ip.js';
import type { Family } from './types.js';

export interface AddressSpace {
  readonly family: Family;
  /** Digits of the ordinal trie: smallest d with 32^d >= capacity. */
  readonly depth: number;
  /** Usable addresses; a number for IPv4 (at most 2^32), a bigint for IPv6. */
  readonly capacity: number | bigint;
  /** Writes `ip`'s ordinal as trie digits; false when `ip` is not a usable address of this space. */
  digitsOf(ip: ParsedIP, out: Digits): boolean;
  /** The address at an ordinal; null when the ordinal is past the capacity. */
  ipAt(d: Digits): ParsedIP | null;
  /** ipAt(d).text, without the ParsedIP where that is cheaper. */
  textAt(d: Digits): string | null;
  /** True when the ordinal is below the capacity (the trie's range is the next power of 32). */
  inRange(d: Digits): boolean;
}

/** The capacity as trie digits, or null when it is the trie's whole range (every ordinal is in range). */
function limitDigits(capacity: bigint, depth: number): Digits | null {
  if (capacity >= 1n << BigInt(5 * depth)) return null;
  const out = new Uint8Array(depth);
  let c = capacity;
  for (let l = 0; l < depth; l++) {
    out[l] = Number(c & 31n);
    c >>= 5n;
  }
  return out;
}

function depthFor(capacityBits: number): number {
  return Math.max(1, Math.ceil(capacityBits / 5));
}

interface V4Segment {
  readonly base: number;
  readonly size: number;
  /** First ordinal of this segment. */
  readonly start: number;
  readonly count: number;
  /** 'plain': every address; 'per24': avoid-buggy over whole /24s (254 per /24); 'inner': avoid-buggy inside
   *  one /24, `skip` = 1 when the block starts at .0. */
  readonly mode: 'plain' | 'per24' | 'inner';
  readonly skip: number;
}

export class V4Space implements AddressSpace {
  readonly family = 'ipv4' as const;
  readonly depth: number;
  readonly capacity: number;
  private readonly byOrdinal: V4Segment[];
  private readonly byBase: V4Segment[];

  constructor(cidrs: readonly { base: number; length: number }[], avoidBuggyIPs: boolean) {
    const segs: V4Segment[] = [];
    let start = 0;
    for (const c of cidrs) {
      const size = 2 ** (32 - c.length);
      let mode: V4Segment['mode'] = 'plain';
      let skip = 0;
      let count = size;
      if (avoidBuggyIPs) {
        if (c.length <= 24) {
          mode = 'per24';
          count = (size / 256) * 254;
        } else {
          mode = 'inner';
          skip = (c.base & 255) === 0 ? 1 : 0;
          count = size - skip - (((c.base + size - 1) & 255) === 255 ? 1 : 0);
        }
      }
      if (count > 0) segs.push({ base: c.base, size, start, count, mode, skip });
      start += count;
    }
    this.capacity = start;
    this.byOrdinal = segs;
    this.byBase = [...segs].sort((a, b) => a.base - b.base);
    this.depth = depthFor(Math.ceil(Math.log2(Math.max(2, start))));
  }

  inRange(d: Digits): boolean {
    return this.ordinal(d) < this.capacity;
  }

  private ordinal(d: Digits): number {
    let o = 0;
    for (let l = this.depth - 1; l >= 0; l--) o = o * 32 + d[l]!;
    return o;
  }

  /** The ordinal as a plain number, or -1 when `ip` is not usable here. */
  ordinalOf(ip: ParsedIP): number {
    if (ip.family !== 'ipv4') return -1;
    const a = ip.v4;
    const segs = this.byBase;
    let lo = 0;
    let hi = segs.length - 1;
    // Last segment whose base <= a.
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid]!.base <= a) lo = mid;
      else hi = mid - 1;
    }
    const s = segs[lo];
    if (s === undefined || a < s.base || a >= s.base + s.size) return -1;
    const off = a - s.base;
    if (s.mode === 'plain') return s.start + off;
    const last = a & 255;
    if (last === 0 || last === 255) return -1;
    if (s.mode === 'per24') return s.start + Math.floor(off / 256) * 254 + last - 1;
    return s.start + off - s.skip;
  }

  digitsOf(ip: ParsedIP, out: Digits): boolean {
    const o = this.ordinalOf(ip);
    if (o < 0) return false;
    for (let l = 0; l < this.depth; l++) out[l] = (o >>> (5 * l)) & 31;
    return true;
  }

  ipAt(d: Digits): ParsedIP | null {
    const n = this.addressAt(d);
    return n < 0 ? null : v4(n);
  }

  /** The address's text without building a ParsedIP (the allocation result needs only the text). */
  textAt(d: Digits): string | null {
    const n = this.addressAt(d);
    return n < 0 ? null : formatIPv4(n);
  }

  /** The address at an ordinal as a number; -1 past the capacity. */
  private addressAt(d: Digits): number {
    const o = this.ordinal(d);
    if (o >= this.capacity) return -1;
    const segs = this.byOrdinal;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid]!.start <= o) lo = mid;
      else hi = mid - 1;
    }
    const s = segs[lo]!;
    const rel = o - s.start;
    if (s.mode === 'plain') return s.base + rel;
    if (s.mode === 'per24') return s.base + Math.floor(rel / 254) * 256 + (rel % 254) + 1;
    return s.base + s.skip + rel;
  }
}

interface V6Segment {
  readonly base: bigint;
  readonly size: bigint;
  readonly start: bigint;
}

export class V6Space implements AddressSpace {
  readonly family = 'ipv6' as const;
  readonly depth: number;
  readonly capacity: bigint;
  private readonly byOrdinal: V6Segment[];
  private readonly byBase: V6Segment[];
  private readonly limit: Digits | null;

  constructor(cidrs: readonly { base: bigint; length: number }[]) {
    const segs: V6Segment[] = [];
    let start = 0n;
    for (const c of cidrs) {
      const size = 1n << BigInt(128 - c.length);
      segs.push({ base: c.base, size, start });
      start += size;
    }
    this.capacity = start;
    this.byOrdinal = segs;
    this.byBase = [...segs].sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
    // Bits needed to write capacity-1 (capacity itself may be 2^128 for ::/0).
    this.depth = depthFor(Math.max(1, (start - 1n).toString(2).length));
    this.limit = limitDigits(start, this.depth);
  }

  inRange(d: Digits): boolean {
    return this.limit === null || compareDigits(d, this.limit) < 0;
  }

  textAt(d: Digits): string | null {
    return this.ipAt(d)?.text ?? null;
  }

  digitsOf(ip: ParsedIP, out: Digits): boolean {
    if (ip.family !== 'ipv6') return false;
    const a = ip.v6;
    const segs = this.byBase;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid]!.base <= a) lo = mid;
      else hi = mid - 1;
    }
    const s = segs[lo];
    if (s === undefined || a < s.base || a >= s.base + s.size) return false;
    let o = s.start + (a - s.base);
    for (let l = 0; l < this.depth; l++) {
      out[l] = Number(o & 31n);
      o >>= 5n;
    }
    return true;
  }

  ipAt(d: Digits): ParsedIP | null {
    let o = 0n;
    for (let l = this.depth - 1; l >= 0; l--) o = (o << 5n) | BigInt(d[l]!);
    if (o >= this.capacity) return null;
    const segs = this.byOrdinal;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid]!.start <= o) lo = mid;
      else hi = mid - 1;
    }
    const s = segs[lo]!;
    return v6(s.base + (o - s.start));
  }
}

/** Builds the IPv4 and IPv6 spaces of a pool; null for a family the pool has no usable address of. */
export function buildSpaces(
  poolName: string,
  cidrs: readonly string[],
  avoidBuggyIPs: boolean,
): { ipv4: V4Space | null; ipv6: V6Space | null } {
  const four: { base: number; length: number }[] = [];
  const six: { base: bigint; length: number }[] = [];
  for (const text of cidrs) {
    const c = parseCIDR(text);
    // PoolSpecs come from a validated config; a bad CIDR here is a programming error, not user input.
    if (c === null) throw new TypeError(`pool "${poolName}": invalid CIDR "${text}"`);
    if (c.base.family === 'ipv4') four.push({ base: c.base.v4, length: c.length });
    else six.push({ base: c.base.v6, length: c.length });
  }
  const ipv4 = four.length > 0 ? new V4Space(four, avoidBuggyIPs) : null;
  const ipv6 = six.length > 0 ? new V6Space(six) : null;
  return { ipv4: ipv4 !== null && ipv4.capacity > 0 ? ipv4 : null, ipv6 };
}
