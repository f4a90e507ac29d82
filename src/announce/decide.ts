// Which nodes announce a Service, and why not when they don't: the pure decision the speaker runs for its own
// node and `ingot plan` runs for every node. MetalLB's BGP rules (../shared/spec/metallb-compat.md §3.1–§3.2):
// a LoadBalancer Service with allocated IPs, all inside one pool of this config; externalTrafficPolicy Local
// announces only from nodes with a ready local endpoint, Cluster from every node as long as some endpoint is
// ready anywhere (withdrawing on zero endpoints is what makes anycast across clusters work). ingot adds the
// Kubernetes-wide exclusion label and says when a BGP node has no peer to announce to.
import { selectorMatches } from '../config/index.js';
import type { Config, Pool, Protocol } from '../config/index.js';
import { parseIP, prefixContains, type IPAddress } from '../ip/index.js';
import type { EndpointView, NodeView, ServiceView, WithdrawReason } from './types.js';

/** Kubernetes' well-known label: the node must not be a load-balancer target (KEP-1143). */
export const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

export type ServicePoolResult =
  | { readonly ok: true; readonly pool: Pool }
  | { readonly ok: false; readonly reason: WithdrawReason };

/** The pool holding every IP of the Service (first in config order), or why there is none. */
export function poolOfService(config: Config, service: ServiceView): ServicePoolResult {
  if (service.type !== 'LoadBalancer') return { ok: false, reason: 'notLoadBalancer' };
  if (service.ips.length === 0) return { ok: false, reason: 'noIPAllocated' };
  const ips: IPAddress[] = [];
  for (const text of service.ips) {
    const ip = parseIP(text);
    if (ip === null) return { ok: false, reason: 'invalidIP' };
    ips.push(ip);
  }
  const pool = config.pools.find((p) => ips.every((ip) => p.prefixes.some((pre) => prefixContains(pre, ip))));
  if (pool !== undefined) return { ok: true, pool };
  // Distinguish "outside every pool" from "each IP is in some pool, but not the same one".
  const protocols = new Set<Protocol>();
  for (const ip of ips) {
    const p = config.pools.find((pl) => pl.prefixes.some((pre) => prefixContains(pre, ip)));
    if (p === undefined) return { ok: false, reason: 'ipNotAllowed' };
    protocols.add(p.protocol);
  }
  return { ok: false, reason: protocols.size > 1 ? 'mixedProtocols' : 'ipNotAllowed' };
}

/** The configured peers whose node-selectors select this node (a session exists only for these). */
export function peersForNode(config: Config, node: NodeView): Config['peers'] {
  return config.peers.filter((p) => selectorMatches(p.nodeSelectors, node.labels));
}

/**
 * The checks every protocol makes after the pool (MetalLB's ShouldAnnounce, §3.1): the node is not excluded;
 * externalTrafficPolicy Local needs a ready endpoint on this node, Cluster a ready endpoint anywhere. null
 * when they pass. `endpoints` are all of the Service's endpoints (every slice flattened).
 */
export function endpointReason(service: ServiceView, endpoints: readonly EndpointView[], node: NodeView): WithdrawReason | null {
  if (Object.hasOwn(node.labels, EXCLUDE_LABEL)) return 'nodeExcluded';
  if (service.externalTrafficPolicy === 'Local') {
    if (!endpoints.some((e) => e.ready && e.nodeName === node.name)) return 'noLocalEndpoints';
  } else if (!endpoints.some((e) => e.ready)) {
    return 'noEndpoints';
  }
  return null;
}

/**
 * Whether `node` announces `service` over BGP: null when it does, else the reason. Checks run in MetalLB's
 * order so the first reason is the one MetalLB would log.
 */
export function bgpWithdrawReason(
  config: Config,
  service: ServiceView,
  endpoints: readonly EndpointView[],
  node: NodeView,
): WithdrawReason | null {
  const pool = poolOfService(config, service);
  if (!pool.ok) return pool.reason;
  const why = endpointReason(service, endpoints, node);
  if (why !== null) return why;
  if (peersForNode(config, node).length === 0) return 'noPeers';
  return null;
}

export interface AnnounceSummary {
  readonly protocol: Protocol | null;
  /** Nodes that announce, sorted by name. */
  readonly nodes: readonly string[];
  /** Why no node announces (null when some do); for layer2 pools, what is not decided yet. */
  readonly reason: string | null;
}

/**
 * The cluster-wide answer `ingot plan` prints for BGP: which nodes announce the Service. Layer 2 elects one
 * owner per IP: `layer2AnnounceSummary` (src/l2/ownership.ts, which builds on this module, so the planner
 * calls it directly); called here for a layer2 Service, this reports the protocol and no nodes.
 */
export function announceSummary(
  config: Config,
  service: ServiceView,
  endpoints: readonly EndpointView[],
  nodes: readonly NodeView[],
): AnnounceSummary {
  const pool = poolOfService(config, service);
  if (!pool.ok) return { protocol: null, nodes: [], reason: pool.reason };
  if (pool.pool.protocol === 'layer2') {
    return { protocol: 'layer2', nodes: [], reason: 'layer2: elected by layer2AnnounceSummary (src/l2/ownership.ts)' };
  }
  const announcing: string[] = [];
  const reasons = new Map<WithdrawReason, number>();
  for (const node of [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const why = bgpWithdrawReason(config, service, endpoints, node);
    if (why === null) announcing.push(node.name);
    else reasons.set(why, (reasons.get(why) ?? 0) + 1);
  }
  if (announcing.length > 0) return { protocol: 'bgp', nodes: announcing, reason: null };
  if (nodes.length === 0) return { protocol: 'bgp', nodes: [], reason: 'no nodes in the cluster' };
  // The most common reason explains the outcome best; ties go to the alphabetically first for determinism.
  const [top] = [...reasons.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return { protocol: 'bgp', nodes: [], reason: top === undefined ? null : top[0] };
}
