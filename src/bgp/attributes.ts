// Path attributes (RFC 4271 §4.3, §5) and their RFC 7606 error handling. One table gives every known
// attribute its required Optional/Transitive flags and the approach used when it is malformed (RFC 7606 §7,
// RFC 6793 §6 for AS4_*); decodeAttribute applies it, encodeAttribute writes attributes back.
import { AS_TRANS, Afi, AsPathSegmentType, AttrFlag, Origin, PathAttributeType as T, Safi, UpdateSubcode } from './constants.js';
import { BgpError, type ErrorAction } from './errors.js';
import { afiBits, prefixListOf, scanPrefixes, writePrefixList } from './nlri.js';
import type { AsPathSegment, CodecContext, LargeCommunity, PathAttribute, PrefixList } from './types.js';

const O = AttrFlag.Optional;
const TR = AttrFlag.Transitive;

/** Required Optional|Transitive bits per known type code; 0 = not a type this codec knows. */
export const REQUIRED_FLAGS = new Uint8Array(256);
/** RFC 7606 approach when an attribute of this type is malformed (flags, length or value). */
export const MALFORMED_ACTION: (ErrorAction | undefined)[] = new Array(256).fill(undefined);
function known(code: number, flags: number, action: ErrorAction) {
  REQUIRED_FLAGS[code] = flags;
  MALFORMED_ACTION[code] = action;
}
known(T.Origin, TR, 'treat-as-withdraw'); // RFC 7606 §7.1
known(T.AsPath, TR, 'treat-as-withdraw'); // §7.2
known(T.NextHop, TR, 'treat-as-withdraw'); // §7.3
known(T.MultiExitDisc, O, 'treat-as-withdraw'); // §7.4
known(T.LocalPref, TR, 'treat-as-withdraw'); // §7.5
known(T.AtomicAggregate, TR, 'attribute-discard'); // §7.6
known(T.Aggregator, O | TR, 'attribute-discard'); // §7.7
known(T.Communities, O | TR, 'treat-as-withdraw'); // §7.8
known(T.OriginatorId, O, 'treat-as-withdraw'); // §7.9
known(T.ClusterList, O, 'treat-as-withdraw'); // §7.10
known(T.MpReachNlri, O, 'session-reset'); // §7.11 (AFI/SAFI disable not offered)
known(T.MpUnreachNlri, O, 'session-reset'); // §7.12
known(T.ExtendedCommunities, O | TR, 'treat-as-withdraw'); // §7.14
known(T.As4Path, O | TR, 'attribute-discard'); // RFC 6793 §6
known(T.As4Aggregator, O | TR, 'attribute-discard'); // RFC 6793 §6
known(T.LargeCommunities, O | TR, 'treat-as-withdraw'); // RFC 8092 §6

function asn32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

/**
 * Decodes AS_PATH / AS4_PATH segments from b[v..ve) with `w`-octet ASNs. Returns null when malformed
 * (RFC 7606 §7.2: overrun, zero-length segment, unknown segment type; confederation segments are refused
 * when `confed` is false, RFC 6793 §6).
 */
function decodeSegments(b: Uint8Array, v: number, ve: number, w: number, confed: boolean): AsPathSegment[] | null {
  const segs: AsPathSegment[] = [];
  let p = v;
  while (p < ve) {
    if (p + 2 > ve) return null;
    const type = b[p]!;
    const n = b[p + 1]!;
    if (n === 0) return null;
    if (type < AsPathSegmentType.AsSet || type > (confed ? AsPathSegmentType.AsConfedSet : AsPathSegmentType.AsSequence)) return null;
    p += 2;
    if (p + n * w > ve) return null;
    const asns: number[] = new Array(n);
    if (w === 4) for (let i = 0; i < n; i++, p += 4) asns[i] = asn32(b, p);
    else for (let i = 0; i < n; i++, p += 2) asns[i] = (b[p]! << 8) | b[p + 1]!;
    segs.push({ type, asns });
  }
  return segs;
}

/**
 * The next hop of a decoded MP_REACH_NLRI, interned: a peer sends the same next hop in UPDATE after UPDATE,
 * and creating any typed array (view or copy) costs about as much as the rest of a one-prefix UPDATE
 * (perf-anchors §2). The last one decoded is kept as a private copy and returned again while the bytes
 * match, so decoded next hops never alias the message and must not be mutated (they are shared).
 */
let lastNextHop = new Uint8Array(0);

function internNextHop(b: Uint8Array, s: number, e: number): Uint8Array {
  const n = e - s;
  const last = lastNextHop;
  if (last.length === n) {
    let i = 0;
    while (i < n && last[i] === b[s + i]) i++;
    if (i === n) return last;
  }
  const copy = new Uint8Array(n);
  for (let i = 0; i < n; i++) copy[i] = b[s + i]!;
  lastNextHop = copy;
  return copy;
}

const ORIGINS: PathAttribute[] = [0, 1, 2].map((origin) => Object.freeze({ kind: 'origin', flags: TR, origin }));

function attrError(subcode: UpdateSubcode, code: number, b: Uint8Array, p: number, ve: number, why: string): BgpError {
  // RFC 4271 §6.3: for flags, length, ORIGIN, NEXT_HOP and optional-attribute errors the data is the
  // erroneous attribute (type, length and value).
  return BgpError.update(subcode, MALFORMED_ACTION[code] ?? 'session-reset', `attribute ${code}: ${why}`, b.slice(p, ve));
}

let lastError: BgpError | undefined;

/** The error behind the last `null` from decodeAttribute (an out-parameter: no union to test per attribute). */
export function attributeError(): BgpError | undefined {
  return lastError;
}

function fail(e: BgpError): null {
  lastError = e;
  return null;
}

/**
 * Decodes the attribute whose flags octet is at b[p] and whose value is b[v..ve). Returns the attribute, or
 * null when it is malformed, with attributeError() describing why (its `action` says what to do; the caller
 * decides). Values of opaque attributes are views into `b`.
 */
export function decodeAttribute(b: Uint8Array, p: number, v: number, ve: number, ctx: CodecContext): PathAttribute | null {
  const len = ve - v;
  // The low four bits are unused and ignored on receipt (RFC 4271 §4.3). ExtendedLength is kept only where it
  // says something the length does not (a short value sent with a 2-octet length), so it round-trips.
  const flags = b[p]! & (len > 255 ? 0xe0 : 0xf0);
  const code = b[p + 1]!;
  const required = REQUIRED_FLAGS[code]!;
  if (required === 0) {
    // RFC 4271 §6.3: an unrecognised well-known attribute is an error; unknown optional ones are kept.
    if ((flags & O) === 0) {
      return fail(BgpError.update(UpdateSubcode.UnrecognizedWellKnownAttribute, 'session-reset', `unknown well-known attribute ${code}`, b.slice(p, ve)));
    }
    return { kind: 'unknown', code, flags, value: b.subarray(v, ve) };
  }
  // RFC 7606 §3(c): only the Optional and Transitive bits are checked.
  if ((flags & (O | TR)) !== required) return fail(attrError(UpdateSubcode.AttributeFlagsError, code, b, p, ve, `flags 0x${flags.toString(16)}`));
  switch (code) {
    case 1: { // Origin
      if (len !== 1) return fail(attrError(UpdateSubcode.AttributeLengthError, code, b, p, ve, `length ${len}`));
      const o = b[v]!;
      if (o > Origin.Incomplete) return fail(attrError(UpdateSubcode.InvalidOriginAttribute, code, b, p, ve, `value ${o}`));
      return flags === TR ? ORIGINS[o]! : { kind: 'origin', flags, origin: o };
    }
    case 2: { // AsPath
      const segments = decodeSegments(b, v, ve, ctx.as4 ? 4 : 2, true);
      if (segments === null) return fail(BgpError.update(UpdateSubcode.MalformedAsPath, 'treat-as-withdraw', 'malformed AS_PATH'));
      return { kind: 'as-path', flags, segments };
    }
    case 3: // NextHop
      if (len !== 4) return fail(attrError(UpdateSubcode.AttributeLengthError, code, b, p, ve, `length ${len}`));
      return { kind: 'next-hop', flags, nextHop: asn32(b, v) };
    case 4: // MultiExitDisc
      if (len !== 4) return fail(attrError(UpdateSubcode.AttributeLengthError, code, b, p, ve, `length ${len}`));
      return { kind: 'med', flags, med: asn32(b, v) };
    case 5: // LocalPref
      if (len !== 4) return fail(attrError(UpdateSubcode.AttributeLengthError, code, b, p, ve, `length ${len}`));
      return { kind: 'local-pref', flags, localPref: asn32(b, v) };
    case 6: // AtomicAggregate
      if (len !== 0) return fail(attrError(UpdateSubcode.AttributeLengthError, code, b, p, ve, `length ${len}`));
      return { kind: 'atomic-aggregate', flags };
    case 7: // Aggregator
      if (ctx.as4 ? len !== 8 : len !== 6) return fail(attrError(UpdateSubcode.AttributeLengthError, code, b, p, ve, `length ${len}`));
      return ctx.as4
        ? { kind: 'aggregator', flags, asn: asn32(b, v), address: asn32(b, v + 4) }
        : { kind: 'aggregator', flags, asn: (b[v]! << 8) | b[v + 1]!, address: asn32(b, v + 2) };
    case 8: { // Communities
      if (len === 0 || len % 4 !== 0) return fail(attrError(UpdateSubcode.AttributeLengthError, code, b, p, ve, `length ${len}`));
      const communities: number[] = new Array(len >>> 2);
      for (let i = 0, q = v; q < ve; i++, q += 4) communities[i] = asn32(b, q);
      return { kind: 'communities', flags, communities };
    }
    case 9: // OriginatorId
      if (len !== 4) return fail(attrError(UpdateSubcode.AttributeLengthError, code, b, p, ve, `length ${len}`));
      return { kind: 'unknown', code, flags, value: b.subarray(v, ve) };
    case 10: // ClusterList
      if (len === 0 || len % 4 !== 0) return fail(attrError(UpdateSubcode.AttributeLengthError, code, b, p, ve, `length ${len}`));
      return { kind: 'unknown', code, flags, value: b.subarray(v, ve) };
    case 14: { // MpReachNlri
      if (len < 5) return fail(attrError(UpdateSubcode.OptionalAttributeError, code, b, p, ve, `length ${len}`));
      const afi = (b[v]! << 8) | b[v + 1]!;
      const safi = b[v + 2]!;
      const nhl = b[v + 3]!;
      if (v + 5 + nhl > ve) return fail(attrError(UpdateSubcode.OptionalAttributeError, code, b, p, ve, 'next hop overruns the attribute'));
      // Only IPv4/IPv6 unicast and multicast NLRI are understood; other families stay opaque.
      if ((afi !== Afi.Ipv4 && afi !== Afi.Ipv6) || (safi !== Safi.Unicast && safi !== Safi.Multicast)) {
        return { kind: 'unknown', code, flags, value: b.subarray(v, ve) };
      }
      if (afi === Afi.Ipv6 ? nhl !== 16 && nhl !== 32 : nhl !== 4 && nhl !== 16 && nhl !== 32) {
        return fail(attrError(UpdateSubcode.OptionalAttributeError, code, b, p, ve, `next hop length ${nhl}`));
      }
      const ns = v + 5 + nhl; // b[ns-1] is the reserved octet: ignored (RFC 4760 §3), written back as 0
      const n = scanPrefixes(b, ns, ve, afiBits(afi));
      if (n < 0) return fail(attrError(UpdateSubcode.OptionalAttributeError, code, b, p, ve, 'malformed NLRI'));
      return { kind: 'mp-reach', flags, afi, safi, nextHop: internNextHop(b, v + 4, v + 4 + nhl), nlri: prefixListOf(afi, b, ns, ve, n) };
    }
    case 15: { // MpUnreachNlri
      if (len < 3) return fail(attrError(UpdateSubcode.OptionalAttributeError, code, b, p, ve, `length ${len}`));
      const afi = (b[v]! << 8) | b[v + 1]!;
      const safi = b[v + 2]!;
      if ((afi !== Afi.Ipv4 && afi !== Afi.Ipv6) || (safi !== Safi.Unicast && safi !== Safi.Multicast)) {
        return { kind: 'unknown', code, flags, value: b.subarray(v, ve) };
      }
      const n = scanPrefixes(b, v + 3, ve, afiBits(afi));
      if (n < 0) return fail(attrError(UpdateSubcode.OptionalAttributeError, code, b, p, ve, 'malformed withdrawn routes'));
      return { kind: 'mp-unreach', flags, afi, safi, withdrawn: prefixListOf(afi, b, v + 3, ve, n) };
    }
    case 16: // ExtendedCommunities
      if (len === 0 || len % 8 !== 0) return fail(attrError(UpdateSubcode.AttributeLengthError, code, b, p, ve, `length ${len}`));
      return { kind: 'extended-communities', flags, value: b.subarray(v, ve) };
    case 17: { // As4Path
      const segments = decodeSegments(b, v, ve, 4, false);
      if (segments === null) return fail(BgpError.update(UpdateSubcode.MalformedAsPath, 'attribute-discard', 'malformed AS4_PATH'));
      return { kind: 'as4-path', flags, segments };
    }
    case 18: // As4Aggregator
      if (len !== 8) return fail(attrError(UpdateSubcode.AttributeLengthError, code, b, p, ve, `length ${len}`));
      return { kind: 'as4-aggregator', flags, asn: asn32(b, v), address: asn32(b, v + 4) };
    case 32: { // LargeCommunities
      if (len === 0 || len % 12 !== 0) return fail(attrError(UpdateSubcode.AttributeLengthError, code, b, p, ve, `length ${len}`));
      const communities: LargeCommunity[] = [];
      for (let q = v; q < ve; q += 12) {
        communities.push({ globalAdmin: asn32(b, q), localData1: asn32(b, q + 4), localData2: asn32(b, q + 8) });
      }
      return { kind: 'large-communities', flags, communities };
    }
    default:
      // Unreachable: every code with REQUIRED_FLAGS is handled above.
      return { kind: 'unknown', code, flags, value: b.subarray(v, ve) };
  }
}

// ---- encoding ------------------------------------------------------------------------------------------

/** The type code of an attribute. */
export function attributeCode(a: PathAttribute): number {
  switch (a.kind) {
    case 'origin': return T.Origin;
    case 'as-path': return T.AsPath;
    case 'next-hop': return T.NextHop;
    case 'med': return T.MultiExitDisc;
    case 'local-pref': return T.LocalPref;
    case 'atomic-aggregate': return T.AtomicAggregate;
    case 'aggregator': return T.Aggregator;
    case 'communities': return T.Communities;
    case 'mp-reach': return T.MpReachNlri;
    case 'mp-unreach': return T.MpUnreachNlri;
    case 'extended-communities': return T.ExtendedCommunities;
    case 'as4-path': return T.As4Path;
    case 'as4-aggregator': return T.As4Aggregator;
    case 'large-communities': return T.LargeCommunities;
    case 'unknown': return a.code;
  }
}

function segmentsLength(segs: readonly AsPathSegment[], w: number): number {
  let n = 0;
  for (let i = 0; i < segs.length; i++) n += 2 + segs[i]!.asns.length * w;
  return n;
}

/** Octet length of an attribute's value in this context. */
export function attributeValueLength(a: PathAttribute, ctx: CodecContext): number {
  switch (a.kind) {
    case 'origin': return 1;
    case 'as-path': return segmentsLength(a.segments, ctx.as4 ? 4 : 2);
    case 'next-hop':
    case 'med':
    case 'local-pref': return 4;
    case 'atomic-aggregate': return 0;
    case 'aggregator': return ctx.as4 ? 8 : 6;
    case 'communities': return a.communities.length * 4;
    case 'mp-reach': return 5 + a.nextHop.length + (a.nlri.end - a.nlri.start);
    case 'mp-unreach': return 3 + (a.withdrawn.end - a.withdrawn.start);
    case 'extended-communities': return a.value.length;
    case 'as4-path': return segmentsLength(a.segments, 4);
    case 'as4-aggregator': return 8;
    case 'large-communities': return a.communities.length * 12;
    case 'unknown': return a.value.length;
  }
}

/** Octet length of the whole attribute (header included) in this context. */
export function attributeLength(a: PathAttribute, ctx: CodecContext): number {
  const len = attributeValueLength(a, ctx);
  return len > 255 || (a.flags & AttrFlag.ExtendedLength) !== 0 ? 4 + len : 3 + len;
}

function put32(out: Uint8Array, p: number, x: number): void {
  out[p] = x >>> 24;
  out[p + 1] = (x >>> 16) & 0xff;
  out[p + 2] = (x >>> 8) & 0xff;
  out[p + 3] = x & 0xff;
}

function writeSegments(segs: readonly AsPathSegment[], w: number, out: Uint8Array, p: number): number {
  for (let s = 0; s < segs.length; s++) {
    const seg = segs[s]!;
    const asns = seg.asns;
    const n = asns.length;
    if (n === 0 || n > 255) throw new RangeError(`AS_PATH segment of ${n} ASNs (1–255; split longer paths)`);
    out[p++] = seg.type;
    out[p++] = n;
    if (w === 4) {
      for (let i = 0; i < n; i++, p += 4) put32(out, p, asns[i]!);
    } else {
      for (let i = 0; i < n; i++, p += 2) {
        // RFC 6793 §4.2.2: towards a 2-octet speaker, ASNs above 65535 become AS_TRANS.
        const a = asns[i]! > 0xffff ? AS_TRANS : asns[i]!;
        out[p] = a >>> 8;
        out[p + 1] = a & 0xff;
      }
    }
  }
  return p;
}

function copyBytes(src: Uint8Array, out: Uint8Array, p: number): number {
  const n = src.length;
  if (n < 64) for (let i = 0; i < n; i++) out[p + i] = src[i]!;
  else out.set(src, p);
  return p + n;
}

/** Writes the attribute header (flags, type, 1- or 2-octet length); returns the value's offset. */
function header(out: Uint8Array, off: number, flags: number, code: number, len: number): number {
  if (len > 255 || (flags & 0x10) !== 0) {
    if (len > 0xffff) throw new RangeError(`attribute ${code} value of ${len} octets`);
    out[off] = (flags & 0xe0) | 0x10;
    out[off + 1] = code;
    out[off + 2] = len >>> 8;
    out[off + 3] = len & 0xff;
    return off + 4;
  }
  out[off] = flags & 0xe0;
  out[off + 1] = code;
  out[off + 2] = len;
  return off + 3;
}

/**
 * Writes one attribute at out[off]; returns the end offset. Flags are written as given except the four
 * unused low bits (0) and ExtendedLength, which is set when asked for or when the value exceeds 255 octets.
 *
 * One switch reads `kind` and `flags` once: attribute objects have many shapes, so every property read
 * shared by all kinds is a megamorphic load, the main cost of encoding a small UPDATE. The cases are in
 * order of frequency: a switch on strings is a chain of comparisons.
 */
export function encodeAttribute(a: PathAttribute, ctx: CodecContext, out: Uint8Array, off: number): number {
  const flags = a.flags;
  let p: number;
  switch (a.kind) {
    case 'origin':
      p = header(out, off, flags, 1, 1);
      out[p] = a.origin;
      return p + 1;
    case 'as-path': {
      const w = ctx.as4 ? 4 : 2;
      return writeSegments(a.segments, w, out, header(out, off, flags, 2, segmentsLength(a.segments, w)));
    }
    case 'next-hop':
      p = header(out, off, flags, 3, 4);
      put32(out, p, a.nextHop);
      return p + 4;
    case 'mp-reach': {
      const nh = a.nextHop;
      const nlri = a.nlri;
      p = header(out, off, flags, 14, 5 + nh.length + (nlri.end - nlri.start));
      out[p] = a.afi >>> 8;
      out[p + 1] = a.afi & 0xff;
      out[p + 2] = a.safi;
      out[p + 3] = nh.length;
      p = copyBytes(nh, out, p + 4);
      out[p] = 0; // reserved (RFC 4760 §3)
      return writePrefixList(nlri, out, p + 1);
    }
    case 'mp-unreach': {
      const w = a.withdrawn;
      p = header(out, off, flags, 15, 3 + (w.end - w.start));
      out[p] = a.afi >>> 8;
      out[p + 1] = a.afi & 0xff;
      out[p + 2] = a.safi;
      return writePrefixList(w, out, p + 3);
    }
    case 'med':
      p = header(out, off, flags, 4, 4);
      put32(out, p, a.med);
      return p + 4;
    case 'local-pref':
      p = header(out, off, flags, 5, 4);
      put32(out, p, a.localPref);
      return p + 4;
    case 'atomic-aggregate':
      return header(out, off, flags, 6, 0);
    case 'aggregator':
      if (!ctx.as4) {
        p = header(out, off, flags, 7, 6);
        const asn = a.asn > 0xffff ? AS_TRANS : a.asn; // RFC 6793 §4.2.2
        out[p] = asn >>> 8;
        out[p + 1] = asn & 0xff;
        put32(out, p + 2, a.address);
        return p + 6;
      }
      p = header(out, off, flags, 7, 8);
      put32(out, p, a.asn);
      put32(out, p + 4, a.address);
      return p + 8;
    case 'as4-aggregator':
      p = header(out, off, flags, 18, 8);
      put32(out, p, a.asn);
      put32(out, p + 4, a.address);
      return p + 8;
    case 'communities': {
      const cs = a.communities;
      p = header(out, off, flags, 8, cs.length * 4);
      for (let i = 0; i < cs.length; i++, p += 4) put32(out, p, cs[i]!);
      return p;
    }
    case 'extended-communities':
      return copyBytes(a.value, out, header(out, off, flags, 16, a.value.length));
    case 'unknown':
      return copyBytes(a.value, out, header(out, off, flags, a.code, a.value.length));
    case 'as4-path':
      return writeSegments(a.segments, 4, out, header(out, off, flags, 17, segmentsLength(a.segments, 4)));
    case 'large-communities': {
      const cs = a.communities;
      p = header(out, off, flags, 32, cs.length * 12);
      for (let i = 0; i < cs.length; i++, p += 12) {
        const c = cs[i]!;
        put32(out, p, c.globalAdmin);
        put32(out, p + 4, c.localData1);
        put32(out, p + 8, c.localData2);
      }
      return p;
    }
  }
}

// ---- constructors with the RFC flags ----------------------------------------------------------------------

/** Attribute constructors that fill in the flags RFC 4271 and the attribute's RFC prescribe. */
export const attr = {
  origin: (origin: Origin): PathAttribute => ORIGINS[origin] ?? { kind: 'origin', flags: TR, origin },
  asPath: (segments: readonly AsPathSegment[]): PathAttribute => ({ kind: 'as-path', flags: TR, segments }),
  /** AS_PATH of one AS_SEQUENCE (empty list → empty AS_PATH). */
  asSequence: (asns: readonly number[]): PathAttribute => ({
    kind: 'as-path',
    flags: TR,
    segments: asns.length === 0 ? [] : [{ type: AsPathSegmentType.AsSequence, asns }],
  }),
  nextHop: (nextHop: number): PathAttribute => ({ kind: 'next-hop', flags: TR, nextHop }),
  med: (med: number): PathAttribute => ({ kind: 'med', flags: O, med }),
  localPref: (localPref: number): PathAttribute => ({ kind: 'local-pref', flags: TR, localPref }),
  atomicAggregate: (): PathAttribute => ({ kind: 'atomic-aggregate', flags: TR }),
  aggregator: (asn: number, address: number): PathAttribute => ({ kind: 'aggregator', flags: O | TR, asn, address }),
  communities: (communities: readonly number[]): PathAttribute => ({ kind: 'communities', flags: O | TR, communities }),
  mpReach: (afi: Afi, nextHop: Uint8Array, nlri: PrefixList, safi: Safi = Safi.Unicast): PathAttribute => ({
    kind: 'mp-reach',
    flags: O,
    afi,
    safi,
    nextHop,
    nlri,
  }),
  mpUnreach: (afi: Afi, withdrawn: PrefixList, safi: Safi = Safi.Unicast): PathAttribute => ({ kind: 'mp-unreach', flags: O, afi, safi, withdrawn }),
  extendedCommunities: (value: Uint8Array): PathAttribute => ({ kind: 'extended-communities', flags: O | TR, value }),
  as4Path: (segments: readonly AsPathSegment[]): PathAttribute => ({ kind: 'as4-path', flags: O | TR, segments }),
  as4Aggregator: (asn: number, address: number): PathAttribute => ({ kind: 'as4-aggregator', flags: O | TR, asn, address }),
  largeCommunities: (communities: readonly LargeCommunity[]): PathAttribute => ({ kind: 'large-communities', flags: O | TR, communities }),
  unknown: (code: number, flags: number, value: Uint8Array): PathAttribute => ({ kind: 'unknown', code, flags, value }),
};

/**
 * The attributes to send when passing a received route on to another peer (RFC 4271 §5, §9.1.4 / §5 of the
 * "Partial" bit): unknown optional non-transitive attributes are dropped, unknown optional transitive ones
 * are kept with the Partial bit set. Known attributes are returned unchanged: which of them to keep (MED,
 * LOCAL_PREF, ...) is policy, not codec.
 */
export function attributesForPassOn(attrs: readonly PathAttribute[]): PathAttribute[] {
  const out: PathAttribute[] = [];
  for (const a of attrs) {
    if (a.kind !== 'unknown' || REQUIRED_FLAGS[a.code] !== 0) {
      out.push(a);
    } else if ((a.flags & AttrFlag.Transitive) !== 0) {
      out.push({ ...a, flags: a.flags | AttrFlag.Partial });
    }
  }
  return out;
}
