// UPDATE (RFC 4271 §4.3) with the revised error handling of RFC 7606, and End-of-RIB markers (RFC 4724 §2).
//
// Error policy (README.md, "Errors"): errors whose approach is `session-reset` are thrown at once.
// `treat-as-withdraw` errors are collected while decoding continues (RFC 7606 §3: a later error may be
// stronger); the first one is then thrown with `err.update` set to the decoded message, whose prefixes the
// caller must withdraw. `attribute-discard` errors drop the attribute and are listed in `msg.discarded`.
import { Afi, AttrFlag, MessageType, PathAttributeType as T, Safi, UpdateSubcode } from './constants.js';
import { BgpError } from './errors.js';
import { attributeError, decodeAttribute, encodeAttribute } from './attributes.js';
import { emptyPrefixList, prefixListOf, scanPrefixes, writePrefixList } from './nlri.js';
import type { CodecContext, Family, PathAttribute, PrefixList, UpdateMessage } from './types.js';

// Duplicate detection without a per-message allocation: seen[code] === stamp means "already in this UPDATE".
// Decoding is synchronous, so one table serves every call.
const seen = new Uint32Array(256);
let stamp = 0;

/** Decodes an UPDATE whose header (19 octets, length already checked ≥ 23) is at b[0]. */
export function decodeUpdate(b: Uint8Array, ctx: CodecContext): UpdateMessage {
  const end = b.length;
  const wlen = (b[19]! << 8) | b[20]!;
  const ws = 21;
  const we = ws + wlen;
  // RFC 4271 §6.3 / RFC 7606 §4: lengths that cannot be reconciled with the message length leave no way to
  // find the NLRI, so this stays a session reset.
  if (we + 2 > end) throw BgpError.update(UpdateSubcode.MalformedAttributeList, 'session-reset', `withdrawn routes length ${wlen} overruns the message`);
  const alen = (b[we]! << 8) | b[we + 1]!;
  const as = we + 2;
  const ae = as + alen;
  if (ae > end) throw BgpError.update(UpdateSubcode.MalformedAttributeList, 'session-reset', `total path attribute length ${alen} overruns the message`);
  const wn = scanPrefixes(b, ws, we, 32);
  if (wn < 0) throw BgpError.update(UpdateSubcode.InvalidNetworkField, 'session-reset', 'malformed withdrawn routes');
  const nn = scanPrefixes(b, ae, end, 32);
  if (nn < 0) throw BgpError.update(UpdateSubcode.InvalidNetworkField, 'session-reset', 'malformed NLRI');

  if (++stamp === 0xffffffff) {
    seen.fill(0);
    stamp = 1;
  }
  const st = stamp;
  const attributes: PathAttribute[] = [];
  let withdraw: BgpError | undefined;
  let discarded: BgpError[] | undefined;
  let reachNlri = false;
  let p = as;
  while (p < ae) {
    const flags = b[p]!;
    const hl = (flags & 0x10) /* AttrFlag.ExtendedLength */ !== 0 ? 4 : 3;
    if (p + hl > ae) {
      // RFC 7606 §4, second case: too few octets left for an attribute header.
      withdraw ??= BgpError.update(UpdateSubcode.MalformedAttributeList, 'treat-as-withdraw', 'truncated attribute header');
      break;
    }
    const code = b[p + 1]!;
    const len = hl === 4 ? (b[p + 2]! << 8) | b[p + 3]! : b[p + 2]!;
    const v = p + hl;
    const ve = v + len;
    if (ve > ae) {
      // RFC 7606 §4, first case: the attribute overruns the attribute field.
      withdraw ??= BgpError.update(UpdateSubcode.MalformedAttributeList, 'treat-as-withdraw', `attribute ${code} overruns the attribute field`);
      break;
    }
    if (seen[code] === st) {
      // RFC 7606 §3(g): repeated MP_REACH/MP_UNREACH reset the session; other repeats are discarded.
      if (code === 14 || code === 15) { // MP_REACH_NLRI, MP_UNREACH_NLRI
        throw BgpError.update(UpdateSubcode.MalformedAttributeList, 'session-reset', `attribute ${code} appears twice`);
      }
      p = ve;
      continue;
    }
    seen[code] = st;
    const a = decodeAttribute(b, p, v, ve, ctx);
    if (a === null) {
      const e = attributeError()!;
      if (e.action === 'session-reset') throw e;
      if (e.action === 'treat-as-withdraw') withdraw ??= e;
      else (discarded ??= []).push(e);
    } else {
      attributes.push(a);
      // Checked by code first: `kind` is shared by a dozen object shapes (a megamorphic load).
      if (code === 14) reachNlri = a.kind !== 'mp-reach' || a.nlri.count > 0;
    }
    p = ve;
  }

  // RFC 4271 §6.3 / RFC 7606 §3(d): with NLRI present, ORIGIN and AS_PATH are mandatory, and NEXT_HOP too for
  // the UPDATE's own NLRI field (RFC 4760 §3 makes it optional when only MP_REACH_NLRI carries routes).
  // Checked only when the attribute field parsed cleanly: otherwise the withdraw above already applies.
  if (withdraw === undefined && (nn > 0 || reachNlri)) {
    let missing = 0;
    if (seen[T.Origin] !== st) missing = T.Origin;
    else if (seen[T.AsPath] !== st) missing = T.AsPath;
    else if (nn > 0 && seen[T.NextHop] !== st) missing = T.NextHop;
    if (missing !== 0) {
      withdraw = BgpError.update(
        UpdateSubcode.MissingWellKnownAttribute,
        'treat-as-withdraw',
        `missing well-known attribute ${missing}`,
        new Uint8Array([missing]), // RFC 4271 §6.3: data is the missing attribute's type code
      );
    }
  }

  const msg: { -readonly [K in keyof UpdateMessage]: UpdateMessage[K] } = {
    type: MessageType.Update,
    withdrawn: prefixListOf(Afi.Ipv4, b, ws, we, wn),
    attributes,
    nlri: prefixListOf(Afi.Ipv4, b, ae, end, nn),
  };
  if (discarded !== undefined) msg.discarded = discarded;
  if (withdraw !== undefined) {
    withdraw.update = msg;
    throw withdraw;
  }
  return msg;
}

/** Writes an UPDATE body at out[off+19]; returns the end offset. The header is the caller's. */
export function encodeUpdate(m: UpdateMessage, ctx: CodecContext, out: Uint8Array, off: number): number {
  const w = m.withdrawn;
  const n = m.nlri;
  if (w.afi !== Afi.Ipv4 || n.afi !== Afi.Ipv4) throw new RangeError('the UPDATE withdrawn/NLRI fields carry IPv4 only; use MP_REACH/MP_UNREACH');
  const wlen = w.end - w.start;
  out[off + 19] = wlen >>> 8;
  out[off + 20] = wlen & 0xff;
  let p = writePrefixList(w, out, off + 21);
  const as = p + 2;
  p = as;
  const attrs = m.attributes;
  for (let i = 0; i < attrs.length; i++) p = encodeAttribute(attrs[i]!, ctx, out, p);
  const alen = p - as;
  out[as - 2] = alen >>> 8;
  out[as - 1] = alen & 0xff;
  return writePrefixList(n, out, p);
}

// ---- helpers for callers ---------------------------------------------------------------------------------

/** The first attribute of a kind, if present. */
export function findAttribute<K extends PathAttribute['kind']>(m: UpdateMessage, kind: K): Extract<PathAttribute, { kind: K }> | undefined {
  for (const a of m.attributes) if (a.kind === kind) return a as Extract<PathAttribute, { kind: K }>;
  return undefined;
}

/** Every prefix list announced by an UPDATE: the NLRI field and MP_REACH_NLRI. */
export function announcedPrefixes(m: UpdateMessage): PrefixList[] {
  const out: PrefixList[] = [];
  if (m.nlri.count > 0) out.push(m.nlri);
  for (const a of m.attributes) if (a.kind === 'mp-reach' && a.nlri.count > 0) out.push(a.nlri);
  return out;
}

/** Every prefix list withdrawn by an UPDATE: the withdrawn routes field and MP_UNREACH_NLRI. */
export function withdrawnPrefixes(m: UpdateMessage): PrefixList[] {
  const out: PrefixList[] = [];
  if (m.withdrawn.count > 0) out.push(m.withdrawn);
  for (const a of m.attributes) if (a.kind === 'mp-unreach' && a.withdrawn.count > 0) out.push(a.withdrawn);
  return out;
}

/**
 * What to withdraw after a `treat-as-withdraw` error (RFC 7606 §2): every prefix the UPDATE names, announced
 * or withdrawn. Pass the error thrown by decodeMessage.
 */
export function prefixesToWithdraw(err: BgpError): PrefixList[] {
  const m = err.update;
  return m === undefined ? [] : [...withdrawnPrefixes(m), ...announcedPrefixes(m)];
}

/** The End-of-RIB marker of a family (RFC 4724 §2). */
export function endOfRib(family: Family = { afi: Afi.Ipv4, safi: Safi.Unicast }): UpdateMessage {
  const v4 = emptyPrefixList(Afi.Ipv4);
  if (family.afi === Afi.Ipv4 && family.safi === Safi.Unicast) {
    return { type: MessageType.Update, withdrawn: v4, attributes: [], nlri: v4 };
  }
  return {
    type: MessageType.Update,
    withdrawn: v4,
    attributes: [{ kind: 'mp-unreach', flags: AttrFlag.Optional, afi: family.afi, safi: family.safi, withdrawn: emptyPrefixList(family.afi) }],
    nlri: v4,
  };
}

/**
 * The family whose End-of-RIB this UPDATE is (RFC 4724 §2: IPv4 unicast is an UPDATE with nothing in it;
 * other families an UPDATE whose only attribute is an empty MP_UNREACH_NLRI), or undefined.
 */
export function isEndOfRib(m: UpdateMessage): Family | undefined {
  if (m.withdrawn.count !== 0 || m.nlri.count !== 0) return undefined;
  if (m.attributes.length === 0) return { afi: Afi.Ipv4, safi: Safi.Unicast };
  if (m.attributes.length !== 1) return undefined;
  const a = m.attributes[0]!;
  if (a.kind === 'mp-unreach' && a.withdrawn.count === 0) return { afi: a.afi, safi: a.safi };
  if (a.kind === 'unknown' && a.code === T.MpUnreachNlri && a.value.length === 3) {
    return { afi: (a.value[0]! << 8) | a.value[1]!, safi: a.value[2]! };
  }
  return undefined;
}
