// Adj-RIB-Out of one peer (RFC 4271 §3.2, §9.2): what we want the peer to have (desired) against what it has
// been sent. The speaker hands over the whole desired list each time (`setDesired`, desired state, never
// deltas); `flush` turns the difference into packed UPDATEs for the session's negotiated context. Pure apart
// from its own maps: no sockets, no timers, so every rule is unit-tested and the session decides when to
// flush (after a burst settles, when the socket drains).
//
// Export policy follows the issue and MetalLB's BGP mode: ORIGIN IGP, AS_PATH empty to iBGP peers and our AS
// to eBGP peers (with AS_TRANS + AS4_PATH when the peer lacks 4-octet ASNs, RFC 6793 §4.2.2), NEXT_HOP self
// for IPv4, MP_REACH_NLRI with our global IPv6 address for IPv6 (RFC 4760, RFC 2545 §3), LOCAL_PREF only
// to iBGP peers (RFC 4271 §5.1.5), COMMUNITIES (RFC 1997) and LARGE_COMMUNITY (RFC 8092) when configured.
import { Afi, AsPathSegmentType, AS_TRANS, Origin, Safi } from './constants.js';
import { attr } from './attributes.js';
import { ipv4Prefixes, ipv6Prefixes } from './nlri.js';
import { packAnnouncements, packWithdrawals } from './packer.js';
import type { CodecContext, LargeCommunity, PathAttribute } from './types.js';

/** One route to advertise. `prefix` is the canonical text and the table key. */
export interface Route {
  readonly prefix: string;
  readonly family: 4 | 6;
  /** IPv4 network address as an unsigned 32-bit number (ignored for IPv6). */
  readonly addr4: number;
  /** IPv6 network address, 16 octets (null for IPv4). */
  readonly addr6: Uint8Array | null;
  readonly length: number;
  readonly localPref: number;
  /** Ascending. */
  readonly communities: readonly number[];
  /** Ascending. */
  readonly largeCommunities: readonly LargeCommunity[];
}

export interface ExportPolicy {
  readonly localAs: number;
  readonly peerAs: number;
  /** NEXT_HOP for IPv4 routes: our address on the session (null: IPv4 routes cannot be sent). */
  readonly nextHop4: number | null;
  /** MP_REACH next hop for IPv6 routes: 16 octets global, or 32 with a link-local (null: cannot be sent). */
  readonly nextHop6: Uint8Array | null;
}

export interface FlushResult {
  /** Packed UPDATE buffers, each holding one or more whole messages, in send order. */
  readonly chunks: Uint8Array[];
  /** UPDATE messages in `chunks`. */
  readonly updates: number;
  readonly announced: number;
  readonly withdrawn: number;
}

export interface UnsendableRoute {
  readonly prefix: string;
  readonly why: string;
}

export class AdjRibOut {
  private desired = new Map<string, Route>();
  private readonly sent = new Map<string, Route>();

  /** Replaces the desired set. Routes with an equal prefix collapse (last wins; callers dedupe first). */
  setDesired(routes: Iterable<Route>): void {
    const next = new Map<string, Route>();
    for (const r of routes) next.set(r.prefix, r);
    this.desired = next;
  }

  /** Routes the peer holds from us. */
  get sentCount(): number {
    return this.sent.size;
  }

  get desiredCount(): number {
    return this.desired.size;
  }

  /** Desired routes not (or not identically) at the peer, plus routes the peer holds that must go. */
  pendingCount(): number {
    let n = 0;
    for (const [k, r] of this.desired) {
      const s = this.sent.get(k);
      if (s === undefined || !sameAttributes(s, r)) n++;
    }
    for (const k of this.sent.keys()) if (!this.desired.has(k)) n++;
    return n;
  }

  /** The session went down: the peer has dropped (or will drop) everything we sent (RFC 4271 §9.2). */
  peerReset(): void {
    this.sent.clear();
  }

  /**
   * Route refresh (RFC 2918 §4, RFC 7313): the peer asks for the whole Adj-RIB-Out again. The next flush
   * re-sends every desired route; withdrawals still pending are kept.
   */
  refresh(): void {
    for (const k of [...this.sent.keys()]) if (this.desired.has(k)) this.sent.delete(k);
  }

  /** Desired routes that this session cannot carry, and why (family not negotiated, no next hop). */
  unsendable(ctx: CodecContext, policy: ExportPolicy): UnsendableRoute[] {
    const out: UnsendableRoute[] = [];
    for (const r of this.desired.values()) {
      const why = unsendableReason(r, ctx, policy);
      if (why !== null) out.push({ prefix: r.prefix, why });
    }
    return out;
  }

  /**
   * Builds the UPDATEs that bring the peer from what it has to what is desired, and records them as sent.
   * Announcements are grouped by attribute set (one packed run per set and family); withdrawals are packed
   * per family. Routes the session cannot carry stay pending (see `unsendable`).
   */
  flush(ctx: CodecContext, policy: ExportPolicy): FlushResult {
    const groups = new Map<string, Route[]>();
    for (const [k, r] of this.desired) {
      const s = this.sent.get(k);
      if (s !== undefined && sameAttributes(s, r)) continue;
      if (unsendableReason(r, ctx, policy) !== null) continue;
      const key = `${r.family}|${attributeKey(r)}`;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = []));
      g.push(r);
    }
    const withdraw4: Route[] = [];
    const withdraw6: Route[] = [];
    for (const [k, s] of this.sent) {
      if (this.desired.has(k)) continue;
      (s.family === 4 ? withdraw4 : withdraw6).push(s);
    }

    const chunks: Uint8Array[] = [];
    let updates = 0;
    let announced = 0;
    for (const routes of groups.values()) {
      const first = routes[0]!;
      const attrs = exportAttributes(first, ctx, policy);
      const packed =
        first.family === 4
          ? packAnnouncements(v4List(routes), attrs, ctx)
          : packAnnouncements(v6List(routes), attrs, ctx, { nextHop: policy.nextHop6!, safi: Safi.Unicast });
      chunks.push(packed.bytes);
      updates += packed.messages.length;
      announced += routes.length;
      for (const r of routes) this.sent.set(r.prefix, r);
    }
    let withdrawn = 0;
    for (const list of [withdraw4, withdraw6]) {
      if (list.length === 0) continue;
      const packed = packWithdrawals(list[0]!.family === 4 ? v4List(list) : v6List(list), ctx);
      chunks.push(packed.bytes);
      updates += packed.messages.length;
      withdrawn += list.length;
      for (const r of list) this.sent.delete(r.prefix);
    }
    return { chunks, updates, announced, withdrawn };
  }
}

function unsendableReason(r: Route, ctx: CodecContext, policy: ExportPolicy): string | null {
  const afi = r.family === 4 ? Afi.Ipv4 : Afi.Ipv6;
  if (!ctx.families.some((f) => f.afi === afi && f.safi === Safi.Unicast)) {
    return `the session did not negotiate ${r.family === 4 ? 'IPv4' : 'IPv6'} unicast (RFC 4760)`;
  }
  if (r.family === 4 && policy.nextHop4 === null) return 'no local IPv4 address to use as NEXT_HOP';
  if (r.family === 6 && policy.nextHop6 === null) return 'no global IPv6 address to use as next hop';
  return null;
}

/** The path attributes of one route for this peer, in type-code order (RFC 4271 §5 does not require it, but
 * peers and captures are easier to read, and RFC 7606 §5.1 asks for MP_REACH first, which the packer does). */
export function exportAttributes(r: Route, ctx: CodecContext, policy: ExportPolicy): PathAttribute[] {
  const ibgp = policy.localAs === policy.peerAs;
  const out: PathAttribute[] = [attr.origin(Origin.Igp)];
  if (ibgp) {
    out.push(attr.asSequence([]));
  } else if (ctx.as4 || policy.localAs <= 0xffff) {
    out.push(attr.asSequence([policy.localAs]));
  } else {
    // RFC 6793 §4.2.2: a NEW speaker talking to an OLD one puts AS_TRANS where the AS does not fit and
    // carries the real path in AS4_PATH.
    out.push(attr.asSequence([AS_TRANS]));
  }
  if (r.family === 4) out.push(attr.nextHop(policy.nextHop4!));
  if (ibgp) out.push(attr.localPref(r.localPref));
  if (r.communities.length > 0) out.push(attr.communities(r.communities));
  if (!ibgp && !ctx.as4 && policy.localAs > 0xffff) {
    out.push(attr.as4Path([{ type: AsPathSegmentType.AsSequence, asns: [policy.localAs] }]));
  }
  if (r.largeCommunities.length > 0) out.push(attr.largeCommunities(r.largeCommunities));
  return out;
}

function attributeKey(r: Route): string {
  let k = `${r.localPref}|`;
  for (const c of r.communities) k += `${c},`;
  k += '|';
  for (const l of r.largeCommunities) k += `${l.globalAdmin}:${l.localData1}:${l.localData2},`;
  return k;
}

function sameAttributes(a: Route, b: Route): boolean {
  return attributeKey(a) === attributeKey(b);
}

function v4List(routes: readonly Route[]) {
  const addrs = new Uint32Array(routes.length);
  const lengths = new Uint8Array(routes.length);
  for (let i = 0; i < routes.length; i++) {
    addrs[i] = routes[i]!.addr4;
    lengths[i] = routes[i]!.length;
  }
  return ipv4Prefixes(addrs, lengths);
}

function v6List(routes: readonly Route[]) {
  const addrs = new Uint8Array(routes.length * 16);
  const lengths = new Uint8Array(routes.length);
  for (let i = 0; i < routes.length; i++) {
    addrs.set(routes[i]!.addr6!, i * 16);
    lengths[i] = routes[i]!.length;
  }
  return ipv6Prefixes(addrs, lengths);
}
