// The driver of leader-fsm.ts: performs its actions against the Lease (through KubeApi, so the token bucket
// applies), arms its timers on the injected Clock, and calls the callbacks. All decisions are in the pure
// machine; this file only does I/O and translation.
import type { Logger } from '../log.js';
import {
  DEFAULT_LEADER_TIMING,
  INITIAL_ELECTION,
  isLeader,
  step,
  validateLeaderConfig,
  type ElectionAction,
  type ElectionEvent,
  type ElectionState,
  type LeaderConfig,
  type LeaseRecord,
  type ObservedLease,
  type StopReason,
  type TimerName,
} from './leader-fsm.js';
import type { K8sMetrics } from './metrics.js';
import type { Clock, TimerHandle } from './primitives.js';
import { isConflict } from './rest.js';
import { LEADER_LEASE, type KubeApi } from './resources.js';
import { microTime, type Lease, type LeaseSpec } from './types.js';

export interface LeaderElectorOptions {
  api: Pick<KubeApi, 'getLease' | 'createLease' | 'updateLease'>;
  namespace: string;
  /** Default `ingot-controller` (cli.md). */
  leaseName?: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock: Clock;
  /** Wall clock for the Lease's MicroTime fields (never used for expiry decisions). */
  wallNow?: () => number;
  logger: Logger;
  metrics: K8sMetrics;
  /** Called synchronously when this replica becomes leader. */
  onStartedLeading?: () => void;
  /** Called synchronously, at once, when this replica stops being leader (deadline, lost Lease, shutdown). */
  onStoppedLeading?: (reason: StopReason) => void;
  /** The observed holder changed ('' = nobody). */
  onNewLeader?: (identity: string) => void;
}

export interface LeaderStatus {
  identity: string;
  leader: boolean;
  /** The holder last seen in the Lease ('' = nobody, null = not read yet). */
  holder: string | null;
  phase: ElectionState['phase'];
}

export class LeaderElector {
  private state: ElectionState = INITIAL_ELECTION;
  private readonly cfg: LeaderConfig;
  private readonly name: string;
  private readonly timers = new Map<TimerName, TimerHandle>();
  private readonly wallNow: () => number;
  private readonly log: Logger;
  private stoppedWaiters: Array<() => void> = [];

  constructor(private readonly opts: LeaderElectorOptions) {
    this.cfg = {
      identity: opts.identity,
      leaseDurationMs: opts.leaseDurationMs ?? DEFAULT_LEADER_TIMING.leaseDurationMs,
      renewDeadlineMs: opts.renewDeadlineMs ?? DEFAULT_LEADER_TIMING.renewDeadlineMs,
      retryPeriodMs: opts.retryPeriodMs ?? DEFAULT_LEADER_TIMING.retryPeriodMs,
    };
    validateLeaderConfig(this.cfg);
    this.name = opts.leaseName ?? LEADER_LEASE;
    this.wallNow = opts.wallNow ?? Date.now;
    this.log = opts.logger.with({ lease: `${opts.namespace}/${this.name}`, identity: opts.identity });
    opts.metrics.setLeader(false);
  }

  start(): void {
    this.dispatch({ type: 'start', now: this.opts.clock.now() });
  }

  /** Stops campaigning; a leader stops leading at once and releases the Lease. Resolves when done. */
  stop(): Promise<void> {
    if (this.state.phase === 'stopped') return Promise.resolve();
    const done = new Promise<void>((resolve) => this.stoppedWaiters.push(resolve));
    this.dispatch({ type: 'stop', now: this.opts.clock.now() });
    return done;
  }

  /** True only while the Lease is ours and the renew deadline has not passed: check before every write. */
  isLeader(): boolean {
    return isLeader(this.state, this.opts.clock.now());
  }

  status(): LeaderStatus {
    return { identity: this.cfg.identity, leader: this.isLeader(), holder: this.state.observed?.holder ?? null, phase: this.state.phase };
  }

  private dispatch(ev: ElectionEvent): void {
    const { state, actions } = step(this.cfg, this.state, ev);
    this.state = state;
    for (const a of actions) this.perform(a);
  }

  private perform(a: ElectionAction): void {
    const { clock, namespace } = this.opts;
    switch (a.type) {
      case 'read':
        this.opts.api.getLease(namespace, this.name).then(
          (lease) => this.dispatch({ type: 'readOk', now: clock.now(), lease: lease === null ? null : observedOf(lease) }),
          (err: unknown) => {
            this.log.warn('leaseReadFailed', { error: message(err) });
            this.dispatch({ type: 'readFailed', now: clock.now(), error: message(err) });
          },
        );
        return;
      case 'create':
      case 'update': {
        const spec = this.spec(a.record);
        const p = a.type === 'create' ? this.opts.api.createLease(namespace, this.name, spec) : this.opts.api.updateLease(namespace, this.name, a.resourceVersion, spec);
        p.then(
          (lease) => this.dispatch({ type: 'writeOk', now: clock.now(), lease: observedOf(lease) }),
          (err: unknown) => {
            // A conflict (or AlreadyExists) is the normal loss of a race; anything else is worth a warning.
            if (isConflict(err) || (err as { code?: number }).code === 409) this.log.debug('leaseWriteConflict', { error: message(err) });
            else this.log.warn('leaseWriteFailed', { error: message(err) });
            this.dispatch({ type: 'writeFailed', now: clock.now(), error: message(err), conflict: (err as { code?: number }).code === 409 });
          },
        );
        return;
      }
      case 'release':
        this.opts.api.updateLease(namespace, this.name, a.resourceVersion, this.spec(a.record)).then(
          () => {
            this.log.info('leaseReleased');
            this.dispatch({ type: 'releaseDone', now: clock.now() });
          },
          (err: unknown) => {
            this.log.warn('leaseReleaseFailed', { error: message(err) });
            this.dispatch({ type: 'releaseDone', now: clock.now() });
          },
        );
        return;
      case 'setTimer': {
        this.cancel(a.timer);
        const ev = a.timer === 'retry' ? ('retryTimer' as const) : ('deadlineTimer' as const);
        this.timers.set(
          a.timer,
          clock.setTimeout(() => {
            this.timers.delete(a.timer);
            this.dispatch({ type: ev, now: clock.now() });
          }, a.ms),
        );
        return;
      }
      case 'cancelTimer':
        this.cancel(a.timer);
        return;
      case 'startedLeading':
        this.log.info('leaderElected');
        this.opts.metrics.setLeader(true);
        this.guard('onStartedLeading', () => this.opts.onStartedLeading?.());
        return;
      case 'stoppedLeading':
        this.log.warn('leaderLost', { reason: a.reason });
        this.opts.metrics.setLeader(false);
        this.guard('onStoppedLeading', () => this.opts.onStoppedLeading?.(a.reason));
        return;
      case 'newLeader':
        this.log.info('leaderObserved', { holder: a.identity });
        this.guard('onNewLeader', () => this.opts.onNewLeader?.(a.identity));
        return;
      case 'stopped': {
        for (const t of this.timers.keys()) this.cancel(t);
        const w = this.stoppedWaiters;
        this.stoppedWaiters = [];
        for (const f of w) f();
        return;
      }
    }
  }

  private spec(r: LeaseRecord): LeaseSpec {
    const now = microTime(this.wallNow());
    return {
      holderIdentity: r.holderIdentity,
      leaseDurationSeconds: r.leaseDurationSeconds,
      acquireTime: r.acquireTime ?? now,
      renewTime: now,
      leaseTransitions: r.leaseTransitions,
    };
  }

  private cancel(t: TimerName): void {
    const h = this.timers.get(t);
    if (h !== undefined) this.opts.clock.clearTimeout(h);
    this.timers.delete(t);
  }

  /** A callback's exception is logged; the election goes on. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error('leaderCallbackError', { callback: what, error: message(err) });
    }
  }
}

/** The machine's view of a Lease; a missing duration reads as 0 (expired as soon as seen, as in client-go). */
export function observedOf(lease: Lease): ObservedLease {
  const spec = lease.spec ?? {};
  return {
    holder: spec.holderIdentity ?? '',
    leaseDurationMs: (spec.leaseDurationSeconds ?? 0) * 1000,
    transitions: spec.leaseTransitions ?? 0,
    acquireTime: spec.acquireTime ?? null,
    resourceVersion: lease.metadata.resourceVersion ?? '',
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
