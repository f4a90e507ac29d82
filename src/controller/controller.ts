// The Kubernetes adapter around ControllerCore (core.ts): informers on Services (all namespaces) and the one
// ConfigMap feed the core; a keyed work queue runs one key at a time; what the core decides is carried out
// against the API server — a merge patch of the status subresource, an Event — and only by the holder of the
// Lease `ingot-controller`. See README.md for the data flow and where this differs from MetalLB.
//
// Leadership and the core. The allocator state is rebuilt from the informer caches whenever this replica's
// role changes (a new "term"): a fresh core gets the last good config and every cached Service, then, as
// leader, the sync gate claims every status address before anything is allocated. A core that decided while
// leading must never be reused after a gap in leadership: it may hold addresses it never managed to write,
// which another leader has handed out since. A standby keeps its caches warm and runs a core that only
// claims (it never passes the sync gate), so /status, the pool metrics and the config checks stay true.
// Right before every write the replica checks that it still leads and that the term has not changed.
import { ClusterError, serviceFromObject, type ServiceObject } from '../plan/cluster.js';
import type { Logger } from '../log.js';
import {
  EventRecorder,
  Informer,
  LeaderElector,
  Requeue,
  WorkQueue,
  isConflict,
  isNotFound,
  splitKey,
  type ConfigMap,
  type KubeApi,
  type K8sMetrics,
  type KubeObject,
  type RestClient,
} from '../k8s/index.js';
import type { BackoffPolicy, Clock } from '../k8s/primitives.js';
import { ControllerCore, type ConfigOutcome, type ServiceOutcome } from './core.js';

/** Work-queue keys that are not Services: Service keys always contain a '/' (namespace/name). */
export const CONFIG_KEY = 'config';
export const SYNC_KEY = 'synced';

/** The metrics the controller reports (src/metrics/registry.ts ControllerMetrics satisfies it). */
export interface ControllerMetricsSink {
  readonly k8s: K8sMetrics;
  setConfigState(loaded: boolean, stale: boolean): void;
  setPools(figures: Iterable<{ pool: string; capacity: number | bigint; inUse: number }>): void;
}

export interface ControllerOptions {
  /** A KubeClient; `leaseApi` (a separate rate-limit bucket for the Lease), when the client has one, runs the election. */
  client: { readonly rest: RestClient; readonly api: KubeApi; readonly leaseApi?: KubeApi };
  /** Where the ConfigMap, the Lease and the memberlist Secret live. */
  namespace: string;
  /** `--config-map` (default `config`); data key `config`. */
  configMapName?: string;
  /** `--lb-class`; null handles only Services without a class. */
  lbClass?: string | null;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock: Clock;
  logger: Logger;
  metrics: ControllerMetricsSink;
  /** Informer resume backoff (tests shorten it). */
  informerPolicy?: BackoffPolicy;
  /** Random bytes for the memberlist key. */
  randomBytes?: (n: number) => Buffer;
}

export const CONFIG_DATA_KEY = 'config';
/** Event reason on the ConfigMap when a new config is refused (MetalLB's log event is `configStale`). */
export const CONFIG_STALE_REASON = 'ConfigStale';

export interface ControllerStatus {
  component: 'controller';
  identity: string;
  uptimeSeconds: number;
  leader: { holder: string | null; isLeader: boolean; phase: string };
  config: { name: string; loaded: boolean; stale: boolean; error: string | null };
  synced: { services: boolean; configMap: boolean };
  pools: Array<{ pool: string; family: string; inUse: number; capacity: number | string }>;
  /** Services in the cache (all types, all classes). */
  services: number;
  /** Services holding addresses. */
  allocated: number;
  /** Our LoadBalancer Services without an address (exhausted pool, bad request, waiting for the leader). */
  pending: number;
  workQueue: { depth: number; backoff: number; eventsWaiting: number };
  informers: Record<string, { synced: boolean; objects: number; restarts: number; lastError: string | null }>;
  memberlistSecret: 'unknown' | 'present' | 'created' | 'error';
}

export class Controller {
  private readonly ns: string;
  private readonly cmName: string;
  private readonly lbClass: string | null;
  private readonly log: Logger;
  private readonly services: Informer<KubeObject>;
  private readonly configMaps: Informer<ConfigMap>;
  private readonly queue: WorkQueue;
  private readonly elector: LeaderElector;
  private readonly recorder: EventRecorder;
  private core: ControllerCore;
  /** Bumped on every change of role; a decision of an older term is never written. */
  private term = 0;
  private leading = false;
  private stopping = false;
  private started = false;
  private readonly startedAt: number;
  private secretState: ControllerStatus['memberlistSecret'] = 'unknown';
  private secretTimer: ReturnType<Clock['setTimeout']> | undefined;
  private readonly pendingEvents: Array<{ obj: KubeObject; type: 'Normal' | 'Warning'; reason: string; message: string; term: number }> = [];
  private draining = false;

  constructor(private readonly opts: ControllerOptions) {
    this.ns = opts.namespace;
    this.cmName = opts.configMapName ?? 'config';
    this.lbClass = opts.lbClass ?? null;
    this.log = opts.logger;
    this.startedAt = opts.clock.now();
    this.core = new ControllerCore({ lbClass: this.lbClass });
    const deps = { rest: opts.client.rest, clock: opts.clock, logger: opts.logger, metrics: opts.metrics.k8s, ...(opts.informerPolicy ? { policy: opts.informerPolicy } : {}) };
    this.services = opts.client.api.servicesInformer(deps);
    this.configMaps = opts.client.api.configMapInformer(deps, this.ns, this.cmName);
    this.queue = new WorkQueue({ name: 'controller', clock: opts.clock, logger: opts.logger, metrics: opts.metrics.k8s, handler: (key) => this.handle(key) });
    this.recorder = new EventRecorder({ api: opts.client.api, component: 'ingot-controller', host: opts.identity, logger: opts.logger });
    this.elector = new LeaderElector({
      api: opts.client.leaseApi ?? opts.client.api,
      namespace: this.ns,
      identity: opts.identity,
      ...(opts.leaseDurationMs !== undefined ? { leaseDurationMs: opts.leaseDurationMs } : {}),
      ...(opts.renewDeadlineMs !== undefined ? { renewDeadlineMs: opts.renewDeadlineMs } : {}),
      ...(opts.retryPeriodMs !== undefined ? { retryPeriodMs: opts.retryPeriodMs } : {}),
      clock: opts.clock,
      logger: opts.logger,
      metrics: opts.metrics.k8s,
      onStartedLeading: () => this.onLeadership(true),
      onStoppedLeading: (reason) => {
        this.log.warn('stoppedLeading', { reason });
        this.onLeadership(false);
      },
    });

    this.services.addHandlers({
      onAdd: (o) => this.onService(o),
      onUpdate: (_old, o) => this.onService(o),
      onDelete: (o) => this.onServiceDeleted(o),
    });
    const configChanged = (): void => this.queue.add(CONFIG_KEY);
    this.configMaps.addHandlers({ onAdd: configChanged, onUpdate: configChanged, onDelete: configChanged });
  }

  /**
   * Starts the informers; once both caches have synced, the config is read and the replica campaigns for the
   * Lease (a replica that could not yet have claimed every status address must not lead).
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.services.start();
    this.configMaps.start();
    void Promise.all([this.services.waitForSync(), this.configMaps.waitForSync()]).then(() => {
      if (this.stopping) return;
      this.log.info('cachesSynced', { services: this.services.size });
      this.queue.add(CONFIG_KEY);
      this.queue.add(SYNC_KEY);
      this.elector.start();
    });
  }

  /** SIGTERM: stop writing at once, release the Lease, stop the informers and the queue. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.term++;
    if (this.secretTimer !== undefined) this.opts.clock.clearTimeout(this.secretTimer);
    this.services.stop();
    this.configMaps.stop();
    await this.elector.stop();
    await this.queue.shutdown();
  }

  /** Caches synced and a config in force: the replica could lead at once (also true on a standby). */
  ready(): boolean {
    return this.services.hasSynced() && this.configMaps.hasSynced() && this.core.configState.loaded;
  }

  isLeader(): boolean {
    return this.elector.isLeader();
  }

  /** Resolves when the work queue has nothing queued or running (tests, the bench). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  status(): ControllerStatus {
    const ls = this.elector.status();
    const cfg = this.core.configState;
    const inf = (i: Informer<KubeObject> | Informer<ConfigMap>) => ({ synced: i.hasSynced(), objects: i.size, restarts: i.restarts, lastError: i.lastError });
    return {
      component: 'controller',
      identity: ls.identity,
      uptimeSeconds: Math.floor((this.opts.clock.now() - this.startedAt) / 1000),
      leader: { holder: ls.holder, isLeader: ls.leader, phase: ls.phase },
      config: { name: `${this.ns}/${this.cmName}`, loaded: cfg.loaded, stale: cfg.stale, error: cfg.error },
      synced: { services: this.services.hasSynced(), configMap: this.configMaps.hasSynced() },
      pools: this.core.usage().map((u) => ({
        pool: u.pool,
        family: u.family,
        inUse: u.inUse,
        capacity: typeof u.capacity === 'bigint' ? u.capacity.toString() : u.capacity,
      })),
      services: this.services.size,
      allocated: this.core.allocations().length,
      pending: this.core.pendingKeys().length,
      workQueue: { depth: this.queue.depth, backoff: this.queue.waiting, eventsWaiting: this.pendingEvents.length },
      informers: { services: inf(this.services), configmaps: inf(this.configMaps) },
      memberlistSecret: this.secretState,
    };
  }

  // --- informer callbacks (the informer catches and counts what they throw) --------------------------------

  /** The same converter as the cluster file's (src/plan/cluster.ts); null (logged) for a malformed object. */
  private convert(obj: KubeObject): ServiceObject | null {
    try {
      return serviceFromObject(obj, `Service ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? '?'}`);
    } catch (err) {
      // The API server validates Services, so this is a bug somewhere; the last good view of it stays.
      if (!(err instanceof ClusterError)) throw err;
      this.log.error('serviceUnreadable', { error: err.message });
      return null;
    }
  }

  private onService(obj: KubeObject): void {
    const svc = this.convert(obj);
    if (svc === null) return;
    this.core.observe(svc);
    this.queue.add(svc.key);
  }

  private onServiceDeleted(obj: KubeObject): void {
    const key = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
    this.core.forget(key);
    this.recorder.forget(obj);
    this.queue.add(key);
  }

  // --- roles -----------------------------------------------------------------------------------------------

  /** A fresh core from the caches: the last good config, every Service, nothing allocated yet. */
  private rebuildCore(): void {
    const good = this.core.goodConfigText;
    const core = new ControllerCore({ lbClass: this.lbClass });
    if (good !== null) core.setConfigText(good);
    for (const obj of this.services.list()) {
      const svc = this.convert(obj);
      if (svc !== null) core.observe(svc);
    }
    this.core = core;
  }

  private onLeadership(leading: boolean): void {
    if (this.stopping) return;
    this.term++;
    this.leading = leading;
    this.rebuildCore();
    if (leading) {
      this.log.info('startedLeading', { term: this.term });
      // The sync gate first (claims), then the latest ConfigMap, which is refused if it orphans a claim.
      this.queue.add(SYNC_KEY);
      this.queue.add(CONFIG_KEY);
      this.ensureSecret();
    } else {
      // A standby claims what the leader wrote, so it reports true pool usage and judges configs as the
      // leader does.
      this.queue.add(CONFIG_KEY);
      for (const k of this.core.allKeys()) this.queue.add(k);
    }
    this.updateMetrics();
  }

  /** The memberlist Secret for Layer 2 (created if missing; a failure is retried every retry period). */
  private ensureSecret(): void {
    const term = this.term;
    this.opts.client.api.ensureMemberlistSecret(this.ns, this.opts.randomBytes).then(
      ({ created }) => {
        this.secretState = created ? 'created' : 'present';
        if (created) this.log.info('memberlistSecretCreated', { secret: `${this.ns}/ingot-memberlist` });
      },
      (err: unknown) => {
        this.secretState = 'error';
        this.log.error('memberlistSecretFailed', { error: errText(err) });
        if (this.stopping || term !== this.term) return;
        this.secretTimer = this.opts.clock.setTimeout(() => {
          this.secretTimer = undefined;
          if (!this.stopping && term === this.term && this.leading) this.ensureSecret();
        }, this.opts.retryPeriodMs ?? 2000);
      },
    );
  }

  // --- the work queue ---------------------------------------------------------------------------------------

  private async handle(key: string): Promise<void> {
    if (this.stopping) return;
    try {
      if (key === SYNC_KEY) this.handleSync();
      else if (key === CONFIG_KEY) await this.handleConfig();
      else await this.handleService(key);
    } finally {
      this.updateMetrics();
    }
  }

  private updateMetrics(): void {
    const cfg = this.core.configState;
    this.opts.metrics.setConfigState(cfg.loaded, cfg.stale);
    this.opts.metrics.setPools(this.core.usage());
  }

  /** The sync gate: only a leader with a synced Service cache passes it. */
  private handleSync(): void {
    if (!this.leading || !this.services.hasSynced() || this.core.hasSynced) return;
    const keys = this.core.markSynced();
    this.log.info('stateSynced', { services: keys.length, claimed: this.core.allocations().length });
    // The latest ConfigMap is judged against the claims just made (see handleConfig).
    this.queue.add(CONFIG_KEY);
    for (const k of keys) this.queue.add(k);
  }

  private async handleConfig(): Promise<void> {
    if (!this.configMaps.hasSynced()) return;
    // A new leader with a good config waits for its claims: judged against an empty allocator, a config
    // that orphans a status address would be accepted. handleSync queues this key again.
    if (this.leading && !this.core.hasSynced && this.core.goodConfigText !== null) return;
    const cm = this.configMaps.get(`${this.ns}/${this.cmName}`);
    const text = cm === undefined ? null : (cm.data?.[CONFIG_DATA_KEY] ?? null);
    const before = this.core.goodConfigText;
    const r: ConfigOutcome = this.core.setConfigText(text);
    if (r.ok) {
      if (r.changed) {
        this.log.info('configLoaded', { configMap: `${this.ns}/${this.cmName}`, first: before === null });
        // Every Service is looked at again under the new config (MetalLB: all Services are re-queued).
        for (const k of this.core.allKeys()) this.queue.add(k);
      }
      return;
    }
    if (r.kind === 'missing') {
      this.log.error('configStale', { configMap: `${this.ns}/${this.cmName}`, error: cm === undefined ? 'configuration is missing, ingot will keep the last good config' : `ConfigMap has no data key "${CONFIG_DATA_KEY}"` });
      return;
    }
    this.log.error('configStale', { configMap: `${this.ns}/${this.cmName}`, kind: r.kind, error: r.message, op: 'config (re)load failed, config marked stale' });
    if (cm !== undefined && this.leading && this.elector.isLeader()) {
      this.postEvent(cm, 'Warning', CONFIG_STALE_REASON, `config (re)load failed, config marked stale: ${r.message}`, this.term);
    }
    // MetalLB: a config that parses but would orphan an address is retried with backoff; it applies once the
    // offending Services change or go away (a Service change also re-queues it at once).
    if (r.kind === 'orphans') throw new Requeue(r.message);
  }

  private async handleService(key: string): Promise<void> {
    const core = this.core;
    const term = this.term;
    const o: ServiceOutcome = core.process(key);
    if (o.log !== null) this.log.info(o.log.event, { service: key, ...o.log });
    if (o.freed) for (const k of core.pendingKeys()) this.queue.add(k);
    if (core.hasPendingConfig && (o.freed || o.writeStatus !== null || this.services.get(key) === undefined)) this.queue.add(CONFIG_KEY);
    if (!this.leading) return;
    const obj = this.services.get(key);
    if (obj === undefined) return;
    if (o.writeStatus !== null) {
      const written = await this.writeStatus(key, obj, o.writeStatus, term);
      if (!written) return;
    }
    if (o.event !== null && this.mayWrite(term)) this.postEvent(obj, o.event.type, o.event.reason, o.event.message, term);
  }

  /**
   * Events go out after the status writes: they wait until the work queue is idle and are posted one at a
   * time. Status is what clients act on; under a burst (10,000 Services at start) the writes finish in half
   * the time, and at most two requests of ours (a write, an Event) ever wait in the token bucket.
   */
  private postEvent(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, term: number): void {
    // Only what the Event's involvedObject needs: a whole Service held here would keep the cache's old
    // version alive until the Event goes out (10,000 of them after a burst).
    const m = obj.metadata ?? {};
    const ref: KubeObject = {
      kind: obj.kind ?? 'Service',
      apiVersion: obj.apiVersion ?? 'v1',
      metadata: { name: m.name ?? '', ...(m.namespace ? { namespace: m.namespace } : {}), ...(m.uid ? { uid: m.uid } : {}), ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}) },
    };
    this.pendingEvents.push({ obj: ref, type, reason, message, term });
    void this.drainEvents();
  }

  private async drainEvents(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.pendingEvents.length > 0 && !this.stopping) {
        if (this.queue.depth > 0 || this.queue.current !== undefined) {
          await this.queue.idle();
          continue;
        }
        const e = this.pendingEvents.shift()!;
        if (this.mayWrite(e.term)) await this.recorder.record(e.obj, e.type, e.reason, e.message);
      }
    } catch (err) {
      this.log.error('eventDrainError', { error: errText(err) });
    } finally {
      this.draining = false;
    }
  }

  private mayWrite(term: number): boolean {
    return !this.stopping && term === this.term && this.leading && this.elector.isLeader();
  }

  /** The status subresource, merge patch, guarded by the resourceVersion the decision was made on. */
  private async writeStatus(key: string, obj: KubeObject, ips: readonly string[], term: number): Promise<boolean> {
    if (!this.mayWrite(term)) return false;
    const { namespace, name } = splitKey(key);
    const rv = obj.metadata?.resourceVersion;
    let updated: KubeObject;
    try {
      // Leadership is checked again after the token bucket let the request go: the wait can be long.
      updated = await this.opts.client.api.patchServiceIngress(namespace, name, ips, rv, () => this.mayWrite(term));
    } catch (err) {
      // The retry decides again; let it post the event this attempt could not.
      if (term === this.term) this.core.forgetEvent(key);
      if (isNotFound(err)) return false; // deleted meanwhile: the watch brings the DELETED event
      if (!this.mayWrite(term)) return false; // not sent: no longer the leader
      // A 409 means the Service changed since the cache showed it: retry once the watch has caught up.
      if (isConflict(err)) throw new Requeue(`status of ${key}: ${errText(err)}`);
      throw err;
    }
    this.log.info('serviceUpdated', { service: key, ips });
    // Feed the written object to the core at once (the watch event follows), unless a newer one arrived.
    if (term === this.term && this.services.get(key)?.metadata?.resourceVersion === rv) {
      const svc = this.convert(updated);
      if (svc !== null) this.core.observe(svc);
    }
    return true;
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
