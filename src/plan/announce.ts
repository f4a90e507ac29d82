// The seam for the speaker issues: which nodes announce a Service's addresses, and how. Until the speaker
// logic lands (BGP node selectors and endpoint rules, Layer 2 leader election, §3 of metallb-compat.md) it
// answers null, which `ingot plan` prints as "-" and JSON as null, as the CLI contract allows.
import type { Config } from '../config/types.js';
import type { Cluster, ServiceObject } from './cluster.js';

export interface Announce {
  readonly protocol: 'bgp' | 'layer2' | null;
  /** Nodes that announce, ascending. */
  readonly nodes: readonly string[];
  /** Why nothing is announced, when nothing is. */
  readonly reason: string | null;
}

export interface AnnounceInput {
  readonly config: Config;
  readonly cluster: Cluster;
  readonly service: ServiceObject;
  /** The addresses the allocator gave the Service ([] when none) and their pool. */
  readonly ips: readonly string[];
  readonly pool: string | null;
  /** `--node`: only this node's view is wanted; null = every node. */
  readonly node: string | null;
}

export function announceFor(_input: AnnounceInput): Announce | null {
  return null;
}
