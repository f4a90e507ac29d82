// UPDATE packing: many prefixes that share one attribute set go into as few UPDATEs as the negotiated
// maximum allows (4096 octets, or 65535 with RFC 8654 extended messages). IPv4 unicast uses the UPDATE's own
// NLRI / withdrawn routes fields; other families use MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760), placed as
// the first attribute (RFC 7606 §5.1).
//
// The packer writes wire bytes straight into one buffer: the attribute block is encoded once and copied into
// every message, prefixes are copied as runs of their wire encoding. Prefixes are cut greedily in order;
// that is the minimum number of UPDATEs when all prefixes have the same length, and otherwise at most one
// message more per (max/largest-prefix) prefixes.
import { Afi, AttrFlag, HEADER_LENGTH, MessageType, PathAttributeType, Safi } from './constants.js';
import { encodeAttribute } from './attributes.js';
import type { CodecContext, PathAttribute, PrefixList } from './types.js';

/** UPDATEs back to back in one buffer (`bytes`, ready for one socket write) and as per-message views. */
export interface PackedUpdates {
  readonly bytes: Uint8Array;
  readonly messages: Uint8Array[];
}

const EMPTY: PackedUpdates = Object.freeze({ bytes: new Uint8Array(0), messages: [] });
const attrScratch = new Uint8Array(0x10000);

function encodeAttributes(attrs: readonly PathAttribute[], ctx: CodecContext): Uint8Array {
  let p = 0;
  for (const a of attrs) {
    if (a.kind === 'mp-reach' || a.kind === 'mp-unreach') throw new RangeError('pass prefixes to the packer, not MP_REACH/MP_UNREACH attributes');
    p = encodeAttribute(a, ctx, attrScratch, p);
    if (p > attrScratch.length) throw new RangeError('attributes too long');
  }
  return attrScratch.slice(0, p);
}

/** Cut points: message i carries prefix bytes [cuts[i], cuts[i+1]). `room` is the space for prefix bytes. */
function cutPrefixes(list: PrefixList, room: number): number[] {
  const b = list.bytes;
  const end = list.end;
  const cuts = [list.start];
  let start = list.start;
  let p = list.start;
  while (p < end) {
    const next = p + 1 + ((b[p]! + 7) >>> 3);
    if (next - start > room) {
      cuts.push(p);
      start = p;
    }
    p = next;
  }
  cuts.push(end);
  return cuts;
}

function writeHeader(out: Uint8Array, off: number, length: number): void {
  for (let i = 0; i < 16; i++) out[off + i] = 0xff;
  out[off + 16] = length >>> 8;
  out[off + 17] = length & 0xff;
  out[off + 18] = MessageType.Update;
}

function copy(src: Uint8Array, s: number, e: number, out: Uint8Array, p: number): number {
  const n = e - s;
  if (n < 64) for (let i = 0; i < n; i++) out[p + i] = src[s + i]!;
  else out.set(src.subarray(s, e), p);
  return p + n;
}

/**
 * UPDATEs announcing `prefixes` with `attributes` (which must not include MP_REACH/MP_UNREACH). IPv4
 * unicast prefixes go in the NLRI field (include a NEXT_HOP attribute); other families go in MP_REACH_NLRI
 * with `nextHop` (16 or 32 octets for IPv6: global, then link-local).
 */
export function packAnnouncements(
  prefixes: PrefixList,
  attributes: readonly PathAttribute[],
  ctx: CodecContext,
  opts: { nextHop?: Uint8Array; safi?: Safi } = {},
): PackedUpdates {
  if (prefixes.count === 0) return EMPTY;
  const attrs = encodeAttributes(attributes, ctx);
  const max = ctx.maxMessageLength;
  const safi = opts.safi ?? Safi.Unicast;
  if (prefixes.afi === Afi.Ipv4 && safi === Safi.Unicast) {
    const fixed = HEADER_LENGTH + 4 + attrs.length;
    const cuts = cutPrefixes(prefixes, roomOrThrow(max - fixed, prefixes.afi));
    const n = cuts.length - 1;
    const out = new Uint8Array(n * fixed + (prefixes.end - prefixes.start));
    const messages: Uint8Array[] = new Array(n);
    let off = 0;
    for (let i = 0; i < n; i++) {
      const s = cuts[i]!;
      const e = cuts[i + 1]!;
      const len = fixed + (e - s);
      writeHeader(out, off, len);
      out[off + 19] = 0;
      out[off + 20] = 0;
      out[off + 21] = attrs.length >>> 8;
      out[off + 22] = attrs.length & 0xff;
      const p = copy(attrs, 0, attrs.length, out, off + 23);
      copy(prefixes.bytes, s, e, out, p);
      messages[i] = out.subarray(off, off + len);
      off += len;
    }
    return { bytes: out, messages };
  }
  const nh = opts.nextHop;
  if (nh === undefined || (nh.length !== 4 && nh.length !== 16 && nh.length !== 32)) {
    throw new RangeError('MP_REACH_NLRI needs a next hop of 4, 16 or 32 octets');
  }
  // MP_REACH_NLRI value: AFI(2) SAFI(1) NH-len(1) NH reserved(1) NLRI; header 3 or 4 octets.
  const mpFixed = 5 + nh.length;
  const fixed = HEADER_LENGTH + 4 + attrs.length + 4 + mpFixed;
  const cuts = cutPrefixes(prefixes, roomOrThrow(max - fixed, prefixes.afi));
  return writeMp(cuts, prefixes, attrs, (out, p, s, e) => {
    out[p++] = prefixes.afi >>> 8;
    out[p++] = prefixes.afi & 0xff;
    out[p++] = safi;
    out[p++] = nh.length;
    p = copy(nh, 0, nh.length, out, p);
    out[p++] = 0;
    return copy(prefixes.bytes, s, e, out, p);
  }, PathAttributeType.MpReachNlri, mpFixed);
}

/**
 * UPDATEs withdrawing `prefixes`: the withdrawn routes field for IPv4 unicast, MP_UNREACH_NLRI otherwise.
 */
export function packWithdrawals(prefixes: PrefixList, ctx: CodecContext, opts: { safi?: Safi } = {}): PackedUpdates {
  if (prefixes.count === 0) return EMPTY;
  const max = ctx.maxMessageLength;
  const safi = opts.safi ?? Safi.Unicast;
  if (prefixes.afi === Afi.Ipv4 && safi === Safi.Unicast) {
    const fixed = HEADER_LENGTH + 4;
    const cuts = cutPrefixes(prefixes, roomOrThrow(max - fixed, prefixes.afi));
    const n = cuts.length - 1;
    const out = new Uint8Array(n * fixed + (prefixes.end - prefixes.start));
    const messages: Uint8Array[] = new Array(n);
    let off = 0;
    for (let i = 0; i < n; i++) {
      const s = cuts[i]!;
      const e = cuts[i + 1]!;
      const len = fixed + (e - s);
      writeHeader(out, off, len);
      out[off + 19] = (e - s) >>> 8;
      out[off + 20] = (e - s) & 0xff;
      const p = copy(prefixes.bytes, s, e, out, off + 21);
      out[p] = 0;
      out[p + 1] = 0;
      messages[i] = out.subarray(off, off + len);
      off += len;
    }
    return { bytes: out, messages };
  }
  const fixed = HEADER_LENGTH + 4 + 4 + 3;
  const cuts = cutPrefixes(prefixes, roomOrThrow(max - fixed, prefixes.afi));
  return writeMp(cuts, prefixes, new Uint8Array(0), (out, p, s, e) => {
    out[p++] = prefixes.afi >>> 8;
    out[p++] = prefixes.afi & 0xff;
    out[p++] = safi;
    return copy(prefixes.bytes, s, e, out, p);
  }, PathAttributeType.MpUnreachNlri, 3);
}

function roomOrThrow(room: number, afi: Afi): number {
  const largest = afi === Afi.Ipv6 ? 17 : 5;
  if (room < largest) throw new RangeError('attributes leave no room for a prefix in one UPDATE');
  return room;
}

/** Writes UPDATEs whose first attribute is an MP attribute carrying prefix bytes [cuts[i], cuts[i+1]). */
function writeMp(
  cuts: number[],
  prefixes: PrefixList,
  attrs: Uint8Array,
  writeValue: (out: Uint8Array, p: number, s: number, e: number) => number,
  code: number,
  valueFixed: number,
): PackedUpdates {
  const n = cuts.length - 1;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const vlen = valueFixed + (cuts[i + 1]! - cuts[i]!);
    total += HEADER_LENGTH + 4 + (vlen > 255 ? 4 : 3) + vlen + attrs.length;
  }
  const out = new Uint8Array(total);
  const messages: Uint8Array[] = new Array(n);
  let off = 0;
  for (let i = 0; i < n; i++) {
    const s = cuts[i]!;
    const e = cuts[i + 1]!;
    const vlen = valueFixed + (e - s);
    const ext = vlen > 255;
    const alen = (ext ? 4 : 3) + vlen + attrs.length;
    const len = HEADER_LENGTH + 4 + alen;
    writeHeader(out, off, len);
    out[off + 19] = 0;
    out[off + 20] = 0;
    out[off + 21] = alen >>> 8;
    out[off + 22] = alen & 0xff;
    let p = off + 23;
    out[p++] = AttrFlag.Optional | (ext ? AttrFlag.ExtendedLength : 0);
    out[p++] = code;
    if (ext) out[p++] = vlen >>> 8;
    out[p++] = vlen & 0xff;
    p = writeValue(out, p, s, e);
    copy(attrs, 0, attrs.length, out, p);
    messages[i] = out.subarray(off, off + len);
    off += len;
  }
  return { bytes: out, messages };
}
