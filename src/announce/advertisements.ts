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

/** One prefix and what each Service contributes to it (the advertisements that produced it). */
interface Entry {
  readonly prefix: string;
  readonly family: IPFamily;
  readonly value: bigint;
  readonly length: number;
  readonly contributions: Map<string, BgpAdvertisement[]>;
  // Reference counts over every contribution, so adding or removing one Service costs its own
  // advertisements, not the prefix's other Services (256 Services can share one /24 aggregate).
  readonly localPrefs: Map<number, number>;
  readonly communities: Map<number, number>;
  readonly large: Map<string, { value: LargeCommunity; n: number }>;
}

function count<K>(m: Map<K, number>, k: K, d: number): void {
  const n = (m.get(k) ?? 0) + d;
  if (n === 0) m.delete(k);
  else m.set(k, n);
}

function account(e: Entry, advs: readonly BgpAdvertisement[], d: 1 | -1): void {
  for (const adv of advs) {
    count(e.localPrefs, adv.localPref, d);
    for (const c of adv.communities) count(e.communities, c, d);
    for (const l of adv.largeCommunities) {
      const k = `${l.globalAdministrator}:${l.localData1}:${l.localData2}`;
      const x = e.large.get(k);
      const n = (x?.n ?? 0) + d;
      if (n === 0) e.large.delete(k);
      else e.large.set(k, { value: l, n });
    }
  }
}

/**
 * The advertisements of a node, kept per Service so that one Service's change touches only its own prefixes
 * (the Kubernetes speaker re-decides one Service per event, issue 9 §4). A prefix stays while any Service
 * still produces it (ECMP and shared IPs), and its attributes are always the merge of every contribution,
 * exactly as `buildAdvertisements` computes them for a whole set.
 */
export class AdvertisementTable {
  private readonly entries = new Map<string, Entry>();
  private readonly byService = new Map<string, string[]>();

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
          e = { prefix: p.text, family: ip.family, value: p.first, length, contributions: new Map(), localPrefs: new Map(), communities: new Map(), large: new Map() };
          this.entries.set(p.text, e);
        }
        let l = mine.get(p.text);
        if (l === undefined) mine.set(p.text, (l = []));
        l.push(adv);
      }
    }
    const touched = new Set<string>(this.byService.get(service) ?? []);
    for (const prefix of mine.keys()) touched.add(prefix);
    for (const prefix of touched) {
      const e = this.entries.get(prefix)!;
      const old = e.contributions.get(service);
      if (old !== undefined) account(e, old, -1);
      const advs = mine.get(prefix);
      if (advs === undefined) e.contributions.delete(service);
      else {
        e.contributions.set(service, advs);
        account(e, advs, 1);
      }
    }
    if (mine.size === 0) this.byService.delete(service);
    else this.byService.set(service, [...mine.keys()]);
    return this.collect(touched);
  }

  /** Removes a Service's advertisements; same result shape as `set`. */
  delete(service: string): { changed: Route[]; removed: string[] } {
    const had = this.byService.get(service);
    if (had === undefined) return { changed: [], removed: [] };
    this.byService.delete(service);
    for (const prefix of had) {
      const e = this.entries.get(prefix);
      const old = e?.contributions.get(service);
      if (e === undefined || old === undefined) continue;
      account(e, old, -1);
      e.contributions.delete(service);
    }
    return this.collect(had);
  }

  /** The prefixes a Service produces, in the order its IPs and advertisements gave them. */
  prefixesOf(service: string): readonly string[] {
    return this.byService.get(service) ?? [];
  }

  /** The current advertisement of a prefix, or undefined. */
  get(prefix: string): Advertisement | undefined {
    const e = this.entries.get(prefix);
    return e === undefined || e.contributions.size === 0 ? undefined : merge(e);
  }

  /** Every route (without the services list), sorted by family, then address, then length. */
  routes(): Route[] {
    return [...this.entries.values()].filter((e) => e.contributions.size > 0).sort(compareEntries).map(routeOf);
  }

  /** Every advertisement, sorted by family, then address, then length. */
  all(): Advertisement[] {
    return [...this.entries.values()].filter((e) => e.contributions.size > 0).sort(compareEntries).map(merge);
  }

  private collect(prefixes: Iterable<string>): { changed: Route[]; removed: string[] } {
    const changed: Route[] = [];
    const removed: string[] = [];
    for (const prefix of prefixes) {
      const e = this.entries.get(prefix)!;
      if (e.contributions.size === 0) {
        this.entries.delete(prefix);
        removed.push(prefix);
      } else {
        changed.push(routeOf(e));
      }
    }
    return { changed, removed };
  }
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

function compareEntries(a: Entry, b: Entry): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.value !== b.value) return a.value < b.value ? -1 : 1;
  return a.length - b.length;
}

/**
 * The route of one prefix from all its contributions: communities are the union and LOCAL_PREF is the
 * highest — the most-preferred intent wins, and no Service loses its tags; deterministic whatever the order.
 */
function routeOf(e: Entry): Route {
  let localPref = -1;
  for (const lp of e.localPrefs.keys()) if (lp > localPref) localPref = lp;
  const largeCommunities = [...e.large.values()]
    .map((x) => x.value)
    .sort((a, b) => a.globalAdministrator - b.globalAdministrator || a.localData1 - b.localData1 || a.localData2 - b.localData2)
    .map((l) => ({ globalAdmin: l.globalAdministrator, localData1: l.localData1, localData2: l.localData2 }));
  return {
    prefix: e.prefix,
    family: e.family,
    addr4: e.family === 4 ? Number(e.value) : 0,
    addr6: e.family === 6 ? ipv6ToBytes(e.value) : null,
    length: e.length,
    localPref,
    communities: [...e.communities.keys()].sort((x, y) => x - y),
    largeCommunities,
  };
}

/** routeOf plus the Services behind the prefix (for /status, tests and `ingot plan`-style views). */
function merge(e: Entry): Advertisement {
  return { ...routeOf(e), services: [...e.contributions.keys()].sort() };
}

/** Convenience for callers holding a Config and Service keys → IPs with their pool names. */
export function poolByName(config: Config, name: string): Pool | undefined {
  return config.pools.find((p) => p.name === name);
}
