// Plain-data inputs and result values of the allocator. Nothing here knows about Kubernetes clients: the
// controller, `ingot plan` and the tests all build these from whatever they read.

export type Family = 'ipv4' | 'ipv6';
/** A Service's address family as MetalLB computes it: one family, or both ("dual"). */
export type ServiceFamily = Family | 'dual';

/** One address pool as the allocator needs it. `Pool` from src/config/types.ts is structurally a PoolSpec. */
export interface PoolSpec {
  readonly name: string;
  /** CIDRs in config order ("10.0.0.0/24", "2001:db8::/120"); ranges already turned into their CIDR cover. */
  readonly cidrs: readonly string[];
  readonly autoAssign: boolean;
  /** Never hand out IPv4 addresses ending in .0 or .255 (MetalLB's `avoid-buggy-ips`). */
  readonly avoidBuggyIPs: boolean;
  /** Ignored by allocation (MetalLB's allocator ignores it too); carried for callers. */
  readonly protocol: 'bgp' | 'layer2';
}

export interface ServicePort {
  /** TCP, UDP or SCTP; Kubernetes defaults a missing protocol to TCP and so does the allocator. */
  readonly protocol?: string | null;
  readonly port: number;
}

/** The fields of a Service the allocator reads. Missing optional fields mean what Kubernetes defaults them to. */
export interface ServiceInput {
  /** "namespace/name". */
  readonly key: string;
  /** RFC 3339; only `ingot plan` uses it (ordering). */
  readonly creationTimestamp?: string | null;
  readonly type: string;
  readonly clusterIPs?: readonly string[] | null;
  /** "IPv4" / "IPv6", as the API server fills them. */
  readonly ipFamilies?: readonly string[] | null;
  /** SingleStack, PreferDualStack or RequireDualStack. */
  readonly ipFamilyPolicy?: string | null;
  readonly loadBalancerIP?: string | null;
  readonly annotations?: Readonly<Record<string, string>> | null;
  readonly ports?: readonly ServicePort[] | null;
  /** Cluster (default) or Local. */
  readonly externalTrafficPolicy?: string | null;
  readonly selector?: Readonly<Record<string, string>> | null;
  /** `status.loadBalancer.ingress[].ip`, hostname-only entries already dropped. */
  readonly statusIPs?: readonly string[] | null;
}

export const ANNOTATION_ADDRESS_POOL = 'metallb.universe.tf/address-pool';
export const ANNOTATION_LOADBALANCER_IPS = 'metallb.universe.tf/loadBalancerIPs';
export const ANNOTATION_ALLOW_SHARED_IP = 'metallb.universe.tf/allow-shared-ip';

export type FailureReason =
  /** No free (or compatibly shared) address left in the pool(s) that were tried. */
  | 'poolExhausted'
  /** A requested or status address lies outside every pool (or is a .0/.255 of an avoid-buggy-ips pool). */
  | 'notInAnyPool'
  /** The two addresses of a dual-stack request lie in different pools, or a requested IP is outside the
   *  pool the address-pool annotation names. */
  | 'poolMismatch'
  /** The address is held by another Service and MetalLB's sharing rules forbid co-location. */
  | 'sharingConflict'
  /** Requested addresses of the wrong family, or a pool without addresses of the Service's family. */
  | 'familyMismatch'
  /** The address-pool annotation names no configured pool. */
  | 'unknownPool'
  /** A MetalLB annotation whose value makes no sense (bad IP, two IPs of one family, both IP sources set). */
  | 'invalidAnnotation'
  /** spec.loadBalancerIP does not parse. */
  | 'invalidLoadBalancerIP'
  /** Inconsistent ipFamilies / ipFamilyPolicy / clusterIPs, or bad ports. */
  | 'invalidService'
  /** No pool has auto-assign enabled (for the Service's family) and the Service requested nothing. */
  | 'autoAssignDisabled';

export type AllocationResult =
  | {
      readonly ok: true;
      readonly ips: readonly string[];
      readonly pool: string;
      /** Set when the addresses were kept despite a problem worth reporting (e.g. a broken request). */
      readonly warning?: string;
    }
  | { readonly ok: false; readonly reason: FailureReason; readonly message: string };

export type SetPoolsResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'incompatibleConfig'; readonly message: string };

/** What the allocator holds for one Service. */
export interface Allocation {
  readonly ips: readonly string[];
  readonly pool: string;
}

export interface PoolUsage {
  readonly pool: string;
  readonly family: Family;
  /** Addresses with at least one user. */
  readonly inUse: number;
  /** Usable addresses (after avoid-buggy-ips); a bigint only when it exceeds 2^53. */
  readonly capacity: number | bigint;
}
