// The one module that imports prom-client. Everything else talks to the typed facades below, so metric
// names, labels and the removal of series live in one place, and tests get a fresh Registry each time.
//
// Names and labels follow MetalLB v0.12 (../shared/spec/metallb-compat.md §4) so existing dashboards and
// alerts keep working. Unlike MetalLB, a series is removed as soon as what it describes is gone (a peer
// removed from config, a Service no longer announced): MetalLB leaves them stale forever.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export { Registry };

export interface MetricsOptions {
  /** Registry to register into; a new one when absent (never the global default: see README). */
  registry?: Registry;
  /** Add Node's process_* and nodejs_* collectors (off in tests: they are timers). */
  defaultMetrics?: boolean;
}

/** One `metallb_speaker_announced` series: the Service `ns/name` announced for `ip` from `node`. */
export interface AnnouncedSeries {
  service: string;
  protocol: 'bgp' | 'layer2';
  node: string;
  ip: string;
}

/** Speaker-side metrics: BGP sessions and what this node announces. */
export class SpeakerMetrics {
  readonly registry: Registry;
  private readonly sessionUp: Gauge<'peer'>;
  private readonly updates: Counter<'peer'>;
  private readonly announcedPrefixes: Gauge<'peer'>;
  private readonly pendingPrefixes: Gauge<'peer'>;
  private readonly announced: Gauge<'service' | 'protocol' | 'node' | 'ip'>;
  private readonly announcedKeys = new Map<string, AnnouncedSeries>();
  private readonly peers = new Set<string>();

  constructor(opts: MetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    const registers = [this.registry];
    this.sessionUp = new Gauge({ name: 'metallb_bgp_session_up', help: 'BGP session state (1 is up, 0 is down)', labelNames: ['peer'], registers });
    this.updates = new Counter({ name: 'metallb_bgp_updates_total', help: 'Number of BGP UPDATE messages sent', labelNames: ['peer'], registers });
    this.announcedPrefixes = new Gauge({ name: 'metallb_bgp_announced_prefixes_total', help: 'Number of prefixes currently being advertised on the BGP session', labelNames: ['peer'], registers });
    this.pendingPrefixes = new Gauge({ name: 'metallb_bgp_pending_prefixes_total', help: 'Number of prefixes that should be advertised on the BGP session but are not yet', labelNames: ['peer'], registers });
    this.announced = new Gauge({ name: 'metallb_speaker_announced', help: 'Services being announced from this node', labelNames: ['service', 'protocol', 'node', 'ip'], registers });
    if (opts.defaultMetrics === true) collectDefaultMetrics({ register: this.registry });
  }

  /** Declares a configured peer (`ip:port`), so its series exist (at 0) before the session first comes up. */
  addPeer(peer: string): void {
    if (this.peers.has(peer)) return;
    this.peers.add(peer);
    this.sessionUp.set({ peer }, 0);
    this.updates.inc({ peer }, 0);
    this.announcedPrefixes.set({ peer }, 0);
    this.pendingPrefixes.set({ peer }, 0);
  }

  /** Removes every series of a peer that left the config. */
  removePeer(peer: string): void {
    if (!this.peers.delete(peer)) return;
    this.sessionUp.remove({ peer });
    this.updates.remove({ peer });
    this.announcedPrefixes.remove({ peer });
    this.pendingPrefixes.remove({ peer });
  }

  setSessionUp(peer: string, up: boolean): void {
    this.addPeer(peer);
    this.sessionUp.set({ peer }, up ? 1 : 0);
  }

  addUpdatesSent(peer: string, count: number): void {
    this.addPeer(peer);
    this.updates.inc({ peer }, count);
  }

  setPrefixCounts(peer: string, announced: number, pending: number): void {
    this.addPeer(peer);
    this.announcedPrefixes.set({ peer }, announced);
    this.pendingPrefixes.set({ peer }, pending);
  }

  /**
   * Replaces the whole set of announced series (desired state, like the speaker's own API): new entries are
   * set to 1 and entries absent from `entries` are removed, not left at a stale value.
   */
  setAnnounced(entries: Iterable<AnnouncedSeries>): void {
    const next = new Map<string, AnnouncedSeries>();
    for (const e of entries) next.set(seriesKey(e), e);
    for (const [key, e] of this.announcedKeys) {
      if (!next.has(key)) this.announced.remove({ ...e });
    }
    for (const [key, e] of next) {
      if (!this.announcedKeys.has(key)) this.announced.set({ ...e }, 1);
    }
    this.announcedKeys.clear();
    for (const [key, e] of next) this.announcedKeys.set(key, e);
  }

  /** Prometheus text exposition of this registry. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function seriesKey(e: AnnouncedSeries): string {
  // NUL never appears in label values that come from Kubernetes names or IP literals.
  return `${e.service}\0${e.protocol}\0${e.node}\0${e.ip}`;
}

export interface K8sClientMetricsOptions {
  registry: Registry;
  /** Register `ingot_leader` (the controller, which runs leader election; the speaker does not). */
  leaderElection?: boolean;
}

/**
 * The Kubernetes client layer's metrics (src/k8s/metrics.ts `K8sMetrics`, satisfied structurally so this
 * module does not import src/k8s). MetalLB's two unlabelled counters count work-queue items as it does; the
 * `ingot_` series are ingot's own.
 */
export class K8sClientMetrics {
  private readonly updates: Counter;
  private readonly updateErrors: Counter;
  private readonly restarts: Counter<'resource' | 'reason'>;
  private readonly depth: Gauge<'queue'>;
  private readonly leader: Gauge | undefined;

  constructor(opts: K8sClientMetricsOptions) {
    const registers = [opts.registry];
    this.updates = new Counter({ name: 'metallb_k8s_client_updates_total', help: 'Number of k8s object updates that have been processed.', registers });
    this.updateErrors = new Counter({ name: 'metallb_k8s_client_update_errors_total', help: 'Number of k8s object updates that failed for some reason.', registers });
    this.restarts = new Counter({ name: 'ingot_k8s_informer_restarts_total', help: 'Informer relists after an error or a 410 Expired watch', labelNames: ['resource', 'reason'], registers });
    this.depth = new Gauge({ name: 'ingot_workqueue_depth', help: 'Keys waiting in the work queue', labelNames: ['queue'], registers });
    this.leader = opts.leaderElection === true ? new Gauge({ name: 'ingot_leader', help: 'This replica holds the leader Lease (1) or not (0)', registers }) : undefined;
    this.updates.inc(0);
    this.updateErrors.inc(0);
    this.leader?.set(0);
  }

  workItemProcessed(_queue: string, failed: boolean): void {
    this.updates.inc();
    if (failed) this.updateErrors.inc();
  }

  setQueueDepth(queue: string, depth: number): void {
    this.depth.set({ queue }, depth);
  }

  informerRestarted(resource: string, reason: 'error' | 'expired'): void {
    this.restarts.inc({ resource, reason });
  }

  setLeader(leader: boolean): void {
    this.leader?.set(leader ? 1 : 0);
  }
}
