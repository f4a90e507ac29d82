// Unicast prefixes in NLRI wire encoding (RFC 4271 §4.3, RFC 4760 §5): one length octet, then the
// ceil(length/8) leading octets of the address. A PrefixList is a span of such bytes plus a count, so the
// hot path never creates an object, string or view per prefix. This file builds, validates and reads them.
import { Afi } from './constants.js';
import type { PrefixList } from './types.js';
// Address text ⇄ bytes is src/ip's (zero dependencies, like this codec).
import { formatIPv4Bytes, formatIPv6Bytes, ipv4Number, ipv4ToBytes, ipv6Bytes } from '../ip/index.js';

const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_V4: PrefixList = Object.freeze({ afi: Afi.Ipv4, count: 0, bytes: EMPTY_BYTES, start: 0, end: 0 });
const EMPTY_V6: PrefixList = Object.freeze({ afi: Afi.Ipv6, count: 0, bytes: EMPTY_BYTES, start: 0, end: 0 });

/** The shared empty list of a family. */
export function emptyPrefixList(afi: Afi): PrefixList {
  return afi === Afi.Ipv6 ? EMPTY_V6 : EMPTY_V4;
}

/** Address width in bits of a unicast family (32 or 128). */
export function afiBits(afi: Afi): number {
  return afi === Afi.Ipv6 ? 128 : 32;
}

/**
 * Counts the prefixes in `b[start..end)` and checks their syntax: every length ≤ maxBits and the last prefix
 * ends exactly at `end`. Returns -1 when the span is not valid NLRI.
 */
export function scanPrefixes(b: Uint8Array, start: number, end: number, maxBits: number): number {
  let p = start;
  let n = 0;
  while (p < end) {
    const len = b[p]!;
    if (len > maxBits) return -1;
    p += 1 + ((len + 7) >>> 3);
    n++;
  }
  return p === end ? n : -1;
}

/** A PrefixList over an existing, already validated span (no copy). */
export function prefixListOf(afi: Afi, bytes: Uint8Array, start: number, end: number, count: number): PrefixList {
  if (count === 0) return afi === Afi.Ipv6 ? EMPTY_V6 : EMPTY_V4;
  return { afi, count, bytes, start, end };
}

/** Validates wire bytes and wraps them; throws RangeError when they are not valid NLRI of the family. */
export function prefixListFromWire(afi: Afi, bytes: Uint8Array, start = 0, end = bytes.length): PrefixList {
  const n = scanPrefixes(bytes, start, end, afiBits(afi));
  if (n < 0) throw new RangeError('not valid NLRI');
  return prefixListOf(afi, bytes, start, end, n);
}

/**
 * IPv4 prefixes from unsigned 32-bit addresses and lengths (one length for all, or one per address). Bits
 * beyond the length are cleared, so the encoding is canonical.
 */
export function ipv4Prefixes(addrs: ArrayLike<number>, lengths: ArrayLike<number> | number = 32): PrefixList {
  const n = addrs.length;
  if (n === 0) return EMPTY_V4;
  const same = typeof lengths === 'number';
  let size = 0;
  if (same) {
    if (!(lengths >= 0 && lengths <= 32)) throw new RangeError(`IPv4 prefix length ${lengths}`);
    size = n * (1 + ((lengths + 7) >>> 3));
  } else {
    if (lengths.length !== n) throw new RangeError('addrs and lengths differ in size');
    for (let i = 0; i < n; i++) {
      const l = lengths[i]!;
      if (!(l >= 0 && l <= 32)) throw new RangeError(`IPv4 prefix length ${l}`);
      size += 1 + ((l + 7) >>> 3);
    }
  }
  const b = new Uint8Array(size);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const l = same ? lengths : lengths[i]!;
    const a = l === 0 ? 0 : (addrs[i]! >>> 0) & (0xffffffff << (32 - l));
    b[p++] = l;
    if (l > 0) b[p++] = a >>> 24;
    if (l > 8) b[p++] = (a >>> 16) & 0xff;
    if (l > 16) b[p++] = (a >>> 8) & 0xff;
    if (l > 24) b[p++] = a & 0xff;
  }
  return { afi: Afi.Ipv4, count: n, bytes: b, start: 0, end: size };
}

/**
 * IPv6 prefixes from 16 octets per address (`addrs` holds n×16 octets) and lengths (one for all, or one
 * per address). Bits beyond the length are cleared.
 */
export function ipv6Prefixes(addrs: Uint8Array, lengths: ArrayLike<number> | number = 128): PrefixList {
  if (addrs.length % 16 !== 0) throw new RangeError('IPv6 addresses must be 16 octets each');
  const n = addrs.length >>> 4;
  if (n === 0) return EMPTY_V6;
  const same = typeof lengths === 'number';
  if (!same && lengths.length !== n) throw new RangeError('addrs and lengths differ in size');
  let size = 0;
  for (let i = 0; i < n; i++) {
    const l = same ? lengths : lengths[i]!;
    if (!(l >= 0 && l <= 128)) throw new RangeError(`IPv6 prefix length ${l}`);
    size += 1 + ((l + 7) >>> 3);
  }
  const b = new Uint8Array(size);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const l = same ? lengths : lengths[i]!;
    const nb = (l + 7) >>> 3;
    b[p++] = l;
    const a = i << 4;
    for (let k = 0; k < nb; k++) b[p + k] = addrs[a + k]!;
    if (l & 7) b[p + nb - 1]! &= 0xff << (8 - (l & 7));
    p += nb;
  }
  return { afi: Afi.Ipv6, count: n, bytes: b, start: 0, end: size };
}

/**
 * Calls `fn(bytes, offset, length)` for each prefix; the address octets are `bytes[offset ..
 * offset+ceil(length/8))`, the rest of the address is zero.
 */
export function forEachPrefix(list: PrefixList, fn: (bytes: Uint8Array, offset: number, length: number) => void): void {
  const b = list.bytes;
  let p = list.start;
  const end = list.end;
  while (p < end) {
    const len = b[p]!;
    fn(b, p + 1, len);
    p += 1 + ((len + 7) >>> 3);
  }
}

/** IPv4 list as parallel arrays of unsigned addresses and lengths. */
export function ipv4PrefixArrays(list: PrefixList): { addrs: Uint32Array; lengths: Uint8Array } {
  if (list.afi !== Afi.Ipv4) throw new RangeError('not an IPv4 prefix list');
  const addrs = new Uint32Array(list.count);
  const lengths = new Uint8Array(list.count);
  const b = list.bytes;
  let p = list.start;
  for (let i = 0; i < list.count; i++) {
    const len = b[p++]!;
    let a = 0;
    if (len > 0) a = b[p++]! << 24;
    if (len > 8) a |= b[p++]! << 16;
    if (len > 16) a |= b[p++]! << 8;
    if (len > 24) a |= b[p++]!;
    addrs[i] = a >>> 0;
    lengths[i] = len;
  }
  return { addrs, lengths };
}

/** One prefix in text form ("192.0.2.0/24", "2001:db8::/32"), for humans and logs. */
export function prefixToString(afi: Afi, bytes: Uint8Array, offset: number, length: number): string {
  const nb = (length + 7) >>> 3;
  if (afi === Afi.Ipv4) {
    const o = new Uint8Array(4);
    for (let k = 0; k < nb && k < 4; k++) o[k] = bytes[offset + k]!;
    return `${formatIPv4Bytes(o)}/${length}`;
  }
  const full = new Uint8Array(16);
  for (let k = 0; k < nb && k < 16; k++) full[k] = bytes[offset + k]!;
  return `${formatIPv6Bytes(full)}/${length}`;
}

/** All prefixes of a list in text form. */
export function prefixStrings(list: PrefixList): string[] {
  const out: string[] = [];
  forEachPrefix(list, (b, o, l) => out.push(prefixToString(list.afi, b, o, l)));
  return out;
}

/** Parses "addr/len" (IPv4 or IPv6) into its family, length and 4 or 16 address octets. */
export function parsePrefix(s: string): { afi: Afi; length: number; address: Uint8Array } {
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const v6 = addr.includes(':');
  const max = v6 ? 128 : 32;
  const lenText = slash < 0 ? String(max) : s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) throw new RangeError(`bad prefix ${JSON.stringify(s)}`);
  if (v6) return { afi: Afi.Ipv6, length: Number(lenText), address: ipv6Bytes(addr) };
  return { afi: Afi.Ipv4, length: Number(lenText), address: ipv4ToBytes(ipv4Number(addr)) };
}

/** A PrefixList from text prefixes of one family (convenience for tests, config and humans; not the hot path). */
export function parsePrefixes(afi: Afi, prefixes: readonly string[]): PrefixList {
  const w = afi === Afi.Ipv6 ? 16 : 4;
  const addrs = new Uint8Array(prefixes.length * w);
  const lengths: number[] = [];
  prefixes.forEach((s, i) => {
    const p = parsePrefix(s);
    if (p.afi !== afi) throw new RangeError(`${s} is not ${Afi[afi]}`);
    addrs.set(p.address, i * w);
    lengths.push(p.length);
  });
  if (afi === Afi.Ipv6) return ipv6Prefixes(addrs, lengths);
  const v4: number[] = [];
  for (let i = 0; i < prefixes.length; i++) {
    v4.push(((addrs[4 * i]! << 24) | (addrs[4 * i + 1]! << 16) | (addrs[4 * i + 2]! << 8) | addrs[4 * i + 3]!) >>> 0);
  }
  return ipv4Prefixes(v4, lengths);
}

/** Octet length of a list's wire encoding. */
export function prefixListByteLength(list: PrefixList): number {
  return list.end - list.start;
}

/** True when both lists hold the same prefixes in the same order and encoding. */
export function prefixListEquals(a: PrefixList, b: PrefixList): boolean {
  if (a.afi !== b.afi || a.count !== b.count || a.end - a.start !== b.end - b.start) return false;
  for (let i = 0; i < a.end - a.start; i++) if (a.bytes[a.start + i] !== b.bytes[b.start + i]) return false;
  return true;
}

/** Copies a list's wire bytes to `out` at `off`; returns the offset after them. */
export function writePrefixList(list: PrefixList, out: Uint8Array, off: number): number {
  const n = list.end - list.start;
  const src = list.bytes;
  const s = list.start;
  if (n < 64) {
    // A native copy costs ~40 ns before any byte moves (perf-anchors §2); short spans are cheaper by hand.
    for (let i = 0; i < n; i++) out[off + i] = src[s + i]!;
  } else {
    out.set(src.subarray(s, s + n), off);
  }
  return off + n;
}
