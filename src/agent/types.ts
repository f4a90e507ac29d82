// The seam between the node agent (what to announce, per Service) and the protocols that announce it (BGP
// now, Layer 2 next). Modelled on MetalLB v0.12's speaker `Protocol` interface (speaker/main.go: SetConfig,
// ShouldAnnounce, SetBalancer, DeleteBalancer, SetNode), plus what ingot needs on top: invalidation (Layer 2
// membership changes re-decide Services), an explicit "first full state delivered" (BGP End-of-RIB, RFC
// 4724), the per-Service detail /status shows, and a clean stop.
import type { EndpointView, NodeView, ServiceView } from '../announce/index.js';
import type { Config, Pool, Protocol } from '../config/index.js';

export type { EndpointView, NodeView, ServiceView, Protocol };

/** What /status shows for an announced Service, from its announcer. */
export interface AnnouncementDetail {
  /** BGP: the prefixes the Service contributes (after aggregation). */
  readonly prefixes: readonly string[];
  /** BGP: the peers (keys) that were sent at least one of those prefixes. */
  readonly peers: readonly string[];
}

export interface Announcer {
  readonly protocol: Protocol;
  /** A new config (BGP: the peers whose node-selectors select this node; Layer 2: interfaces etc.). */
  setConfig(config: Config): void;
  /** This node's labels changed (BGP: peer node-selectors; both: the exclusion label). */
  setNode(node: NodeView): void;
  /**
   * MetalLB's ShouldAnnounce for a Service whose IPs are all in one pool of this protocol: null = announce
   * from this node, else the reason (metallb-compat.md §3.1; `noPeers`, `nodeExcluded` are ingot's).
   */
  shouldAnnounce(svc: ServiceView, endpoints: readonly EndpointView[]): string | null;
  /** Announce `ips` for Service `key` (idempotent; replaces what the Service had). */
  setBalancer(key: string, ips: readonly string[], pool: Pool): void;
  /** Stop announcing Service `key` (idempotent). */
  deleteBalancer(key: string): void;
  /** Registers the callback for "my own inputs changed": the agent then re-decides every Service. */
  onInvalidate(cb: () => void): void;
  /** The state source delivered its first full snapshot: what the announcer has is the whole table. */
  synced(): void;
  /** Per-Service detail for /status (empty for a Service it does not announce). */
  detail(key: string): AnnouncementDetail;
  /** Protocol-specific status (sessions, listeners, ...). */
  status(): unknown;
  stop(opts?: { message?: string; timeoutMs?: number }): Promise<void>;
}

/** One Service as /status reports it: announced (reason null) or not, with the reason. */
export interface AnnouncementStatus {
  /** "namespace/name" */
  readonly service: string;
  readonly ips: readonly string[];
  /** The protocol of the Service's pool (null when it has none: no IP, IP outside every pool, ...). */
  readonly protocol: Protocol | null;
  /** Prefixes the Service contributes (empty when not announced). */
  readonly prefixes: readonly string[];
  /** Peers that were sent those prefixes (empty when not announced). */
  readonly peers: readonly string[];
  /** null: announced; otherwise why not (metallb-compat.md §3.1, or ingot's reasons). */
  readonly reason: string | null;
}

/**
 * Where the cluster state comes from: the files of standalone mode (src/speaker/standalone.ts) or the
 * informers of Kubernetes mode (src/speaker/kubernetes.ts). A source feeds one NodeAgent with incremental updates (setConfig,
 * setNode, upsertService, deleteService, setEndpoints, inside agent.batch() for a burst) and calls
 * agent.synced() once its first full state has been delivered.
 *
 * What goes into ServiceView.ips is the source's job: standalone mode allocates (planCluster) for Services
 * without status IPs, as `ingot plan` does; Kubernetes mode passes only status.loadBalancer.ingress, so a
 * Service the controller has not served yet gets `noIPAllocated`.
 */
export interface StateSource {
  /**
   * Loads the first full state and starts following changes. Returns (or resolves to) the error when the
   * first state cannot be loaded; nothing is applied then.
   */
  start(): StateSourceError | null | Promise<StateSourceError | null>;
  /** Re-reads everything now (SIGHUP). Bad input keeps the last good state. */
  reload(why: string): void;
  /** Inputs whose latest version is bad (the last good one is in force): input name → error. */
  readonly stale: ReadonlyMap<string, string>;
  close(): void;
}

export interface StateSourceError {
  /** The input (a file, a resource) that could not be loaded. */
  readonly file: string;
  readonly kind: 'unreadable' | 'not-regular' | 'too-large' | 'empty' | 'invalid-config' | 'invalid-cluster' | 'internal';
  readonly error: string;
}
