// Plain inputs of the announcement decision. They are what the Kubernetes adapter (or the standalone
// cluster file, or `ingot plan`) extracts from Service, EndpointSlice and Node objects, so the decision
// itself never sees a Kubernetes client type.

export interface ServiceView {
  /** "namespace/name" */
  readonly key: string;
  /** spec.type; only "LoadBalancer" is announced. */
  readonly type: string;
  /** The allocated IPs (status.loadBalancer.ingress[].ip, or the allocator's answer), as text. */
  readonly ips: readonly string[];
  /** spec.externalTrafficPolicy: "Local" needs a ready endpoint on the announcing node. */
  readonly externalTrafficPolicy: 'Cluster' | 'Local';
}

/** One endpoint of a Service, flattened from its EndpointSlices. */
export interface EndpointView {
  /** The node the endpoint runs on (discovery/v1 `nodeName`, or the v1beta1 hostname topology key). */
  readonly nodeName: string | null;
  /** `conditions.ready`; Kubernetes says an unset condition counts as ready. */
  readonly ready: boolean;
}

export interface NodeView {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Why a node does not announce a Service (null when it does). The first six follow MetalLB's speaker
 * (../shared/spec/metallb-compat.md §3.1–§3.2) so logs read the same; the rest are ingot's.
 */
export type WithdrawReason =
  | 'notLoadBalancer'
  | 'noIPAllocated'
  | 'invalidIP'
  | 'ipNotAllowed'
  | 'noLocalEndpoints'
  | 'noEndpoints'
  /** The Node carries node.kubernetes.io/exclude-from-external-load-balancers. */
  | 'nodeExcluded'
  /** BGP pool, but no configured peer's node-selectors select this node: nothing would carry the route. */
  | 'noPeers'
  /** The IPs fall in pools of different protocols (MetalLB requires one pool for all of a Service's IPs). */
  | 'mixedProtocols';
