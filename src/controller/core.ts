// The controller's pure core: MetalLB's convergeBalancer (metallb-compat.md §2.2) over the shared allocator,
// without an API server. The Kubernetes adapter (controller.ts) feeds it the informer caches and carries out
// what it returns: a status to write, an event to post, a key to retry. Nothing here does I/O or keeps time.
//
// What it decides, and where ingot differs from MetalLB on purpose:
//   - The sync gate (§2.1): until the Service cache has synced, Services that hold status IPs re-claim them
//     and nobody gets a new address, so an address that belongs to a Service not yet seen is never handed
//     out twice. At sync, every claim is made first (in the plan's deterministic order), then the rest.
//   - Config refusal (§1.1, §2.7): a config that does not parse, or under which an allocated address would
//     fall outside every pool, is refused and the last good one stays; a refused-for-orphans config is tried
//     again whenever a Service changes or goes away (the offending Service may have moved).
//   - `--lb-class` (cli.md): a Service with a class other than ours (or any class, without the flag) is not
//     ours: it gets no address and consumes none, even when another implementation wrote a status IP, and
//     its status is never touched.
//   - Events only on change (MetalLB re-posts on every resync, issue #1682): the last event per Service is
//     remembered and an identical one is not returned again.
import { Allocator } from '../allocator/allocator.js';
import { allocationEvent, type AllocationEvent } from '../allocator/events.js';
import { poolsFromConfig } from '../allocator/from-config.js';
import type { AllocationResult, PoolUsage } from '../allocator/types.js';
import { parseConfig, type Config } from '../config/index.js';
import { processingOrder } from '../plan/plan.js';
import { isOurClass, type ServiceObject } from '../plan/cluster.js';

export { isOurClass };

const LOADBALANCER = 'LoadBalancer';

export interface ControllerCoreOptions {
  /** `--lb-class`: null handles only Services without a class. */
  readonly lbClass?: string | null;
}

/** What to do for one Service after processing it. */
export interface ServiceOutcome {
  readonly key: string;
  /** The status ingress IPs to write (one entry per IP, in order); null: leave the status as it is. */
  readonly writeStatus: readonly string[] | null;
  /** An event to post on the Service; null when nothing changed since the last one. */
  readonly event: AllocationEvent | null;
  /** Try this key again later: it needs a new address and the cache has not synced yet. */
  readonly retry: boolean;
  /** MetalLB's log event name for what happened (`ipAllocated`, `clearAssignment`, ...); null when nothing did. */
  readonly log: { readonly event: string; readonly reason?: string; readonly ips?: readonly string[]; readonly message?: string } | null;
  /** Addresses were freed: pending Services may now get one (the adapter re-queues them). */
  readonly freed: boolean;
}

export type ConfigOutcome =
  | { readonly ok: true; readonly changed: boolean }
  /** `kind` says why: the text does not parse, or it would orphan an allocated address, or it is missing. */
  | { readonly ok: false; readonly kind: 'invalid' | 'orphans' | 'missing'; readonly message: string };

export interface ConfigState {
  /** A config has been applied since start. */
  readonly loaded: boolean;
  /** The latest ConfigMap was refused; the last good config is still in force. */
  readonly stale: boolean;
  readonly error: string | null;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function eventKey(e: AllocationEvent): string {
  return `${e.type}\n${e.reason}\n${e.message}`;
}

export class ControllerCore {
  private readonly lbClass: string | null;
  private allocator = new Allocator();
  private config: Config | null = null;
  private configText: string | null = null;
  /** A parsed config refused because it would orphan addresses; retried when Services change. */
  private pending: { text: string; config: Config } | null = null;
  private state: ConfigState = { loaded: false, stale: false, error: null };
  private readonly services = new Map<string, ServiceObject>();
  private readonly lastEvent = new Map<string, string>();
  private synced = false;

  constructor(opts: ControllerCoreOptions = {}) {
    this.lbClass = opts.lbClass ?? null;
  }

  get configState(): ConfigState {
    return this.state;
  }

  get currentConfig(): Config | null {
    return this.config;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Addresses per pool and family, for the allocator metrics and /status. */
  usage(): PoolUsage[] {
    return this.allocator.usage();
  }

  allocations(): [string, { ips: readonly string[]; pool: string }][] {
    return this.allocator.allocations();
  }

  /**
   * The ConfigMap's `config` text (null: the ConfigMap or its key is missing). A text equal to the one in
   * force is a no-op. On refusal the last good config stays (MetalLB §1.1).
   */
  setConfigText(text: string | null): ConfigOutcome {
    if (text === null) {
      this.state = { loaded: this.state.loaded, stale: true, error: 'configuration is missing' };
      return { ok: false, kind: 'missing', message: 'configuration is missing, ingot will not allocate with a new config until it is back' };
    }
    if (text === this.configText && this.config !== null) {
      this.pending = null;
      this.state = { loaded: true, stale: false, error: null };
      return { ok: true, changed: false };
    }
    const parsed = parseConfig(text);
    if (!parsed.ok) {
      this.pending = null;
      this.state = { loaded: this.state.loaded, stale: true, error: parsed.error };
      return { ok: false, kind: 'invalid', message: parsed.error };
    }
    return this.apply(text, parsed.config);
  }

  private apply(text: string, config: Config): ConfigOutcome {
    const r = this.allocator.setPools(poolsFromConfig(config));
    if (!r.ok) {
      this.pending = { text, config };
      this.state = { loaded: this.state.loaded, stale: true, error: r.message };
      return { ok: false, kind: 'orphans', message: r.message };
    }
    this.pending = null;
    this.config = config;
    this.configText = text;
    this.state = { loaded: true, stale: false, error: null };
    // The first config after sync (or one that brings back a pool): status addresses are claimed before the
    // re-queued Services are processed, so none of them is handed to another Service first.
    if (this.synced) this.claimStatuses();
    return { ok: true, changed: true };
  }

  /** The text of the config in force (the last good one); null before any loaded. */
  get goodConfigText(): string | null {
    return this.configText;
  }

  /** A config refused for orphaned addresses is waiting to be tried again. */
  get hasPendingConfig(): boolean {
    return this.pending !== null;
  }

  /** Try a config that was refused for orphaned addresses once more (a Service changed or went away). */
  retryPendingConfig(): ConfigOutcome | null {
    if (this.pending === null) return null;
    return this.apply(this.pending.text, this.pending.config);
  }

  /** The informer saw this Service (added or changed). */
  observe(svc: ServiceObject): void {
    this.services.set(svc.key, svc);
  }

  /** The informer saw the Service deleted. Process the key afterwards to free its addresses. */
  forget(key: string): void {
    this.services.delete(key);
  }

  /**
   * The Service cache has synced: claim every status address first, in the plan's order (older Services
   * keep a contested address), and return every key in the order to process them.
   */
  markSynced(): string[] {
    this.synced = true;
    return this.claimStatuses().map((s) => s.key);
  }

  /** Claims every status address not held yet, in the plan's order; returns that order. */
  private claimStatuses(): ServiceObject[] {
    const order = processingOrder([...this.services.values()]);
    if (this.config === null) return order;
    for (const svc of order) {
      if (!this.ours(svc) || svc.type !== LOADBALANCER || (svc.statusIPs ?? []).length === 0) continue;
      if (this.allocator.allocationOf(svc.key) !== undefined) continue;
      this.allocator.claimStatus(svc);
    }
    return order;
  }

  /** Keys of Services (ours, LoadBalancer) that hold no address: what a freed address may serve. */
  pendingKeys(): string[] {
    const out: ServiceObject[] = [];
    for (const svc of this.services.values()) {
      if (svc.type === LOADBALANCER && this.ours(svc) && this.allocator.allocationOf(svc.key) === undefined) out.push(svc);
    }
    return processingOrder(out).map((s) => s.key);
  }

  /** Every known key, in processing order (after a config change every Service is looked at again). */
  allKeys(): string[] {
    return processingOrder([...this.services.values()]).map((s) => s.key);
  }

  private ours(svc: ServiceObject): boolean {
    return isOurClass(svc, this.lbClass);
  }

  /** convergeBalancer for one key. */
  process(key: string): ServiceOutcome {
    const svc = this.services.get(key);
    if (svc === undefined) {
      this.lastEvent.delete(key);
      const freed = this.allocator.release(key);
      return this.outcome(key, { writeStatus: null, freed, log: freed ? { event: 'serviceDeleted' } : null });
    }
    if (!this.ours(svc)) {
      // Not ours: free anything we held (its class changed), never touch its status.
      const freed = this.allocator.release(key);
      return this.outcome(key, { freed, log: freed ? { event: 'clearAssignment', reason: 'loadBalancerClass' } : null });
    }
    if (this.config === null) return this.outcome(key, {});
    const status = svc.statusIPs ?? [];
    if (svc.type !== LOADBALANCER) {
      const freed = this.allocator.release(key);
      this.lastEvent.delete(key);
      if (status.length === 0) return this.outcome(key, { freed });
      return this.outcome(key, { writeStatus: [], freed, log: { event: 'clearAssignment', reason: 'notLoadBalancer' } });
    }
    let cleared = false;
    let freed = false;
    if (status.length > 0) {
      const claim = this.allocator.claimStatus(svc);
      if (claim.ok) {
        const event = claim.warning !== undefined ? this.event(key, claim) : null;
        return this.outcome(key, { writeStatus: sameList(claim.ips, status) ? null : claim.ips, event });
      }
      // MetalLB: "current IP not allowed by config, clearing".
      freed = this.allocator.release(key);
      cleared = true;
    }
    // A Service whose status shows nothing while we hold addresses for it (a write that failed, or not seen
    // back yet) gets the same addresses again: allocate() re-asserts a holding that still fits.
    if (!this.synced) {
      return this.outcome(key, { writeStatus: cleared ? [] : null, retry: true, freed, log: cleared ? { event: 'clearAssignment', reason: 'notAllowed' } : null });
    }
    const r: AllocationResult = this.allocator.allocate(svc);
    if (r.ok) {
      return this.outcome(key, {
        writeStatus: sameList(r.ips, status) ? null : r.ips,
        event: this.event(key, r),
        freed,
        log: { event: 'ipAllocated', ips: r.ips },
      });
    }
    return this.outcome(key, {
      writeStatus: status.length > 0 ? [] : null,
      event: this.event(key, r),
      freed,
      log: { event: 'clearAssignment', reason: r.reason, message: r.message },
    });
  }

  /** The event decided for this key was not posted (its status write failed): the next decision posts it. */
  forgetEvent(key: string): void {
    this.lastEvent.delete(key);
  }

  private event(key: string, r: AllocationResult): AllocationEvent | null {
    const e = allocationEvent(key, r);
    const k = eventKey(e);
    if (this.lastEvent.get(key) === k) return null;
    this.lastEvent.set(key, k);
    return e;
  }

  private outcome(key: string, o: Partial<Omit<ServiceOutcome, 'key'>>): ServiceOutcome {
    return { key, writeStatus: o.writeStatus ?? null, event: o.event ?? null, retry: o.retry ?? false, log: o.log ?? null, freed: o.freed ?? false };
  }
}
