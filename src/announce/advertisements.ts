// From "this node announces these Services" to the BGP advertisements every session of the node carries:
// each IP × each of its pool's bgp-advertisements gives the IP masked to aggregation-length(-v6), with that
// advertisement's LOCAL_PREF, communities and large communities (../shared/spec/metallb-compat.md §3.2).
// MetalLB keys the set by prefix and lets a random map order pick the winner when two Services produce the
// same prefix with different attributes; ingot merges deterministically instead (see routeOf) so every
// node, and every run, sends the same thing.
import { ipv6ToBytes, makePrefix, parseIP, type IPFamily } from '../ip/index.js';
import type { Config, LargeCommunity, Pool } from '../config/index.js';
import type { Route } from '../bgp/adj-rib-out.js';

/** A BGP route (the Adj-RIB-Out's `Route`) plus the Services behind it. */
export interface Advertisement extends Route {
  /** Services ("ns/name") that produced this prefix, sorted: what /status and logs explain. */
  readonly services: readonly string[];
}

export interface AnnouncedService {
  readonly key: string;
  readonly ips: readonly string[];
  readonly pool: Pool;
}

type BgpAdvertisement = Pool['bgpAdvertisements'][number];

/**
 * One prefix and what each Service contributes to it. One Service per prefix is the common case (~10,000 of
 * these in a speaker: memory, issue 9 §7), so the first contributor is held inline, and a Map of the others
 * plus reference counts of their attributes exist only for a prefix that several Services share (ECMP
 * aggregates, shared IPs): 256 Services in one /24 aggregate then cost one Service's advertisements per
 * change, not a merge over all 256.
 */
interface Entry {
  /** The prefix's current route (what the speaker's table and the RIBs hold: the same object). */
  route: Route;
  /** A Service ("ns/name") producing the prefix, and the advertisements of its pool that produced it. */
  one: string | null;
  oneAdvs: readonly BgpAdvertisement[];
  /** The other Services producing it (null while there are none). */
  more: Map<string, readonly BgpAdvertisement[]> | null;
  /** Reference counts over every contribution, kept while `more` exists. */
  counts: Counts | null;
}

interface Counts {
  readonly localPrefs: Map<number, number>;
  readonly communities: Map<number, number>;
  readonly large: Map<string, { value: LargeCommunity; n: number }>;
}

const NO_ADVS: readonly BgpAdvertisement[] = Object.freeze([]);

function count<K>(m: Map<K, number>, k: K, d: number): void {
  const n = (m.get(k) ?? 0) + d;
  if (n === 0) m.delete(k);
  else m.set(k, n);
}

function account(c: Counts, advs: readonly BgpAdvertisement[], d: 1 | -1): void {
  for (const adv of advs) {
    count(c.localPrefs, adv.localPref, d);
    for (const x of adv.communities) count(c.communities, x, d);
    for (const l of adv.largeCommunities) {
      const k = `${l.globalAdministrator}:${l.localData1}:${l.localData2}`;
      const n = (c.large.get(k)?.n ?? 0) + d;
      if (n === 0) c.large.delete(k);
      else c.large.set(k, { value: l, n });
    }
  }
}

function contributions(e: Entry): number {
  return (e.one !== null ? 1 : 0) + (e.more?.size ?? 0);
}

function has(e: Entry, service: string): boolean {
  return e.one === service || (e.more?.has(service) ?? false);
}

function contribute(e: Entry, service: string, advs: readonly BgpAdvertisement[]): void {
  if (e.one === service || e.one === null) {
    if (e.counts !== null) {
      if (e.one === service) account(e.counts, e.oneAdvs, -1);
      account(e.counts, advs, 1);
    }
    e.one = service;
    e.oneAdvs = advs;
    return;
  }
  const more = (e.more ??= new Map());
  if (e.counts === null) {
    e.counts = { localPrefs: new Map(), communities: new Map(), large: new Map() };
    account(e.counts, e.oneAdvs, 1);
    for (const a of more.values()) account(e.counts, a, 1);
  }
  const old = more.get(service);
  if (old !== undefined) account(e.counts, old, -1);
  more.set(service, advs);
  account(e.counts, advs, 1);
}

function withdraw(e: Entry, service: string): void {
  if (e.one === service) {
    if (e.counts !== null) account(e.counts, e.oneAdvs, -1);
    const next = e.more?.entries().next().value as [string, readonly BgpAdvertisement[]] | undefined;
    if (next === undefined) {
      e.one = null;
      e.oneAdvs = NO_ADVS;
    } else {
      [e.one, e.oneAdvs] = next; // already counted
      e.more!.delete(next[0]);
    }
  } else {
    const old = e.more?.get(service);
    if (old === undefined) return;
    if (e.counts !== null) account(e.counts, old, -1);
    e.more!.delete(service);
  }
  if (e.more !== null && e.more.size === 0) {
    e.more = null;
    e.counts = null;
  }
}

function servicesOf(e: Entry): string[] {
  const out = e.one !== null ? [e.one] : [];
  if (e.more !== null) out.push(...e.more.keys());
  return out;
}

/**
 * The advertisements of a node, kept per Service so that one Service's change touches only its own prefixes
 * (the Kubernetes speaker re-decides one Service per event, issue 9 §4). A prefix stays while any Service
 * still produces it (ECMP and shared IPs), and its attributes are always the merge of every contribution,
 * exactly as `buildAdvertisements` computes them for a whole set.
 */
export class AdvertisementTable {
  private readonly entries = new Map<string, Entry>();
  /** Service → its prefixes (a lone prefix is stored as the string itself: the common case). */
  private readonly byService = new Map<string, string | string[]>();

  /**
   * Sets the advertisements of one Service (replacing what it had). Returns the prefixes whose route
   * changed: `changed` (added or new attributes, with the route) and `removed` (no Service produces it now).
   */
  set(service: string, ips: readonly string[], pool: Pool): { changed: Route[]; removed: string[] } {
    const mine = new Map<string, BgpAdvertisement[]>();
    for (const text of ips) {
      const ip = parseIP(text);
      if (ip === null) continue; // the decision already withdrew Services with unparsable IPs
      for (const adv of pool.bgpAdvertisements) {
        const length = ip.family === 4 ? adv.aggregationLength : adv.aggregationLengthV6;
        const p = makePrefix(ip.family, ip.value, length);
        let e = this.entries.get(p.text);
        if (e === undefined) {
          const route: Route = {
            prefix: p.text,
            family: ip.family,
            addr4: ip.family === 4 ? Number(p.first) : 0,
            addr6: ip.family === 6 ? ipv6ToBytes(p.first) : null,
            length,
            localPref: -1,
            communities: NO_COMMUNITIES,
            largeCommunities: NO_LARGE,
          };
          e = { route, one: null, oneAdvs: NO_ADVS, more: null, counts: null };
          this.entries.set(p.text, e);
        }
        let l = mine.get(e.route.prefix);
        if (l === undefined) mine.set(e.route.prefix, (l = []));
        l.push(adv);
      }
    }
    const touched = new Set<string>(listOf(this.byService.get(service)));
    for (const prefix of mine.keys()) touched.add(prefix);
    const all = pool.bgpAdvertisements;
    for (const prefix of touched) {
      const e = this.entries.get(prefix)!;
      const advs = mine.get(prefix);
      if (advs === undefined) {
        withdraw(e, service);
        continue;
      }
      // Every advertisement of the pool on this prefix (the usual single one): share the pool's own array.
      contribute(e, service, advs.length === all.length && advs.every((x, k) => x === all[k]) ? all : advs);
    }
    if (mine.size === 0) this.byService.delete(service);
    else if (mine.size === 1) this.byService.set(service, mine.keys().next().value as string);
    else this.byService.set(service, [...mine.keys()]);
    return this.collect(touched);
  }

  /** Removes a Service's advertisements; same result shape as `set`. */
  delete(service: string): { changed: Route[]; removed: string[] } {
    const had = listOf(this.byService.get(service));
    if (had.length === 0) return { changed: [], removed: [] };
    this.byService.delete(service);
    for (const prefix of had) {
      const e = this.entries.get(prefix);
      if (e !== undefined && has(e, service)) withdraw(e, service);
    }
    return this.collect(had);
  }

  /** The prefixes a Service produces, in the order its IPs and advertisements gave them. */
  prefixesOf(service: string): readonly string[] {
    return listOf(this.byService.get(service));
  }

  /** The current advertisement of a prefix, or undefined. */
  get(prefix: string): Advertisement | undefined {
    const e = this.entries.get(prefix);
    return e === undefined || contributions(e) === 0 ? undefined : merge(e);
  }

  /** Every route (without the services list), sorted by family, then address, then length. */
  routes(): Route[] {
    return [...this.entries.values()].filter((e) => contributions(e) > 0).sort(compareEntries).map((e) => e.route);
  }

  /** Every advertisement, sorted by family, then address, then length. */
  all(): Advertisement[] {
    return [...this.entries.values()].filter((e) => contributions(e) > 0).sort(compareEntries).map(merge);
  }

  private collect(prefixes: Iterable<string>): { changed: Route[]; removed: string[] } {
    const changed: Route[] = [];
    const removed: string[] = [];
    for (const prefix of prefixes) {
      const e = this.entries.get(prefix)!;
      if (contributions(e) === 0) {
        this.entries.delete(prefix);
        removed.push(prefix);
      } else {
        e.route = routeOf(e);
        changed.push(e.route);
      }
    }
    return { changed, removed };
  }
}

const NONE: readonly string[] = Object.freeze([]);

function listOf(v: string | string[] | undefined): readonly string[] {
  return v === undefined ? NONE : typeof v === 'string' ? [v] : v;
}


/**
 * The advertisements for a set of announced Services, sorted by family then address then length.
 * Same prefix from several Services or advertisements: one advertisement whose communities are the union and
 * whose LOCAL_PREF is the highest — the most-preferred intent wins, and no Service loses its tags.
 */
export function buildAdvertisements(services: readonly AnnouncedService[]): Advertisement[] {
  const t = new AdvertisementTable();
  for (const svc of services) t.set(svc.key, svc.ips, svc.pool);
  return t.all();
}

function compareEntries(x: Entry, y: Entry): number {
  const a = x.route;
  const b = y.route;
  if (a.family !== b.family) return a.family - b.family;
  if (a.family === 4) {
    if (a.addr4 !== b.addr4) return a.addr4 - b.addr4;
  } else {
    for (let i = 0; i < 16; i++) if (a.addr6![i] !== b.addr6![i]) return a.addr6![i]! - b.addr6![i]!;
  }
  return a.length - b.length;
}

/**
 * The route of one prefix from all its contributions: communities are the union and LOCAL_PREF is the
 * highest — the most-preferred intent wins, and no Service loses its tags; deterministic whatever the order.
 */
function routeOf(e: Entry): Route {
  const r = e.route;
  let localPref = -1;
  let communities: readonly number[] = NO_COMMUNITIES;
  let large: LargeCommunity[] = [];
  if (e.counts !== null) {
    for (const lp of e.counts.localPrefs.keys()) if (lp > localPref) localPref = lp;
    if (e.counts.communities.size > 0) communities = [...e.counts.communities.keys()].sort((x, y) => x - y);
    large = [...e.counts.large.values()].map((x) => x.value);
  } else {
    // One Service: its own advertisements (usually one, usually without communities).
    let comms: Set<number> | null = null;
    let larges: Map<string, LargeCommunity> | null = null;
    for (const adv of e.oneAdvs) {
      if (adv.localPref > localPref) localPref = adv.localPref;
      for (const c of adv.communities) (comms ??= new Set()).add(c);
      for (const l of adv.largeCommunities) (larges ??= new Map()).set(`${l.globalAdministrator}:${l.localData1}:${l.localData2}`, l);
    }
    if (comms !== null) communities = [...comms].sort((x, y) => x - y);
    if (larges !== null) large = [...larges.values()];
  }
  const largeCommunities =
    large.length === 0
      ? NO_LARGE
      : large
          .sort((a, b) => a.globalAdministrator - b.globalAdministrator || a.localData1 - b.localData1 || a.localData2 - b.localData2)
          .map((l) => ({ globalAdmin: l.globalAdministrator, localData1: l.localData1, localData2: l.localData2 }));
  return { prefix: r.prefix, family: r.family, addr4: r.addr4, addr6: r.addr6, length: r.length, localPref, communities, largeCommunities };
}

const NO_COMMUNITIES: readonly number[] = Object.freeze([]);
const NO_LARGE: Route['largeCommunities'] = Object.freeze([]);

/** routeOf plus the Services behind the prefix (for /status, tests and `ingot plan`-style views). */
function merge(e: Entry): Advertisement {
  return { ...routeOf(e), services: servicesOf(e).sort() };
}

/** Convenience for callers holding a Config and Service keys → IPs with their pool names. */
export function poolByName(config: Config, name: string): Pool | undefined {
  return config.pools.find((p) => p.name === name);
}
