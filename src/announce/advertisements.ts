// From "this node announces these Services" to the BGP advertisements every session of the node carries:
// each IP × each of its pool's bgp-advertisements gives the IP masked to aggregation-length(-v6), with that
// advertisement's LOCAL_PREF, communities and large communities (../shared/spec/metallb-compat.md §3.2).
// MetalLB keys the set by prefix and lets a random map order pick the winner when two Services produce the
// same prefix with different attributes; ingot merges deterministically instead (see mergeInto) so every
// node, and every run, sends the same thing.
import { parseIP, makePrefix } from '../ip/index.js';
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

interface Draft {
  prefix: string;
  family: 4 | 6;
  value: bigint;
  length: number;
  localPref: number;
  communities: Set<number>;
  large: Map<string, LargeCommunity>;
  services: Set<string>;
}

/**
 * The advertisements for a set of announced Services, sorted by family then address then length.
 * Same prefix from several Services or advertisements: one advertisement whose communities are the union and
 * whose LOCAL_PREF is the highest — the most-preferred intent wins, and no Service loses its tags.
 */
export function buildAdvertisements(services: readonly AnnouncedService[]): Advertisement[] {
  const drafts = new Map<string, Draft>();
  for (const svc of services) {
    for (const text of svc.ips) {
      const ip = parseIP(text);
      if (ip === null) continue; // decide.ts already withdrew Services with unparsable IPs
      for (const adv of svc.pool.bgpAdvertisements) {
        const length = ip.family === 4 ? adv.aggregationLength : adv.aggregationLengthV6;
        const p = makePrefix(ip.family, ip.value, length);
        let d = drafts.get(p.text);
        if (d === undefined) {
          d = {
            prefix: p.text,
            family: ip.family,
            value: p.first,
            length,
            localPref: adv.localPref,
            communities: new Set(),
            large: new Map(),
            services: new Set(),
          };
          drafts.set(p.text, d);
        }
        mergeInto(d, svc.key, adv);
      }
    }
  }
  return [...drafts.values()].sort(compareDrafts).map(finish);
}

function mergeInto(d: Draft, service: string, adv: Pool['bgpAdvertisements'][number]): void {
  if (adv.localPref > d.localPref) d.localPref = adv.localPref;
  for (const c of adv.communities) d.communities.add(c);
  for (const l of adv.largeCommunities) d.large.set(`${l.globalAdministrator}:${l.localData1}:${l.localData2}`, l);
  d.services.add(service);
}

function compareDrafts(a: Draft, b: Draft): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.value !== b.value) return a.value < b.value ? -1 : 1;
  return a.length - b.length;
}

function finish(d: Draft): Advertisement {
  let addr6: Uint8Array | null = null;
  let addr4 = 0;
  if (d.family === 4) {
    addr4 = Number(d.value);
  } else {
    addr6 = new Uint8Array(16);
    let v = d.value;
    for (let i = 15; i >= 0; i--) {
      addr6[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  const large = [...d.large.values()]
    .sort((a, b) => a.globalAdministrator - b.globalAdministrator || a.localData1 - b.localData1 || a.localData2 - b.localData2)
    .map((l) => ({ globalAdmin: l.globalAdministrator, localData1: l.localData1, localData2: l.localData2 }));
  return {
    prefix: d.prefix,
    family: d.family,
    addr4,
    addr6,
    length: d.length,
    localPref: d.localPref,
    communities: [...d.communities].sort((x, y) => x - y),
    largeCommunities: large,
    services: [...d.services].sort(),
  };
}

/** Convenience for callers holding a Config and Service keys → IPs with their pool names. */
export function poolByName(config: Config, name: string): Pool | undefined {
  return config.pools.find((p) => p.name === name);
}
