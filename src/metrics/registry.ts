// The one module that imports prom-client. Everything else talks to the typed facades below, so metric
// names, labels and the removal of series live in one place, and tests get a fresh Registry each time.
//
// Names and labels follow MetalLB v0.12 (../shared/spec/metallb-compat.md §4) so existing dashboards and
// alerts keep working. Unlike MetalLB, a series is removed as soon as what it describes is gone (a peer
// removed from config, a Service no longer announced): MetalLB leaves them stale forever.
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

export { Registry };

/** One pool's figures for the allocator gauges (both families summed, as MetalLB's are per pool). */
export interface PoolFigures {
  pool: string;
  /** Usable addresses; a bigint beyond 2^53 (exported as the nearest float, as MetalLB's 9.22e18). */
  capacity: number | bigint;
  inUse: number;
}

/**
 * The controller's metrics: MetalLB's allocator and config series (metallb-compat.md §4) plus the Kubernetes
 * client layer's (K8sClientMetrics, with `ingot_leader`) in one registry. Unlike MetalLB, a pool's series are
 * removed when the pool leaves the config, and `config_loaded_bool` says whether a config is in force.
 */
export class ControllerMetrics {
  readonly registry: Registry;
  /** Pass this to src/k8s (informers, work queue, leader election). */
  readonly k8s: K8sClientMetrics;
  private readonly addressesTotal: Gauge<'pool'>;
  private readonly addressesInUse: Gauge<'pool'>;
  private readonly configLoaded: Gauge;
  private readonly configStale: Gauge;
  private readonly pools = new Set<string>();

  constructor(opts: MetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    const registers = [this.registry];
    this.k8s = new K8sClientMetrics({ registry: this.registry, leaderElection: true });
    this.addressesTotal = new Gauge({ name: 'metallb_allocator_addresses_total', help: 'Number of usable IP addresses, per pool', labelNames: ['pool'], registers });
    this.addressesInUse = new Gauge({ name: 'metallb_allocator_addresses_in_use_total', help: 'Number of IP addresses in use, per pool', labelNames: ['pool'], registers });
    this.configLoaded = new Gauge({ name: 'metallb_k8s_client_config_loaded_bool', help: '1 if the config was loaded at least once', registers });
    this.configStale = new Gauge({ name: 'metallb_k8s_client_config_stale_bool', help: '1 if running on a stale configuration, because the latest config failed to load', registers });
    this.configLoaded.set(0);
    this.configStale.set(0);
    if (opts.defaultMetrics === true) collectDefaultMetrics({ register: this.registry });
  }

  setConfigState(loaded: boolean, stale: boolean): void {
    this.configLoaded.set(loaded ? 1 : 0);
    this.configStale.set(stale ? 1 : 0);
  }

  /** Replaces the per-pool series: pools absent from `figures` lose theirs. */
  setPools(figures: Iterable<PoolFigures>): void {
    const next = new Map<string, { capacity: number; inUse: number }>();
    for (const f of figures) {
      const cur = next.get(f.pool) ?? { capacity: 0, inUse: 0 };
      cur.capacity += Number(f.capacity);
      cur.inUse += f.inUse;
      next.set(f.pool, cur);
    }
    for (const pool of this.pools) {
      if (next.has(pool)) continue;
      this.addressesTotal.remove({ pool });
      this.addressesInUse.remove({ pool });
    }
    this.pools.clear();
    for (const [pool, v] of next) {
      this.pools.add(pool);
      this.addressesTotal.set({ pool }, v.capacity);
      this.addressesInUse.set({ pool }, v.inUse);
    }
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

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

/**
 * `metallb_speaker_announced` (MetalLB's name and labels), built when scraped from one small record per
 * Service × protocol instead of a stored prom-client series per IP: at 10,000 Services the stored series cost
 * ~3.4 MiB of the speaker's 100 MB budget (issue 9 §7). Registered as a prom-client metric (name, help, type,
 * get) so every registry reader — the exposition, getSingleMetric, getMetricsAsJSON — sees an ordinary gauge.
 */
class AnnouncedGauge {
  readonly name = 'metallb_speaker_announced';
  readonly help = 'Services being announced from this node';
  readonly type = 'gauge';
  readonly aggregator = 'sum';
  readonly labelNames = ['service', 'protocol', 'node', 'ip'];
  /** "service\0protocol" → node and IPs, for callers that push (set) instead of registering a source. */
  private readonly byKey = new Map<string, AnnouncedRecord>();
  /** The agent's own state, read at scrape time: nothing is stored here at all. */
  source: (() => Iterable<AnnouncedRecord>) | null = null;

  set(service: string, protocol: AnnouncedSeries['protocol'], node: string, ips: readonly string[]): void {
    const key = `${service}\0${protocol}`;
    if (ips.length === 0) this.byKey.delete(key);
    else this.byKey.set(key, { service, protocol, node, ips });
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<{ labels: Record<string, string>; value: number }> }> {
    const values: Array<{ labels: Record<string, string>; value: number }> = [];
    for (const r of this.source !== null ? this.source() : this.byKey.values()) for (const ip of new Set(r.ips)) values.push({ labels: { service: r.service, protocol: r.protocol, node: r.node, ip }, value: 1 });
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    this.byKey.clear();
  }
}

/** What `metallb_speaker_announced` shows for one Service × protocol: one series per IP. */
export interface AnnouncedRecord {
  readonly service: string;
  readonly protocol: AnnouncedSeries['protocol'];
  readonly node: string;
  readonly ips: readonly string[];
}

/** Speaker-side metrics: BGP sessions and what this node announces. */
export class SpeakerMetrics {
  readonly registry: Registry;
  private readonly sessionUp: Gauge<'peer'>;
  private readonly updates: Counter<'peer'>;
  private readonly announcedPrefixes: Gauge<'peer'>;
  private readonly pendingPrefixes: Gauge<'peer'>;
  private readonly announced: AnnouncedGauge;
  private readonly connectionsRefused: Counter<'reason'>;
  private readonly configLoaded: Gauge;
  private readonly configStale: Gauge;
  private readonly peers = new Set<string>();

  constructor(opts: MetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    const registers = [this.registry];
    this.sessionUp = new Gauge({ name: 'metallb_bgp_session_up', help: 'BGP session state (1 is up, 0 is down)', labelNames: ['peer'], registers });
    this.updates = new Counter({ name: 'metallb_bgp_updates_total', help: 'Number of BGP UPDATE messages sent', labelNames: ['peer'], registers });
    this.announcedPrefixes = new Gauge({ name: 'metallb_bgp_announced_prefixes_total', help: 'Number of prefixes currently being advertised on the BGP session', labelNames: ['peer'], registers });
    this.pendingPrefixes = new Gauge({ name: 'metallb_bgp_pending_prefixes_total', help: 'Number of prefixes that should be advertised on the BGP session but are not yet', labelNames: ['peer'], registers });
    this.announced = new AnnouncedGauge();
    this.registry.registerMetric(this.announced as unknown as Metric);
    // ingot's own: inbound BGP connections refused before any BGP was spoken (their log line is rate-limited).
    this.connectionsRefused = new Counter({
      name: 'ingot_bgp_connections_refused_total',
      help: 'Inbound BGP connections refused: from an address that is not a configured peer, or while shutting down',
      labelNames: ['reason'],
      registers,
    });
    this.connectionsRefused.inc({ reason: 'unconfigured' }, 0);
    // MetalLB's names (metallb-compat.md §4); in standalone mode "config" means the config and cluster files.
    this.configLoaded = new Gauge({ name: 'metallb_k8s_client_config_loaded_bool', help: '1 if the config was loaded at least once', registers });
    this.configStale = new Gauge({ name: 'metallb_k8s_client_config_stale_bool', help: '1 if running on a stale configuration, because the latest config failed to load', registers });
    this.configLoaded.set(0);
    this.configStale.set(0);
    if (opts.defaultMetrics === true) collectDefaultMetrics({ register: this.registry });
  }

  /** One inbound connection refused; `reason` is 'unconfigured' or 'shutting-down'. */
  addConnectionRefused(reason: 'unconfigured' | 'shutting-down'): void {
    this.connectionsRefused.inc({ reason });
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
   * The series of one Service × protocol: `ips` announced from `node` (an empty list removes them). Other
   * Services' and other protocols' series are untouched, so the BGP and Layer 2 announcers (and one Service's
   * event at 10,000 Services) never rewrite each other's.
   */
  setServiceAnnounced(service: string, protocol: AnnouncedSeries['protocol'], node: string, ips: readonly string[]): void {
    this.announced.set(service, protocol, node, ips);
  }

  /**
   * `metallb_speaker_announced` is read from `source` at scrape time (the node agent registers its own state,
   * so a series exists exactly while the agent announces; nothing is copied). Replaces setServiceAnnounced.
   */
  announcedFrom(source: () => Iterable<AnnouncedRecord>): void {
    this.announced.source = source;
  }

  /** Removes every series of one Service × protocol (the Service is withdrawn or gone). */
  deleteServiceAnnounced(service: string, protocol: AnnouncedSeries['protocol']): void {
    this.setServiceAnnounced(service, protocol, '', []);
  }

  /** Input state: loaded once (never reset, as MetalLB), and whether the latest input failed to load. */
  /**
   * Honest, unlike MetalLB's (issue #680): `config_loaded_bool` is 1 while a config is in force, and
   * `config_stale_bool` 1 while the latest config (file, or ConfigMap, or its absence) is not what is in force.
   */
  setConfigState(loaded: boolean, stale: boolean): void {
    this.configLoaded.set(loaded ? 1 : 0);
    this.configStale.set(stale ? 1 : 0);
  }

  /** Prometheus text exposition of this registry. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * Layer 2 frame metrics (MetalLB v0.12 names and `ip` label) plus ingot's count of malformed frames. An IP's
 * series exist at 0 from the moment it is owned and are removed when it no longer is (`forgetIp`).
 */
export class Layer2Metrics {
  readonly registry: Registry;
  private readonly requests: Counter<'ip'>;
  private readonly responses: Counter<'ip'>;
  private readonly gratuitous: Counter<'ip'>;
  private readonly malformed: Counter<'reason'>;
  private readonly ips = new Set<string>();

  constructor(opts: MetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    const registers = [this.registry];
    this.requests = new Counter({ name: 'metallb_layer2_requests_received', help: 'Number of layer2 requests received for owned IPs', labelNames: ['ip'], registers });
    this.responses = new Counter({ name: 'metallb_layer2_responses_sent', help: 'Number of layer2 responses sent for owned IPs', labelNames: ['ip'], registers });
    this.gratuitous = new Counter({ name: 'metallb_layer2_gratuitous_sent', help: 'Number of gratuitous layer2 packets sent for owned IPs', labelNames: ['ip'], registers });
    this.malformed = new Counter({ name: 'ingot_layer2_malformed_frames_total', help: 'ARP / Neighbor Discovery frames dropped as malformed, by reason', labelNames: ['reason'], registers });
  }

  /** Declares an owned IP so its three series exist at 0. */
  addIp(ip: string): void {
    if (this.ips.has(ip)) return;
    this.ips.add(ip);
    this.requests.inc({ ip }, 0);
    this.responses.inc({ ip }, 0);
    this.gratuitous.inc({ ip }, 0);
  }

  forgetIp(ip: string): void {
    if (!this.ips.delete(ip)) return;
    this.requests.remove({ ip });
    this.responses.remove({ ip });
    this.gratuitous.remove({ ip });
  }

  requestReceived(ip: string): void {
    this.addIp(ip);
    this.requests.inc({ ip });
  }

  responseSent(ip: string): void {
    this.addIp(ip);
    this.responses.inc({ ip });
  }

  gratuitousSent(ip: string, frames: number): void {
    this.addIp(ip);
    this.gratuitous.inc({ ip }, frames);
  }

  malformedFrame(reason: string): void {
    this.malformed.inc({ reason });
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
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

/**
 * Layer 2 liveness and ownership (ingot's own names: MetalLB's memberlist exposes none). Drop reasons are the
 * closed set of src/l2/wire.ts; `ip` and `member` values come from config and the member list, so they are
 * bounded by what the cluster has.
 */
export class Layer2MemberMetrics {
  readonly registry: Registry;
  private readonly dropped: Counter<'reason'>;
  private readonly conflicts: Counter<'ip'>;
  private readonly alive: Gauge;
  private readonly downs: Counter<'member' | 'reason'>;
  private readonly ownerChanges: Counter;

  constructor(opts: MetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    const registers = [this.registry];
    this.dropped = new Counter({ name: 'ingot_layer2_member_packets_dropped_total', help: 'Liveness packets dropped, by reason (malformed, unauthenticated, replay, stale, ...)', labelNames: ['reason'], registers });
    this.conflicts = new Counter({ name: 'ingot_layer2_conflicts_total', help: 'Another MAC answered ARP/NDP for an IP this node announces', labelNames: ['ip'], registers });
    this.alive = new Gauge({ name: 'ingot_layer2_members_alive', help: 'Other speakers this node hears', registers });
    this.downs = new Counter({ name: 'ingot_layer2_member_down_total', help: 'Speakers declared dead (reason timeout) or that left', labelNames: ['member', 'reason'], registers });
    this.ownerChanges = new Counter({ name: 'ingot_layer2_ownership_changes_total', help: 'IPs whose owner changed, as seen by this node', registers });
  }

  packetDropped(reason: string): void {
    this.dropped.inc({ reason });
  }

  conflict(ip: string): void {
    this.conflicts.inc({ ip });
  }

  setMembersAlive(n: number): void {
    this.alive.set(n);
  }

  memberDown(member: string, reason: string): void {
    this.downs.inc({ member, reason });
  }

  ownershipChanged(): void {
    this.ownerChanges.inc();
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
