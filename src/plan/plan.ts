// `ingot plan`'s pure core: what the controller would allocate for every Service of a cluster file, in the
// deterministic order the CLI contract fixes, so every node (and every run) computes the same answer:
//   1. LoadBalancer Services that carry status.loadBalancer.ingress IPs claim them first (MetalLB rebuilds
//      its state the same way, §2.1), ordered by (creationTimestamp, namespace/name), so of two Services
//      claiming one address the older keeps it;
//   2. then every LoadBalancer Service still without addresses, in the same order, is allocated (pools in
//      config order, lowest free address).
// A Service whose status no longer fits (outside the pools, sharing conflict, different request) loses the
// claim and is allocated in step 2, as convergeBalancer clears and re-allocates. One whose request is broken
// (bad loadBalancerIP or annotation) keeps valid status addresses and shows the problem in `error`.
import { Allocator } from '../allocator/allocator.js';
import { poolsFromConfig } from '../allocator/from-config.js';
import type { Config } from '../config/types.js';
import { announceContext, announceFor, type Announce } from './announce.js';
import { isOurClass, type Cluster, type ServiceObject } from './cluster.js';

export interface ServicePlan {
  readonly type: string;
  readonly ips: readonly string[];
  readonly pool: string | null;
  readonly error: string | null;
  /**
   * Which nodes announce the Service (src/announce); for other types, why none does (`notLoadBalancer`).
   * null only when the caller asked for no announce decision (PlanOptions.announce).
   */
  readonly announce: Announce | null;
}

export interface Plan {
  /** Keyed "namespace/name", keys in ascending order. */
  readonly services: Readonly<Record<string, ServicePlan>>;
}

export interface PlanOptions {
  readonly node?: string | null;
  /**
   * Compute `announce` (default true). The standalone speaker makes its own, richer decision for its node
   * and turns this off: at 10,000 Services the duplicate work is a noticeable part of start-up.
   */
  readonly announce?: boolean;
  /**
   * `--lb-class` (cli.md): Services whose `spec.loadBalancerClass` is not this one (null: that set any class)
   * are not ingot's: no address, none consumed even when another implementation wrote a status IP.
   */
  readonly lbClass?: string | null;
}

/** The announce cell of a Service that belongs to another load-balancer implementation. */
export const FOREIGN_CLASS: Announce = { protocol: null, nodes: [], reason: 'loadBalancerClass' };

/** Go's zero time sorts first: an object without creationTimestamp counts as the oldest. */
function timeOf(s: ServiceObject): number {
  return s.creationTimestamp ? Date.parse(s.creationTimestamp) : Number.NEGATIVE_INFINITY;
}

function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The contract's processing order: (creationTimestamp, namespace/name). */
export function processingOrder(services: readonly ServiceObject[]): ServiceObject[] {
  // Parse each timestamp once, not in every comparison.
  const keyed = services.map((s) => ({ s, t: timeOf(s) }));
  keyed.sort((a, b) => a.t - b.t || byKey(a.s.key, b.s.key));
  return keyed.map((k) => k.s);
}

export function planCluster(config: Config, cluster: Cluster, opts: PlanOptions = {}): Plan {
  const allocator = new Allocator(poolsFromConfig(config));
  const lbClass = opts.lbClass ?? null;
  const lbs = processingOrder(cluster.services.filter((s) => s.type === 'LoadBalancer' && isOurClass(s, lbClass)));
  const outcome = new Map<string, { ips: readonly string[]; pool: string | null; error: string | null }>();
  for (const svc of lbs) {
    if ((svc.statusIPs ?? []).length === 0) continue;
    const r = allocator.claimStatus(svc);
    if (r.ok) outcome.set(svc.key, { ips: r.ips, pool: r.pool, error: r.warning ?? null });
  }
  for (const svc of lbs) {
    if (outcome.has(svc.key)) continue;
    const r = allocator.allocate(svc);
    outcome.set(svc.key, r.ok ? { ips: r.ips, pool: r.pool, error: null } : { ips: [], pool: null, error: r.message });
  }
  const ctx = opts.announce === false ? null : announceContext(cluster);
  const services: Record<string, ServicePlan> = {};
  for (const svc of [...cluster.services].sort((a, b) => byKey(a.key, b.key))) {
    const o = outcome.get(svc.key) ?? { ips: [], pool: null, error: null };
    services[svc.key] = {
      type: svc.type,
      ips: o.ips,
      pool: o.pool,
      error: o.error,
      announce: ctx === null ? null : !isOurClass(svc, lbClass) ? FOREIGN_CLASS : announceFor(ctx, config, svc, o.ips, opts.node ?? null),
    };
  }
  return { services };
}

/** JSON per the CLI contract (more keys allowed: `type`). */
export function planToJSON(plan: Plan): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}

function announceText(a: Announce | null): string {
  if (a === null) return '-';
  if (a.nodes.length === 0) return a.reason === null ? 'none' : `none (${a.reason})`;
  return `${a.protocol ?? '?'}: ${a.nodes.join(',')}`;
}

/** A table with aligned columns; empty cells print "-". */
export function planToText(plan: Plan): string {
  const header = ['SERVICE', 'TYPE', 'IPS', 'POOL', 'ANNOUNCE', 'ERROR'];
  const rows = Object.entries(plan.services).map(([key, s]) => [
    key,
    s.type,
    s.ips.length > 0 ? s.ips.join(',') : '-',
    s.pool ?? '-',
    announceText(s.announce),
    s.error ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // The last column is not padded, so lines carry no trailing blanks.
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
