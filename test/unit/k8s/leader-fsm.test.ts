// The Lease election machine: every phase × event that matters, as a table (expected outcomes from client-go's
// leaderelection semantics), then the safety property simulated on a fake clock: with a partitioned leader, at
// no millisecond do two replicas consider themselves leader.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../helpers/fake-clock.js';
import type { TimerHandle } from '../../../src/k8s/primitives.js';
import {
  INITIAL_ELECTION,
  isLeader,
  step,
  validateLeaderConfig,
  type ElectionAction,
  type ElectionEvent,
  type ElectionState,
  type LeaderConfig,
  type ObservedLease,
} from '../../../src/k8s/leader-fsm.js';

const CFG: LeaderConfig = { identity: 'me', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
const T = 100_000;

const lease = (holder: string, rv: string, over: Partial<ObservedLease> = {}): ObservedLease => ({
  holder,
  leaseDurationMs: 15_000,
  transitions: 3,
  acquireTime: '2026-12-07T10:00:00.000000Z',
  resourceVersion: rv,
  ...over,
});

const st = (over: Partial<ElectionState>): ElectionState => ({ ...INITIAL_ELECTION, ...over });
const candidateReading = st({ phase: 'candidate', op: 'read', attemptStartedAt: T });
const candidateWriting = st({ phase: 'candidate', op: 'write', attemptStartedAt: T, observed: lease('', '7'), observedAt: T });
const leaderIdle = st({ phase: 'leader', op: 'none', attemptStartedAt: T - 2_000, observed: lease('me', '9'), observedAt: T - 1_900, leaderUntil: T + 8_000 });
const leaderReading = { ...leaderIdle, op: 'read' as const, attemptStartedAt: T };
const leaderWriting = { ...leaderIdle, op: 'write' as const, attemptStartedAt: T };

/** Action summary: type plus the interesting field. */
function brief(a: ElectionAction): string {
  switch (a.type) {
    case 'create':
      return `create ${a.record.holderIdentity} t${a.record.leaseTransitions} acq=${a.record.acquireTime ?? 'now'}`;
    case 'update':
      return `update@${a.resourceVersion} ${a.record.holderIdentity} t${a.record.leaseTransitions} acq=${a.record.acquireTime ?? 'now'}`;
    case 'release':
      return `release@${a.resourceVersion} '${a.record.holderIdentity}' ${a.record.leaseDurationSeconds}s`;
    case 'setTimer':
      return `set ${a.timer} ${a.ms}`;
    case 'cancelTimer':
      return `cancel ${a.timer}`;
    case 'stoppedLeading':
      return `stoppedLeading ${a.reason}`;
    case 'newLeader':
      return `newLeader '${a.identity}'`;
    default:
      return a.type;
  }
}

interface Row {
  name: string;
  from: ElectionState;
  ev: ElectionEvent;
  phase: ElectionState['phase'];
  actions: string[];
}

const ROWS: Row[] = [
  { name: 'start campaigns: read the Lease', from: INITIAL_ELECTION, ev: { type: 'start', now: T }, phase: 'candidate', actions: ['read'] },
  { name: 'no Lease: create it with us as holder', from: candidateReading, ev: { type: 'readOk', now: T, lease: null }, phase: 'candidate', actions: ['create me t0 acq=now'] },
  {
    name: 'held by another, just observed: wait a retry period',
    from: candidateReading,
    ev: { type: 'readOk', now: T, lease: lease('other', '5') },
    phase: 'candidate',
    actions: ["newLeader 'other'", 'set retry 2000'],
  },
  {
    name: 'held by another, unchanged for 14 s: retry right at expiry (1 s)',
    from: { ...candidateReading, observed: lease('other', '5'), observedAt: T - 14_000 },
    ev: { type: 'readOk', now: T, lease: lease('other', '5') },
    phase: 'candidate',
    actions: ['set retry 1000'],
  },
  {
    name: 'held by another, unchanged for a lease duration: take over (transitions + 1, new acquireTime)',
    from: { ...candidateReading, observed: lease('other', '5'), observedAt: T - 15_000 },
    ev: { type: 'readOk', now: T, lease: lease('other', '5') },
    phase: 'candidate',
    actions: ['update@5 me t4 acq=now'],
  },
  {
    name: 'held by another and renewed (new RV) since: the expiry clock restarts',
    from: { ...candidateReading, observed: lease('other', '5'), observedAt: T - 15_000 },
    ev: { type: 'readOk', now: T, lease: lease('other', '6') },
    phase: 'candidate',
    actions: ['set retry 2000'],
  },
  {
    name: 'released (holder empty): take it at once',
    from: candidateReading,
    ev: { type: 'readOk', now: T, lease: lease('', '5') },
    phase: 'candidate',
    actions: ["newLeader ''", 'update@5 me t4 acq=now'],
  },
  {
    name: 'our own identity (restart, or a lost renewal): renew keeping acquireTime and transitions',
    from: candidateReading,
    ev: { type: 'readOk', now: T, lease: lease('me', '5') },
    phase: 'candidate',
    actions: ["newLeader 'me'", 'update@5 me t3 acq=2026-12-07T10:00:00.000000Z'],
  },
  {
    name: 'write succeeded: lead until attempt start + renewDeadline',
    from: candidateWriting,
    ev: { type: 'writeOk', now: T + 300, lease: lease('me', '8') },
    phase: 'leader',
    actions: ['startedLeading', "newLeader 'me'", 'set retry 2000', 'set deadline 9700'],
  },
  {
    name: 'write succeeded after the deadline for it: do not lead on it',
    from: candidateWriting,
    ev: { type: 'writeOk', now: T + 10_000, lease: lease('me', '8') },
    phase: 'candidate',
    actions: ["newLeader 'me'", 'set retry 2000'],
  },
  { name: 'write conflict (409): retry after a period', from: candidateWriting, ev: { type: 'writeFailed', now: T, error: '409', conflict: true }, phase: 'candidate', actions: ['set retry 2000'] },
  { name: 'read failed: retry after a period', from: candidateReading, ev: { type: 'readFailed', now: T, error: 'ECONNREFUSED' }, phase: 'candidate', actions: ['set retry 2000'] },
  { name: 'retry timer with a request in flight: ignored', from: candidateReading, ev: { type: 'retryTimer', now: T }, phase: 'candidate', actions: [] },
  { name: 'leader: retry timer starts a renewal', from: leaderIdle, ev: { type: 'retryTimer', now: T }, phase: 'leader', actions: ['read'] },
  { name: 'leader: renewal succeeded extends the deadline (no new startedLeading)', from: leaderWriting, ev: { type: 'writeOk', now: T + 200, lease: lease('me', '10') }, phase: 'leader', actions: ['set retry 2000', 'set deadline 9800'] },
  { name: 'leader: renewal failed: keep leading until the deadline, retry', from: leaderWriting, ev: { type: 'writeFailed', now: T, error: '500', conflict: false }, phase: 'leader', actions: ['set retry 2000'] },
  {
    name: 'leader: someone else holds a valid Lease: stop leading at once',
    from: leaderReading,
    ev: { type: 'readOk', now: T, lease: lease('other', '11') },
    phase: 'candidate',
    actions: ["newLeader 'other'", 'cancel deadline', 'stoppedLeading lostLease', 'set retry 2000'],
  },
  { name: 'leader: renew deadline passes: stop leading at once', from: leaderIdle, ev: { type: 'deadlineTimer', now: T + 8_000 }, phase: 'candidate', actions: ['stoppedLeading renewDeadline'] },
  { name: 'leader: an early deadline timer changes nothing', from: leaderIdle, ev: { type: 'deadlineTimer', now: T + 7_999 }, phase: 'leader', actions: [] },
  {
    name: 'leader stop: stop leading, release the Lease (holder empty, 1 s)',
    from: leaderIdle,
    ev: { type: 'stop', now: T },
    phase: 'stopping',
    actions: ['cancel retry', 'cancel deadline', 'stoppedLeading shutdown', "release@9 '' 1s"],
  },
  { name: 'leader stop mid-request: stop leading now, release after the request', from: leaderReading, ev: { type: 'stop', now: T }, phase: 'stopping', actions: ['cancel retry', 'cancel deadline', 'stoppedLeading shutdown'] },
  { name: 'stopping: the read shows us as holder: release', from: { ...leaderReading, phase: 'stopping', leaderUntil: null }, ev: { type: 'readOk', now: T, lease: lease('me', '12') }, phase: 'stopping', actions: ["release@12 '' 1s"] },
  { name: 'stopping: an acquisition that landed is released', from: { ...candidateWriting, phase: 'stopping' }, ev: { type: 'writeOk', now: T, lease: lease('me', '8') }, phase: 'stopping', actions: ["newLeader 'me'", "release@8 '' 1s"] },
  { name: 'stopping: a failed request: done', from: { ...candidateWriting, phase: 'stopping' }, ev: { type: 'writeFailed', now: T, error: 'x', conflict: false }, phase: 'stopped', actions: ['stopped'] },
  { name: 'stopping: release finished: stopped', from: { ...leaderIdle, phase: 'stopping', op: 'release', leaderUntil: null }, ev: { type: 'releaseDone', now: T }, phase: 'stopped', actions: ['stopped'] },
  { name: 'candidate stop (not holder): stopped at once', from: st({ phase: 'candidate', observed: lease('other', '3'), observedAt: T }), ev: { type: 'stop', now: T }, phase: 'stopped', actions: ['cancel retry', 'cancel deadline', 'stopped'] },
  { name: 'idle stop: stopped', from: INITIAL_ELECTION, ev: { type: 'stop', now: T }, phase: 'stopped', actions: ['stopped'] },
];

describe('leader election state machine (table)', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const r = step(CFG, row.from, row.ev);
      assert.equal(r.state.phase, row.phase);
      assert.deepEqual(r.actions.map(brief), row.actions);
    });
  }

  it('isLeader needs the phase AND an unexpired deadline', () => {
    assert.equal(isLeader(leaderIdle, T + 7_999), true);
    assert.equal(isLeader(leaderIdle, T + 8_000), false, 'a late deadline timer does not stretch leadership');
    assert.equal(isLeader(candidateReading, T), false);
  });

  it('refuses timings where a replica could lead past its lease', () => {
    assert.doesNotThrow(() => validateLeaderConfig(CFG));
    assert.throws(() => validateLeaderConfig({ ...CFG, renewDeadlineMs: 15_000 }), /--lease-duration \(15000 ms\) must be greater than --renew-deadline \(15000 ms\)/);
    assert.throws(() => validateLeaderConfig({ ...CFG, retryPeriodMs: 10_000 }), /--renew-deadline .* must be greater than --retry-period/);
    assert.throws(() => validateLeaderConfig({ ...CFG, identity: '' }), /--identity/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Simulation: two replicas, an in-memory Lease with compare-and-swap, request latency, and a partition.

interface Stored {
  lease: ObservedLease;
}

class Replica {
  state: ElectionState = INITIAL_ELECTION;
  timers = new Map<string, TimerHandle>();
  partitioned = false;
  stoppedAt: number[] = [];
  startedAt: number[] = [];

  constructor(
    readonly cfg: LeaderConfig,
    readonly clock: FakeClock,
    readonly store: { cur: Stored | null; rv: number },
    readonly latency: number,
  ) {}

  dispatch(ev: ElectionEvent): void {
    const r = step(this.cfg, this.state, ev);
    this.state = r.state;
    for (const a of r.actions) this.perform(a);
  }

  private respond(fn: () => ElectionEvent): void {
    // A partitioned replica's requests hang (no answer ever), the worst case for safety.
    if (this.partitioned) return;
    this.clock.setTimeout(() => this.dispatch(fn()), this.latency);
  }

  private perform(a: ElectionAction): void {
    const now = (): number => this.clock.now();
    const s = this.store;
    const write = (holder: string, durS: number, transitions: number, acq: string | null, rv: string | null): ElectionEvent => {
      if (rv === null ? s.cur !== null : s.cur === null || s.cur.lease.resourceVersion !== rv) return { type: 'writeFailed', now: now(), error: '409', conflict: true };
      s.rv++;
      s.cur = { lease: { holder, leaseDurationMs: durS * 1000, transitions, acquireTime: acq ?? 'now', resourceVersion: String(s.rv) } };
      return { type: 'writeOk', now: now(), lease: s.cur.lease };
    };
    switch (a.type) {
      case 'read':
        return this.respond(() => ({ type: 'readOk', now: now(), lease: s.cur?.lease ?? null }));
      case 'create':
        return this.respond(() => write(a.record.holderIdentity, a.record.leaseDurationSeconds, a.record.leaseTransitions, a.record.acquireTime, null));
      case 'update':
        return this.respond(() => write(a.record.holderIdentity, a.record.leaseDurationSeconds, a.record.leaseTransitions, a.record.acquireTime, a.resourceVersion));
      case 'release':
        return this.respond(() => {
          write('', 1, a.record.leaseTransitions, null, a.resourceVersion);
          return { type: 'releaseDone', now: now() };
        });
      case 'setTimer': {
        const old = this.timers.get(a.timer);
        if (old) this.clock.clearTimeout(old);
        const ev = a.timer === 'retry' ? 'retryTimer' : 'deadlineTimer';
        this.timers.set(a.timer, this.clock.setTimeout(() => this.dispatch({ type: ev, now: now() }), a.ms));
        return;
      }
      case 'cancelTimer': {
        const old = this.timers.get(a.timer);
        if (old) this.clock.clearTimeout(old);
        this.timers.delete(a.timer);
        return;
      }
      case 'startedLeading':
        this.startedAt.push(now());
        return;
      case 'stoppedLeading':
        this.stoppedAt.push(now());
        return;
      default:
        return;
    }
  }

  leader(): boolean {
    return isLeader(this.state, this.clock.now());
  }
}

describe('leader election safety (simulated, fake clock)', () => {
  for (const latency of [1, 50, 400]) {
    it(`a partitioned leader stops leading before the standby takes over (latency ${latency} ms)`, () => {
      const clock = new FakeClock(1_000_000);
      const store = { cur: null as Stored | null, rv: 0 };
      const a = new Replica({ ...CFG, identity: 'a' }, clock, store, latency);
      const b = new Replica({ ...CFG, identity: 'b' }, clock, store, latency);
      a.dispatch({ type: 'start', now: clock.now() });
      clock.advance(5);
      b.dispatch({ type: 'start', now: clock.now() });
      let bothLeaders = 0;
      let aLost: number | undefined;
      let bLeads: number | undefined;
      for (let t = 0; t < 60_000; t++) {
        if (t === 20_000) a.partitioned = true;
        clock.advance(1);
        if (a.leader() && b.leader()) bothLeaders++;
        if (aLost === undefined && a.partitioned && !a.leader()) aLost = clock.now();
        if (bLeads === undefined && b.leader()) bLeads = clock.now();
      }
      assert.equal(bothLeaders, 0, 'never two leaders');
      assert.equal(a.startedAt.length, 1, 'a led first');
      assert.ok(aLost !== undefined && bLeads !== undefined, 'a lost and b took over');
      assert.ok(bLeads - aLost >= CFG.leaseDurationMs - CFG.renewDeadlineMs - CFG.retryPeriodMs, `margin ${bLeads - aLost} ms`);
      assert.equal(a.stoppedAt.length, 1, 'onStoppedLeading fired once, at the deadline');
      const partitionAt = 1_000_000 + 5 + 20_000;
      // b sees the last renewal within a poll cycle (retry + 2 latencies), waits the lease duration, then reads and writes.
      assert.ok(bLeads - partitionAt <= CFG.leaseDurationMs + CFG.retryPeriodMs + 4 * latency, `takeover ${bLeads - partitionAt} ms after the partition`);
    });
  }

  it('a clean stop releases the Lease and the standby leads within a retry period', () => {
    const clock = new FakeClock(0);
    const store = { cur: null as Stored | null, rv: 0 };
    const a = new Replica({ ...CFG, identity: 'a' }, clock, store, 5);
    const b = new Replica({ ...CFG, identity: 'b' }, clock, store, 5);
    a.dispatch({ type: 'start', now: 0 });
    clock.advance(100);
    b.dispatch({ type: 'start', now: clock.now() });
    clock.advance(10_000);
    assert.equal(a.leader(), true);
    const stopAt = clock.now();
    a.dispatch({ type: 'stop', now: stopAt });
    assert.equal(a.leader(), false, 'stops leading at once');
    let bLeads: number | undefined;
    for (let t = 0; t < 5_000 && bLeads === undefined; t++) {
      clock.advance(1);
      if (b.leader()) bLeads = clock.now();
    }
    assert.equal(store.cur?.lease.holder, 'b');
    assert.ok(bLeads !== undefined && bLeads - stopAt <= CFG.retryPeriodMs + 20, `b led ${String(bLeads === undefined ? 'never' : bLeads - stopAt)} ms after the release`);
    assert.equal(a.state.phase, 'stopped');
  });
});
