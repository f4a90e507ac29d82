// `ingot plan`'s announce column: which nodes announce each Service, from the same pure decision the
// speaker runs for its own node (src/announce). This file only turns cluster-file objects into the
// decision's plain views, once per plan, so the standalone speaker (src/speaker/standalone.ts) and the plan
// share one conversion.
import { announceSummary, poolOfService, type AnnounceSummary, type EndpointView, type NodeView, type ServiceView } from '../announce/index.js';
import type { Config } from '../config/types.js';
import { layer2AnnounceSummary } from '../l2/ownership.js';
import type { Cluster, EndpointSliceObject, ServiceObject } from './cluster.js';

export type Announce = AnnounceSummary;

/** The cluster's endpoints and nodes as decision inputs, built once per cluster. */
export interface AnnounceContext {
  /** "namespace/name" → every endpoint of the Service, all slices flattened. */
  readonly endpointsOf: ReadonlyMap<string, readonly EndpointView[]>;
  readonly nodes: readonly NodeView[];
}

/** Groups EndpointSlices by Service in one pass (a scan per Service would be quadratic at 10,000 Services). */
export function announceContext(cluster: Cluster): AnnounceContext {
  const endpointsOf = new Map<string, EndpointView[]>();
  for (const slice of cluster.endpointSlices) {
    if (slice.serviceName === null) continue;
    const key = `${slice.namespace}/${slice.serviceName}`;
    let list = endpointsOf.get(key);
    if (list === undefined) endpointsOf.set(key, (list = []));
    for (const e of endpointViews(slice)) list.push(e);
  }
  return { endpointsOf, nodes: cluster.nodes.map((n) => ({ name: n.name, labels: n.labels })) };
}

/** The decision's view of one EndpointSlice's endpoints (files and informers alike). */
export function endpointViews(slice: EndpointSliceObject): EndpointView[] {
  // discovery/v1: an unset ready condition counts as ready.
  return slice.endpoints.map((e) => endpointView(e.nodeName, e.conditions.ready ?? true));
}

/**
 * Endpoint views are values (node, readiness) and there are few distinct ones — about two per node — while a
 * speaker holds one per endpoint of every Service: they are shared, frozen (memory at 10,000 Services,
 * issue 9 §7). Bounded: past INTERN_LIMIT distinct nodes new views are simply not shared.
 */
const interned = new Map<string | null, [EndpointView, EndpointView]>();
const INTERN_LIMIT = 100_000;

export function endpointView(nodeName: string | null, ready: boolean): EndpointView {
  let pair = interned.get(nodeName);
  if (pair === undefined) {
    if (interned.size >= INTERN_LIMIT) return { nodeName, ready };
    pair = [Object.freeze({ nodeName, ready: false }), Object.freeze({ nodeName, ready: true })];
    interned.set(nodeName, pair);
  }
  return pair[ready ? 1 : 0];
}

/** The decision's view of a Service with the addresses the allocator gave it. */
export function serviceView(svc: ServiceObject, ips: readonly string[]): ServiceView {
  return {
    key: svc.key,
    type: svc.type,
    ips,
    externalTrafficPolicy: svc.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
  };
}

/**
 * Which nodes announce `svc` (every node of the cluster, or only `node` for `--node`; a node absent from
 * the cluster file is taken with no labels, as the standalone speaker does).
 */
export function announceFor(
  ctx: AnnounceContext,
  config: Config,
  svc: ServiceObject,
  ips: readonly string[],
  node: string | null,
): Announce {
  const view = serviceView(svc, ips);
  const endpoints = ctx.endpointsOf.get(svc.key) ?? [];
  const self = node === null ? null : (ctx.nodes.find((n) => n.name === node) ?? { name: node, labels: {} });
  const pool = poolOfService(config, view);
  if (pool.ok && pool.pool.protocol === 'layer2') {
    // One owner elected among every node of the cluster file (all taken as live); `--node` asks whether it
    // is that node.
    const all = self === null || ctx.nodes.some((n) => n.name === self.name) ? ctx.nodes : [...ctx.nodes, self];
    const s = layer2AnnounceSummary(config, view, endpoints, all);
    if (self === null || s.nodes.length === 0 || s.nodes.includes(self.name)) return s;
    return { protocol: 'layer2', nodes: [], reason: 'notOwner' };
  }
  return announceSummary(config, view, endpoints, self === null ? ctx.nodes : [self]);
}
