// The node agent: the per-Service decision of one node, independent of where the state comes from (files
// today, informers in Kubernetes mode: src/agent/README.md) and of the protocol that announces (Announcer).
// It keeps one record per Service and re-decides only what an update touches: a Service or its endpoints
// change → that Service; the node's labels, the config or an announcer's own inputs change → every Service.
// It owns what is per Service and protocol-neutral: the decision (the pool's protocol picks the announcer),
// the `metallb_speaker_announced` series, the serviceAnnounced / serviceWithdrawn logs, and /status's list.
import { poolOfService } from '../announce/index.js';
import type { Config, Pool, Protocol } from '../config/index.js';
import { nullLogger, type Logger } from '../log.js';
import type { AnnouncedRecord, SpeakerMetrics } from '../metrics/registry.js';
import type { AnnouncementStatus, Announcer, EndpointView, NodeView, ServiceView } from './types.js';

export interface NodeAgentOptions {
  readonly nodeName: string;
  /** One per protocol. A pool whose protocol has no announcer gets reason `<protocol>Unsupported`. */
  readonly announcers: readonly Announcer[];
  readonly metrics?: SpeakerMetrics;
  readonly logger?: Logger;
  /**
   * Told when this node starts announcing a Service (it was not announced, or under another protocol) and
   * when it stops: Kubernetes mode posts `nodeAssigned` on the first. Not called for IP or pool changes of an
   * announced Service, nor on re-decisions that change nothing. Must not throw (the source guards it).
   */
  readonly observer?: AgentObserver;
}

export interface AgentObserver {
  announced(key: string, protocol: Protocol): void;
  withdrawn(key: string, reason: string): void;
}

interface ServiceState {
  view: ServiceView;
  /** Every endpoint of the Service (setEndpoints). */
  endpoints: readonly EndpointView[];
  /** What the Service's announcer was given (null: not announced). */
  announced: { protocol: Protocol; ips: readonly string[]; pool: Pool } | null;
  protocol: Protocol | null;
  reason: string | null;
}

const NO_ENDPOINTS: readonly EndpointView[] = Object.freeze([]);

export class NodeAgent {
  readonly nodeName: string;
  private readonly announcers = new Map<Protocol, Announcer>();
  private readonly metrics: SpeakerMetrics | undefined;
  private readonly log: Logger;
  private readonly observer: AgentObserver | undefined;
  private config: Config | null = null;
  private nodeView: NodeView;
  private readonly services = new Map<string, ServiceState>();
  /** Endpoints of Services not (yet) known; a known Service keeps its own in its state. */
  private readonly orphanEndpoints = new Map<string, readonly EndpointView[]>();
  /** Inside batch(): keys to decide at its end (null: every Service). */
  private pending: Set<string> | null | undefined;

  constructor(o: NodeAgentOptions) {
    this.nodeName = o.nodeName;
    this.metrics = o.metrics;
    this.log = o.logger ?? nullLogger;
    this.observer = o.observer;
    this.nodeView = { name: o.nodeName, labels: {} };
    for (const a of o.announcers) {
      this.announcers.set(a.protocol, a);
      a.onInvalidate(() => this.touchAll());
    }
    // The metric reads the decisions when scraped (no copy per Service: memory at 10,000 Services).
    this.metrics?.announcedFrom(() => this.announcedRecords());
  }

  /** One record per announced Service: `metallb_speaker_announced` (one series per IP). */
  private *announcedRecords(): Generator<AnnouncedRecord> {
    for (const [key, st] of this.services) {
      if (st.announced !== null) yield { service: key, protocol: st.announced.protocol, node: this.nodeName, ips: st.announced.ips };
    }
  }

  /** This node as last given by setNode (labels empty until then). */
  get node(): NodeView {
    return this.nodeView;
  }

  /** A new config: the announcers first (BGP peers), then every Service is re-decided. */
  setConfig(config: Config): void {
    this.config = config;
    for (const a of this.announcers.values()) a.setConfig(config);
    this.touchAll();
  }

  /** This node's labels (every Service is re-decided: the exclusion label, peer node-selectors). */
  setNode(node: NodeView): void {
    this.nodeView = node;
    for (const a of this.announcers.values()) a.setNode(node);
    this.touchAll();
  }

  /** A Service was added or changed (its IPs are `svc.ips`). A type other than LoadBalancer withdraws it. */
  upsertService(svc: ServiceView): void {
    const st = this.services.get(svc.key);
    if (st === undefined) {
      const endpoints = this.orphanEndpoints.get(svc.key) ?? NO_ENDPOINTS;
      this.orphanEndpoints.delete(svc.key);
      this.services.set(svc.key, { view: svc, endpoints, announced: null, protocol: null, reason: null });
    } else st.view = svc;
    this.touch(svc.key);
  }

  /** The Service is gone: withdrawn (logged as `serviceDeleted` when it was announced). */
  deleteService(key: string): void {
    const st = this.services.get(key);
    if (st === undefined) return;
    if (st.announced !== null) this.withdraw(key, st, 'serviceDeleted');
    this.services.delete(key);
    // Endpoints outlive the Service record, as before it was known (its slices may still exist).
    if (st.endpoints.length > 0) this.orphanEndpoints.set(key, st.endpoints);
  }

  /** Every endpoint of a Service (all its EndpointSlices flattened); kept even before the Service is known. */
  setEndpoints(serviceKey: string, endpoints: readonly EndpointView[]): void {
    const st = this.services.get(serviceKey);
    if (st !== undefined) {
      st.endpoints = endpoints.length === 0 ? NO_ENDPOINTS : endpoints;
      this.touch(serviceKey);
    } else if (endpoints.length === 0) this.orphanEndpoints.delete(serviceKey);
    else this.orphanEndpoints.set(serviceKey, endpoints);
  }

  /**
   * Runs `fn` (several updates) and decides once at the end: a snapshot diff (files) or an informer relist
   * re-decides each touched Service once, and a config change with Service changes decides only with the new
   * config.
   */
  batch(fn: () => void): void {
    const release = this.hold();
    try {
      fn();
    } finally {
      release();
    }
  }

  /**
   * batch() across asynchronous work: updates are taken (announcers get config and node at once) but nothing
   * is decided until the returned function runs — the Kubernetes source holds the agent while its informers
   * list. Nested holds decide at the outermost release. The release runs once.
   */
  hold(): () => void {
    if (this.pending !== undefined) return () => undefined;
    this.pending = new Set();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const p = this.pending;
      this.pending = undefined;
      if (p === null) this.decideAll();
      else if (p !== undefined) for (const k of p) this.decide(k);
    };
  }

  /** The state source delivered its first full snapshot (BGP may now send End-of-RIB). */
  synced(): void {
    for (const a of this.announcers.values()) a.synced();
  }

  /** Every Service with its decision, sorted by key (/status `announcements`). */
  announcements(): AnnouncementStatus[] {
    const out: AnnouncementStatus[] = [];
    for (const key of [...this.services.keys()].sort()) {
      const st = this.services.get(key)!;
      if (st.view.type !== 'LoadBalancer') continue;
      const d = st.announced === null ? null : this.announcers.get(st.announced.protocol)?.detail(key);
      out.push({
        service: key,
        ips: [...st.view.ips],
        protocol: st.protocol,
        prefixes: d ? [...d.prefixes] : [],
        peers: d ? [...d.peers] : [],
        reason: st.reason,
      });
    }
    return out;
  }

  /** The Service as last given (upsertService), or undefined: the source's record of what it told the agent. */
  view(key: string): ServiceView | undefined {
    return this.services.get(key)?.view;
  }

  /** Every Service's view, in insertion order. */
  *serviceViews(): Generator<[string, ServiceView]> {
    for (const [key, st] of this.services) yield [key, st.view];
  }

  /** Whether this node announces the Service now. */
  isAnnounced(key: string): boolean {
    return this.services.get(key)?.announced != null;
  }

  /** Counts for logs: LoadBalancer Services known, and those announced. */
  counts(): { services: number; announced: number } {
    let services = 0;
    let announced = 0;
    for (const st of this.services.values()) {
      if (st.view.type !== 'LoadBalancer') continue;
      services++;
      if (st.announced !== null) announced++;
    }
    return { services, announced };
  }

  announcer(protocol: Protocol): Announcer | undefined {
    return this.announcers.get(protocol);
  }

  /** Stops every announcer (BGP: Cease to every peer). */
  async stop(opts: { message?: string; timeoutMs?: number } = {}): Promise<void> {
    await Promise.all([...this.announcers.values()].map((a) => a.stop(opts)));
  }

  // ---- deciding ----------------------------------------------------------------------------------------

  private touch(key: string): void {
    if (this.pending === undefined) this.decide(key);
    else if (this.pending !== null) this.pending.add(key);
  }

  private touchAll(): void {
    if (this.pending === undefined) this.decideAll();
    else this.pending = null;
  }

  private decideAll(): void {
    for (const key of this.services.keys()) this.decide(key);
  }

  /** MetalLB's order: the pool (which also checks type and IPs), then the pool protocol's ShouldAnnounce. */
  private decide(key: string): void {
    const st = this.services.get(key);
    if (st === undefined || this.config === null) return;
    const view = st.view;
    if (view.type !== 'LoadBalancer') {
      this.withdraw(key, st, 'notLoadBalancer');
      return;
    }
    const pool = poolOfService(this.config, view);
    let reason: string | null;
    let announcer: Announcer | undefined;
    if (!pool.ok) {
      reason = pool.reason;
      st.protocol = null;
    } else {
      st.protocol = pool.pool.protocol;
      announcer = this.announcers.get(pool.pool.protocol);
      reason = announcer === undefined ? `${pool.pool.protocol}Unsupported` : announcer.shouldAnnounce(view, st.endpoints);
    }
    if (reason !== null || announcer === undefined || !pool.ok) {
      this.withdraw(key, st, reason ?? 'unsupported');
      return;
    }
    const was = st.announced;
    if (was !== null && was.protocol !== announcer.protocol) {
      this.announcers.get(was.protocol)?.deleteBalancer(key);
    }
    const ipsChanged = was === null || was.protocol !== announcer.protocol || was.ips.join() !== view.ips.join();
    if (ipsChanged || was.pool !== pool.pool) announcer.setBalancer(key, view.ips, pool.pool);
    st.announced = { protocol: announcer.protocol, ips: view.ips, pool: pool.pool };
    st.reason = null;
    if (was === null || was.protocol !== announcer.protocol) this.observer?.announced(key, announcer.protocol);
    if (ipsChanged) {
      this.log.info('serviceAnnounced', { service: key, protocol: announcer.protocol, ips: view.ips, prefixes: announcer.detail(key).prefixes });
    }
  }

  /** Not (or no longer) announced for `reason`: logged at info when it was announced, debug when the reason changed. */
  private withdraw(key: string, st: ServiceState, reason: string): void {
    const was = st.announced;
    if (was !== null) {
      this.announcers.get(was.protocol)?.deleteBalancer(key);
      st.announced = null;
      this.log.info('serviceWithdrawn', { service: key, reason });
      this.observer?.withdrawn(key, reason);
    } else if (st.reason !== reason) {
      this.log.debug('serviceWithdrawn', { service: key, reason });
    }
    st.reason = reason;
  }
}
