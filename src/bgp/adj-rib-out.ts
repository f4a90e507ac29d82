// Adj-RIB-Out of one peer (RFC 4271 §3.2, §9.2): what we want the peer to have (desired) against what it has
// been sent. The speaker hands over the whole desired list (`setDesired`, desired state) or changes one route
// (`upsert`/`remove`, what one Service's change needs); `flush` turns the difference into packed UPDATEs for
// the session's negotiated context. Pure apart from its own maps: no sockets, no timers, so every rule is
// unit-tested and the session decides when to flush (after a burst settles, when the socket drains).
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
import type { IPFamily } from '../ip/index.js';

/** One route to advertise. `prefix` is the canonical text and the table key. */
export interface Route {
  readonly prefix: string;
  readonly family: IPFamily;
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
  /**
   * Prefixes that may differ between desired and sent. `allDirty` stands for every prefix (after setDesired, a
   * session reset or a refresh); otherwise flush and pendingCount look only at these, so one Service's change
   * costs O(its prefixes), not O(table), at 10,000 Services (issue 9 §4).
   */
  private readonly dirty = new Set<string>();
  private allDirty = false;

  /** Replaces the desired set. Routes with an equal prefix collapse (last wins; callers dedupe first). */
  setDesired(routes: Iterable<Route>): void {
    const next = new Map<string, Route>();
    for (const r of routes) next.set(r.prefix, r);
    this.desired = next;
    this.markAll();
  }

  /** Adds or replaces one desired route (incremental form of setDesired). */
  upsert(route: Route): void {
    this.desired.set(route.prefix, route);
    if (!this.allDirty) this.dirty.add(route.prefix);
  }

  /** Removes one desired route; the next flush withdraws it if the peer has it. */
  remove(prefix: string): void {
    if (!this.desired.delete(prefix) && !this.sent.has(prefix)) return;
    if (!this.allDirty) this.dirty.add(prefix);
  }

  /** The desired routes, in insertion order. */
  desiredRoutes(): IterableIterator<Route> {
    return this.desired.values();
  }

  /** The prefix is desired and this session can carry it (family negotiated, next hop known). */
  carries(prefix: string, ctx: CodecContext, policy: ExportPolicy): boolean {
    const r = this.desired.get(prefix);
    return r !== undefined && unsendableReason(r, ctx, policy) === null;
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
    if (!this.allDirty) {
      for (const k of this.dirty) if (this.isPending(k)) n++;
      return n;
    }
    for (const [k, r] of this.desired) {
      const s = this.sent.get(k);
      if (s === undefined || !sameAttributes(s, r)) n++;
    }
    for (const k of this.sent.keys()) if (!this.desired.has(k)) n++;
    return n;
  }

  private isPending(k: string): boolean {
    const r = this.desired.get(k);
    const s = this.sent.get(k);
    if (r === undefined) return s !== undefined;
    return s === undefined || !sameAttributes(s, r);
  }

  private markAll(): void {
    this.allDirty = true;
    this.dirty.clear();
  }

  /** The session went down: the peer has dropped (or will drop) everything we sent (RFC 4271 §9.2). */
  peerReset(): void {
    this.sent.clear();
    this.markAll();
  }

  /**
   * Route refresh (RFC 2918 §4, RFC 7313): the peer asks for the whole Adj-RIB-Out again. The next flush
   * re-sends every desired route; withdrawals still pending are kept.
   */
  refresh(): void {
    for (const k of [...this.sent.keys()]) if (this.desired.has(k)) this.sent.delete(k);
    this.markAll();
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
    const withdraw4: Route[] = [];
    const withdraw6: Route[] = [];
    const stillPending: string[] = [];
    const consider = (k: string, r: Route) => {
      const s = this.sent.get(k);
      if (s !== undefined && sameAttributes(s, r)) return;
      if (unsendableReason(r, ctx, policy) !== null) {
        stillPending.push(k);
        return;
      }
      const key = `${r.family}|${attributeKey(r)}`;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = []));
      g.push(r);
    };
    if (this.allDirty) {
      for (const [k, r] of this.desired) consider(k, r);
      for (const [k, s] of this.sent) {
        if (this.desired.has(k)) continue;
        (s.family === 4 ? withdraw4 : withdraw6).push(s);
      }
    } else {
      for (const k of this.dirty) {
        const r = this.desired.get(k);
        if (r !== undefined) consider(k, r);
        else {
          const s = this.sent.get(k);
          if (s !== undefined) (s.family === 4 ? withdraw4 : withdraw6).push(s);
        }
      }
    }
    this.allDirty = false;
    this.dirty.clear();
    for (const k of stillPending) this.dirty.add(k);

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
