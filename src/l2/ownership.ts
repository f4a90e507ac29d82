// Who answers ARP/NDP for an IP: a pure function every speaker evaluates on the same inputs (the live members
// it hears, their eligibility, their claims), so they agree without a negotiation round.
//
// MetalLB (metallb-compat §3.5) ranks candidates by sha256(node + "#" + ip) and takes the first: stateless, so
// an IP moves whenever a better-ranked node appears (a join, a restart), the complaint in landscape.md §3.8.
// ingot keeps the same ranking for *new* owners but makes ownership sticky through claims: every speaker puts
// the IPs it announces, with the wall-clock time it took each, into its heartbeats. For an IP:
//   1. the eligible live members that claim it are the candidates; the earliest claim wins (ties: the
//      rendezvous rank), so an owner keeps its IPs while it is alive and eligible, and after a partition heals
//      the two claimants resolve to one owner (the older claim), the other withdrawing at once;
//   2. with no eligible live claimant, the rendezvous winner among the eligible live members takes it.
import { createHash } from 'node:crypto';
import { EXCLUDE_LABEL, poolOfService, type AnnounceSummary, type EndpointView, type NodeView, type ServiceView } from '../announce/index.js';
import { type Config } from '../config/index.js';
import { formatIPAddress, parseIP } from '../ip/index.js';

/** MetalLB's election hash: sha256(node + "#" + key), compared byte-wise, smallest first. */
export function rendezvousRank(ip: string, node: string): Buffer {
  return createHash('sha256').update(`${node}#${ip}`).digest();
}

/** `nodes` in rendezvous order for `ip` (the first is MetalLB's choice among them). */
export function rendezvousOrder(ip: string, nodes: Iterable<string>): string[] {
  const ranked = [...new Set(nodes)].map((n) => ({ n, r: rendezvousRank(ip, n) }));
  ranked.sort((a, b) => Buffer.compare(a.r, b.r) || (a.n < b.n ? -1 : a.n > b.n ? 1 : 0));
  return ranked.map((x) => x.n);
}

export interface OwnerInput {
  readonly ip: string;
  /** Live members eligible for this IP (policy, exclusion), self included when eligible. */
  readonly eligible: Iterable<string>;
  /** Claims of live members on this IP: node → wall ms since when it announces it. */
  readonly claims: ReadonlyMap<string, number>;
}

export type OwnerBasis = 'claim' | 'conflict' | 'rendezvous' | 'none';

export interface OwnerDecision {
  readonly owner: string | null;
  /** claim: the only eligible claimant; conflict: the earliest of several; rendezvous: nobody claimed it. */
  readonly basis: OwnerBasis;
  /** Eligible claimants that lose to the owner (they must withdraw). */
  readonly losers: readonly string[];
}

/** The owner of one IP. Deterministic in its inputs; the order of `eligible` and of `claims` does not matter. */
export function decideOwner(input: OwnerInput): OwnerDecision {
  const eligible = new Set(input.eligible);
  if (eligible.size === 0) return { owner: null, basis: 'none', losers: [] };
  const claimants = [...input.claims.entries()].filter(([n]) => eligible.has(n));
  if (claimants.length === 0) {
    const [first] = rendezvousOrder(input.ip, eligible);
    return { owner: first ?? null, basis: 'rendezvous', losers: [] };
  }
  const ranked = claimants.map(([n, since]) => ({ n, since, r: rendezvousRank(input.ip, n) }));
  ranked.sort((a, b) => a.since - b.since || Buffer.compare(a.r, b.r) || (a.n < b.n ? -1 : a.n > b.n ? 1 : 0));
  const [win, ...rest] = ranked;
  return { owner: win?.n ?? null, basis: rest.length === 0 ? 'claim' : 'conflict', losers: rest.map((x) => x.n) };
}

/** One live member as the ownership decision sees it. */
export interface LiveMember {
  readonly name: string;
  /** The node carries the exclude-from-external-load-balancers label. */
  readonly excluded: boolean;
  readonly claims: ReadonlyMap<string, number>;
}

/** Eligibility of a Service for Layer 2 (MetalLB v0.11+ candidates, metallb-compat §3.5). */
export interface Layer2Demand {
  readonly policy: 'Cluster' | 'Local';
  /** Nodes with a ready endpoint of the Service. */
  readonly readyNodes: ReadonlySet<string>;
}

/** Whether `node` may announce a Service with this demand (liveness aside). */
export function nodeEligible(demand: Layer2Demand, node: string, excluded: boolean): boolean {
  if (excluded) return false;
  if (demand.policy === 'Local') return demand.readyNodes.has(node);
  return demand.readyNodes.size > 0;
}

/**
 * Eligible live members for an IP shared by several Services: those eligible for every one of them (so the
 * owner can serve all of them); when that is nobody, those eligible for any (one answer beats none, and
 * beats MetalLB's per-Service election that can put one IP on two nodes).
 */
export function eligibleFor(demands: readonly Layer2Demand[], live: readonly LiveMember[]): string[] {
  const all = live.filter((m) => demands.length > 0 && demands.every((d) => nodeEligible(d, m.name, m.excluded))).map((m) => m.name);
  if (all.length > 0 || demands.length <= 1) return all;
  return live.filter((m) => demands.some((d) => nodeEligible(d, m.name, m.excluded))).map((m) => m.name);
}

/** Claims of the live members on one IP. */
export function claimsOn(ip: string, live: readonly LiveMember[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of live) {
    const since = m.claims.get(ip);
    if (since !== undefined) out.set(m.name, since);
  }
  return out;
}

/**
 * This speaker's next claims: the IPs it owns, keeping the original `since` of those it already held and
 * stamping `wall` on the new ones. Losing an IP removes it (the withdrawal the others see in the next packet).
 */
export function nextClaims(self: string, owners: ReadonlyMap<string, string | null>, current: ReadonlyMap<string, number>, wall: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [ip, owner] of owners) if (owner === self) out.set(ip, current.get(ip) ?? wall);
  return out;
}

/**
 * `ingot plan`'s answer for a layer2 Service: every node of the cluster file is taken as live and nobody holds
 * a claim yet, so the owner is the rendezvous winner among the eligible nodes (what a fresh cluster elects).
 * The election key is the Service's first IP, as MetalLB v0.11+ (Services sharing an IP land together).
 */
export function layer2AnnounceSummary(
  config: Config,
  service: ServiceView,
  endpoints: readonly EndpointView[],
  nodes: readonly NodeView[],
): AnnounceSummary {
  const pool = poolOfService(config, service);
  if (!pool.ok) return { protocol: null, nodes: [], reason: pool.reason };
  if (pool.pool.protocol !== 'layer2') return { protocol: pool.pool.protocol, nodes: [], reason: 'notLayer2' };
  const demand = demandOf(service, endpoints);
  if (demand.readyNodes.size === 0) return { protocol: 'layer2', nodes: [], reason: 'noEndpoints' };
  const live = nodes.map((n) => ({ name: n.name, excluded: Object.hasOwn(n.labels, EXCLUDE_LABEL), claims: new Map<string, number>() }));
  const eligible = eligibleFor([demand], live);
  if (eligible.length === 0) {
    const reason = nodes.length === 0 ? 'no nodes in the cluster' : demand.policy === 'Local' ? 'noLocalEndpoints' : 'nodeExcluded';
    return { protocol: 'layer2', nodes: [], reason };
  }
  const key = service.ips[0] ?? '';
  const { owner } = decideOwner({ ip: canonicalKey(key), eligible, claims: new Map() });
  return { protocol: 'layer2', nodes: owner === null ? [] : [owner], reason: null };
}

/** The Service's demand from its endpoints. */
export function demandOf(service: Pick<ServiceView, 'externalTrafficPolicy'>, endpoints: readonly EndpointView[]): Layer2Demand {
  const readyNodes = new Set<string>();
  let anyReady = false;
  for (const e of endpoints) {
    if (!e.ready) continue;
    anyReady = true;
    if (e.nodeName !== null) readyNodes.add(e.nodeName);
  }
  // Cluster policy needs a ready endpoint anywhere; one without a node name still counts.
  if (service.externalTrafficPolicy === 'Cluster' && anyReady && readyNodes.size === 0) readyNodes.add('');
  return { policy: service.externalTrafficPolicy, readyNodes };
}


/** The canonical text of an IP (so "::1" and "0::1" elect the same owner); the input when unparsable. */
export function canonicalKey(ip: string): string {
  const p = parseIP(ip);
  return p === null ? ip : formatIPAddress(p);
}
