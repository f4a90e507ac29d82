// The validated configuration every other module consumes. Produced only by parseConfig() (parse.ts), so a
// value of these types has already passed every MetalLB v0.12 rule plus ingot's extensions: consumers never
// re-validate. Everything is readonly because one Config is shared between the allocator, the speakers and
// the CLI; a reload produces a new object rather than mutating this one.

import type { IPFamily, IPPrefix } from '../ip/index.js';

// Address family and prefix are src/ip's; re-exported because Config values carry them.
export type { IPFamily, IPPrefix };

export type Protocol = 'bgp' | 'layer2';

/** A Kubernetes label-selector requirement (`match-expressions` entry). */
export interface LabelRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  /** Empty for Exists / DoesNotExist; non-empty for In / NotIn. */
  readonly values: readonly string[];
}

/**
 * One `node-selectors` entry: matchLabels AND matchExpressions. An entry with neither selects every node.
 * A list of entries is ORed; an empty list selects every node (MetalLB's `[Everything]` default).
 */
export interface NodeSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly LabelRequirement[];
}

/** RFC 8092 large community. */
export interface LargeCommunity {
  readonly globalAdministrator: number;
  readonly localData1: number;
  readonly localData2: number;
}

export interface BgpAdvertisement {
  readonly aggregationLength: number;
  readonly aggregationLengthV6: number;
  /** LOCAL_PREF; MetalLB sends it to iBGP peers only. */
  readonly localPref: number;
  /** RFC 1997 communities as 32-bit values ((A << 16) + B), aliases resolved, deduplicated, ascending. */
  readonly communities: readonly number[];
  /** RFC 8092 large communities, deduplicated, ascending (global, local1, local2). */
  readonly largeCommunities: readonly LargeCommunity[];
}

export interface Pool {
  readonly name: string;
  readonly protocol: Protocol;
  /** Every CIDR in config order; a range contributes its minimal CIDR cover in ascending order. */
  readonly cidrs: readonly string[];
  /** The same blocks as `cidrs`, parsed, same order. */
  readonly prefixes: readonly IPPrefix[];
  readonly autoAssign: boolean;
  /** Skip IPv4 addresses ending in .0 or .255. */
  readonly avoidBuggyIPs: boolean;
  /** Empty for layer2 pools; at least one (the default) for bgp pools. */
  readonly bgpAdvertisements: readonly BgpAdvertisement[];
  /**
   * Always empty today: MetalLB v0.12 pools have no node selectors (v0.13 moved them to advertisements).
   * Kept so consumers can already treat "empty = every node" uniformly with peers.
   */
  readonly nodeSelectors: readonly NodeSelector[];
}

export interface Peer {
  readonly myASN: number;
  readonly peerASN: number;
  /** Canonical IP text. */
  readonly peerAddress: string;
  readonly peerPort: number;
  /** Seconds; 0 means no keepalives (RFC 4271 §4.2). */
  readonly holdTime: number;
  /** Seconds; defaults to floor(holdTime / 3). */
  readonly keepaliveTime: number;
  readonly routerID: string | null;
  readonly sourceAddress: string | null;
  readonly ebgpMultihop: boolean;
  /** TCP MD5 key (RFC 2385); null when unset or empty. */
  readonly password: string | null;
  readonly bfdProfile: string | null;
  /** Empty = every node. */
  readonly nodeSelectors: readonly NodeSelector[];
  /** ingot extension: RFC 4724 graceful restart capability. */
  readonly gracefulRestart: boolean;
  /** ingot extension: seconds, 1..4095 (12-bit Restart Time field of RFC 4724 §3). */
  readonly gracefulRestartTime: number;
  /** ingot extension: RFC 5082 GTSM (send TTL 255, require 255 on receive). */
  readonly gtsm: boolean;
}

/** BFD profile with FRR's defaults filled in for unset fields (MetalLB leaves them to FRR). */
export interface BfdProfile {
  readonly name: string;
  /** Milliseconds. */
  readonly receiveInterval: number;
  /** Milliseconds. */
  readonly transmitInterval: number;
  readonly detectMultiplier: number;
  /** Milliseconds. */
  readonly echoInterval: number;
  readonly echoMode: boolean;
  readonly passiveMode: boolean;
  readonly minimumTtl: number;
}

export interface Config {
  readonly peers: readonly Peer[];
  /** Config order (ingot allocates from pools in this order). */
  readonly pools: readonly Pool[];
  readonly bfdProfiles: readonly BfdProfile[];
}

export type ParseResult = { readonly ok: true; readonly config: Config } | { readonly ok: false; readonly error: string };
