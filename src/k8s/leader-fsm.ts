// Leader election on a coordination.k8s.io/v1 Lease as a pure state machine: step(state, event) → {state,
// actions}. No I/O and no timers here; the driver (leader.ts) performs the actions (read/create/update the
// Lease, arm timers, call the callbacks) and feeds results back as events. The algorithm is client-go's
// leaderelection package (tools/leaderelection/leaderelection.go), re-derived:
//
// - Expiry is judged on the LOCAL clock: a record is expired when it has not changed for its
//   leaseDurationSeconds since *we* observed it change (observedAt), never by comparing the record's renewTime
//   with our wall clock, so clock skew between nodes cannot cause two leaders.
// - Acquire and renew are compare-and-swap updates carrying the observed resourceVersion; a 409 means someone
//   else wrote first, and we read again after retryPeriod.
// - Safety: a leader stays leader only until (start of its last successful renew attempt) + renewDeadline. Any
//   other replica observed that renewal no earlier than the attempt started, so it waits at least
//   leaseDuration from then; with renewDeadline < leaseDuration the old leader has stopped (and told its
//   onStoppedLeading callback) leaseDuration − renewDeadline before anyone else can acquire. The deadline is a
//   timer, and isLeader(state, now) also checks the clock, so a late timer cannot stretch it.
// - A renew that succeeds after the deadline passed does not restore leadership by itself; the next attempt
//   (which finds our own identity in the record) does.
// - stop() on a leader releases the Lease (holderIdentity "", leaseDurationSeconds 1, as client-go's
//   ReleaseOnCancel) so a standby takes over within a retry period instead of a lease duration; the release
//   carries our resourceVersion, so it cannot clobber a newer holder.

export interface LeaderConfig {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

/** cli.md: `--lease-duration` 15s, `--renew-deadline` 10s, `--retry-period` 2s. */
export const DEFAULT_LEADER_TIMING = Object.freeze({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });

export function validateLeaderConfig(c: LeaderConfig): void {
  if (c.identity === '') throw new RangeError('--identity: must not be empty');
  if (!(c.retryPeriodMs > 0)) throw new RangeError(`--retry-period: want > 0, got ${c.retryPeriodMs} ms`);
  if (!(c.renewDeadlineMs > c.retryPeriodMs)) throw new RangeError(`--renew-deadline (${c.renewDeadlineMs} ms) must be greater than --retry-period (${c.retryPeriodMs} ms)`);
  if (!(c.leaseDurationMs > c.renewDeadlineMs)) throw new RangeError(`--lease-duration (${c.leaseDurationMs} ms) must be greater than --renew-deadline (${c.renewDeadlineMs} ms)`);
}

/** The Lease as the machine sees it. */
export interface ObservedLease {
  /** '' when nobody holds it (released). */
  readonly holder: string;
  readonly leaseDurationMs: number;
  readonly transitions: number;
  /** MicroTime string, kept unchanged on renewals. */
  readonly acquireTime: string | null;
  readonly resourceVersion: string;
}

/** What to write. renewTime is always "now" (the driver's wall clock); acquireTime null means now too. */
export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: string | null;
  readonly leaseTransitions: number;
}

export type Phase = 'idle' | 'candidate' | 'leader' | 'stopping' | 'stopped';
export type TimerName = 'retry' | 'deadline';
export type StopReason = 'renewDeadline' | 'lostLease' | 'shutdown';

export interface ElectionState {
  readonly phase: Phase;
  /** The Lease request in flight; the machine never issues two at once. */
  readonly op: 'none' | 'read' | 'write' | 'release';
  /** When the current attempt (read, then write) started. */
  readonly attemptStartedAt: number | null;
  readonly observed: ObservedLease | null;
  /** Local time the observed record last changed. */
  readonly observedAt: number | null;
  /** Leader: leadership ends at this local time unless renewed. */
  readonly leaderUntil: number | null;
}

export const INITIAL_ELECTION: ElectionState = Object.freeze({
  phase: 'idle',
  op: 'none',
  attemptStartedAt: null,
  observed: null,
  observedAt: null,
  leaderUntil: null,
});

export type ElectionEvent =
  | { readonly type: 'start'; readonly now: number }
  | { readonly type: 'stop'; readonly now: number }
  | { readonly type: 'retryTimer'; readonly now: number }
  | { readonly type: 'deadlineTimer'; readonly now: number }
  /** GET result; lease null = 404. */
  | { readonly type: 'readOk'; readonly now: number; readonly lease: ObservedLease | null }
  | { readonly type: 'readFailed'; readonly now: number; readonly error: string }
  | { readonly type: 'writeOk'; readonly now: number; readonly lease: ObservedLease }
  | { readonly type: 'writeFailed'; readonly now: number; readonly error: string; readonly conflict: boolean }
  /** The release write finished (either way). */
  | { readonly type: 'releaseDone'; readonly now: number };

export type ElectionAction =
  | { readonly type: 'read' }
  | { readonly type: 'create'; readonly record: LeaseRecord }
  | { readonly type: 'update'; readonly record: LeaseRecord; readonly resourceVersion: string }
  | { readonly type: 'release'; readonly record: LeaseRecord; readonly resourceVersion: string }
  | { readonly type: 'setTimer'; readonly timer: TimerName; readonly ms: number }
  | { readonly type: 'cancelTimer'; readonly timer: TimerName }
  | { readonly type: 'startedLeading' }
  | { readonly type: 'stoppedLeading'; readonly reason: StopReason }
  /** The observed holder changed ('' = nobody). */
  | { readonly type: 'newLeader'; readonly identity: string }
  | { readonly type: 'stopped' };

export interface StepResult {
  readonly state: ElectionState;
  readonly actions: readonly ElectionAction[];
}

/** Leader now: the phase says so and the deadline has not passed (a late deadline timer changes nothing). */
export function isLeader(s: ElectionState, now: number): boolean {
  return s.phase === 'leader' && s.leaderUntil !== null && now < s.leaderUntil;
}

export function step(cfg: LeaderConfig, s: ElectionState, ev: ElectionEvent): StepResult {
  switch (ev.type) {
    case 'start':
      if (s.phase !== 'idle') return { state: s, actions: [] };
      return { state: { ...s, phase: 'candidate', op: 'read', attemptStartedAt: ev.now }, actions: [{ type: 'read' }] };

    case 'stop': {
      if (s.phase === 'idle' || s.phase === 'stopped') return { state: { ...s, phase: 'stopped' }, actions: s.phase === 'stopped' ? [] : [{ type: 'stopped' }] };
      if (s.phase === 'stopping') return { state: s, actions: [] };
      const actions: ElectionAction[] = [
        { type: 'cancelTimer', timer: 'retry' },
        { type: 'cancelTimer', timer: 'deadline' },
      ];
      const wasLeader = s.phase === 'leader';
      if (wasLeader) actions.push({ type: 'stoppedLeading', reason: 'shutdown' });
      const base: ElectionState = { ...s, leaderUntil: null };
      // A request in flight may be acquiring the Lease for us: wait for it, then release if it did.
      if (s.op !== 'none') return { state: { ...base, phase: 'stopping' }, actions };
      if (s.observed !== null && s.observed.holder === cfg.identity) {
        actions.push(releaseAction(s.observed));
        return { state: { ...base, phase: 'stopping', op: 'release' }, actions };
      }
      actions.push({ type: 'stopped' });
      return { state: { ...base, phase: 'stopped' }, actions };
    }

    case 'retryTimer':
      if ((s.phase !== 'candidate' && s.phase !== 'leader') || s.op !== 'none') return { state: s, actions: [] };
      return { state: { ...s, op: 'read', attemptStartedAt: ev.now }, actions: [{ type: 'read' }] };

    case 'deadlineTimer':
      if (s.phase !== 'leader' || s.leaderUntil === null || ev.now < s.leaderUntil) return { state: s, actions: [] };
      return { state: { ...s, phase: 'candidate', leaderUntil: null }, actions: [{ type: 'stoppedLeading', reason: 'renewDeadline' }] };

    case 'readOk': {
      if (s.op !== 'read') return { state: s, actions: [] };
      const actions: ElectionAction[] = [];
      const o = observe(s, ev.lease, ev.now, actions);
      if (s.phase === 'stopping') return finishStopping(cfg, { ...o, op: 'none' }, actions);
      const lease = ev.lease;
      if (lease === null) {
        actions.push({ type: 'create', record: { holderIdentity: cfg.identity, leaseDurationSeconds: seconds(cfg.leaseDurationMs), acquireTime: null, leaseTransitions: 0 } });
        return { state: { ...o, op: 'write' }, actions };
      }
      const heldByOther = lease.holder !== '' && lease.holder !== cfg.identity;
      const expiresAt = (o.observedAt ?? ev.now) + lease.leaseDurationMs;
      if (heldByOther && ev.now < expiresAt) {
        let next: ElectionState = { ...o, op: 'none' };
        if (s.phase === 'leader') {
          // Someone else holds a valid Lease: whatever we believed, stop now.
          next = { ...next, phase: 'candidate', leaderUntil: null };
          actions.push({ type: 'cancelTimer', timer: 'deadline' }, { type: 'stoppedLeading', reason: 'lostLease' });
        }
        // Poll every retryPeriod, but try right when the observed record would expire.
        actions.push({ type: 'setTimer', timer: 'retry', ms: Math.max(1, Math.min(cfg.retryPeriodMs, expiresAt - ev.now)) });
        return { state: next, actions };
      }
      const mine = lease.holder === cfg.identity;
      actions.push({
        type: 'update',
        resourceVersion: lease.resourceVersion,
        record: {
          holderIdentity: cfg.identity,
          leaseDurationSeconds: seconds(cfg.leaseDurationMs),
          acquireTime: mine ? lease.acquireTime : null,
          leaseTransitions: mine ? lease.transitions : lease.transitions + 1,
        },
      });
      return { state: { ...o, op: 'write' }, actions };
    }

    case 'writeOk': {
      if (s.op !== 'write') return { state: s, actions: [] };
      const actions: ElectionAction[] = [];
      const o = observe(s, ev.lease, ev.now, actions);
      if (s.phase === 'stopping') return finishStopping(cfg, { ...o, op: 'none' }, actions);
      const until = (s.attemptStartedAt ?? ev.now) + cfg.renewDeadlineMs;
      actions.push({ type: 'setTimer', timer: 'retry', ms: cfg.retryPeriodMs });
      if (ev.now >= until) {
        // The write landed, but too late to count: our deadline for it has passed. Retry normally.
        return { state: { ...o, op: 'none' }, actions };
      }
      const next: ElectionState = { ...o, op: 'none', phase: 'leader', leaderUntil: until };
      if (s.phase !== 'leader') actions.unshift({ type: 'startedLeading' });
      actions.push({ type: 'setTimer', timer: 'deadline', ms: until - ev.now });
      return { state: next, actions };
    }

    case 'readFailed':
    case 'writeFailed': {
      if (s.op !== 'read' && s.op !== 'write') return { state: s, actions: [] };
      if (s.phase === 'stopping') return finishStopping(cfg, { ...s, op: 'none' }, []);
      // A leader keeps its role until the deadline timer says otherwise (renewals are retried meanwhile).
      return { state: { ...s, op: 'none' }, actions: [{ type: 'setTimer', timer: 'retry', ms: cfg.retryPeriodMs }] };
    }

    case 'releaseDone':
      if (s.op !== 'release') return { state: s, actions: [] };
      return { state: { ...s, op: 'none', phase: 'stopped' }, actions: [{ type: 'stopped' }] };
  }
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

function releaseAction(observed: ObservedLease): ElectionAction {
  return {
    type: 'release',
    resourceVersion: observed.resourceVersion,
    record: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: null, leaseTransitions: observed.transitions },
  };
}

/** Records a read/written Lease; observedAt moves only when the record changed (new resourceVersion). */
function observe(s: ElectionState, lease: ObservedLease | null, now: number, actions: ElectionAction[]): ElectionState {
  const prevHolder = s.observed?.holder ?? '';
  const holder = lease?.holder ?? '';
  if (holder !== prevHolder || (s.observed === null && lease !== null)) actions.push({ type: 'newLeader', identity: holder });
  if (lease === null) return { ...s, observed: null, observedAt: null };
  if (s.observed !== null && s.observed.resourceVersion === lease.resourceVersion) return { ...s, observed: lease };
  return { ...s, observed: lease, observedAt: now };
}

/** After the last request of a stopping elector: release the Lease if it is ours, else we are done. */
function finishStopping(cfg: LeaderConfig, s: ElectionState, actions: ElectionAction[]): StepResult {
  if (s.observed !== null && s.observed.holder === cfg.identity) {
    return { state: { ...s, op: 'release' }, actions: [...actions, releaseAction(s.observed)] };
  }
  return { state: { ...s, phase: 'stopped' }, actions: [...actions, { type: 'stopped' }] };
}
