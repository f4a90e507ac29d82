// Property test: any sequence of events and clock ticks keeps the FSM's timers and bookkeeping consistent
// with its state. Complements the exhaustive one-step matrix in fsm.test.ts with long random histories.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FakeClock } from '../../helpers/fake-clock.js';
import type { TimerHandle } from '../../../src/clock.js';
import { createFsm, step, type Fsm, type FsmAction, type FsmConfig, type FsmEvent, type TimerName } from '../../../src/bgp/fsm.js';
import { CapabilityCode, MessageType, NotificationCode } from '../../../src/bgp/constants.js';

const CONFIG: FsmConfig = { localAs: 64512, peerAs: 64513, localBgpId: 0x0a000001, holdTime: 90 };
const none = new Uint8Array();

const eventArb: fc.Arbitrary<FsmEvent> = fc.oneof(
  fc.constantFrom<FsmEvent>(
    { type: 'ManualStart' },
    { type: 'ManualStart', passive: true },
    { type: 'ManualStop' },
    { type: 'AutomaticStart' },
    { type: 'AutomaticStart', passive: true, connectRetryMs: 5000 },
    { type: 'AutomaticStop' },
    { type: 'ConnectRetryTimerExpires' },
    { type: 'HoldTimerExpires' },
    { type: 'KeepaliveTimerExpires' },
    { type: 'TcpConnectionValid' },
    { type: 'TcpCrInvalid' },
    { type: 'TcpCrAcked' },
    { type: 'TcpConnectionConfirmed' },
    { type: 'TcpConnectionFails' },
    { type: 'BGPHeaderErr', error: { code: 1, subcode: 2, data: none } },
    { type: 'BGPOpenMsgErr', error: { code: 2, subcode: 4, data: none } },
    { type: 'OpenCollisionDump' },
    { type: 'NotifMsgVerErr', notification: { code: 2, subcode: 1, data: none } },
    { type: 'NotifMsg', notification: { code: 6, subcode: 2, data: none } },
    { type: 'UpdateMsg' },
    { type: 'UpdateMsgErr', error: { code: 3, subcode: 1, data: none, action: 'session-reset' } },
    { type: 'UpdateMsgErr', error: { code: 3, subcode: 5, data: none, action: 'treat-as-withdraw' } },
    { type: 'RouteRefreshMsg' },
  ),
  // KEEPALIVEs and OPENs are weighted up so that runs actually reach Established.
  fc.constant<FsmEvent>({ type: 'KeepAliveMsg' }),
  fc.record({
    holdTime: fc.oneof(fc.constantFrom(0, 1, 3, 90, 180), fc.integer({ min: 0, max: 65535 })),
    myAs: fc.constantFrom(64513, 64513, 64513, 65000),
  }).map(
    ({ holdTime, myAs }): FsmEvent => ({
      type: 'BGPOpen',
      open: {
        type: MessageType.Open,
        version: 4,
        myAs,
        holdTime,
        bgpIdentifier: 0x0a000002,
        capabilities: [{ kind: 'four-octet-as', code: CapabilityCode.FourOctetAs, asn: myAs }],
        parameters: [],
      },
    }),
  ),
);
/** The ordinary way up, with a random peer hold time, as one step (so random runs get to Established). */
const happyPathArb = fc.constantFrom(0, 3, 9, 90, 240).map((holdTime) => ({
  events: [
    { type: 'AutomaticStart' },
    { type: 'TcpCrAcked' },
    {
      type: 'BGPOpen',
      open: {
        type: MessageType.Open,
        version: 4,
        myAs: 64513,
        holdTime,
        bgpIdentifier: 0x0a000002,
        capabilities: [],
        parameters: [],
      },
    },
    { type: 'KeepAliveMsg' },
  ] as FsmEvent[],
}));
const stepArb = fc.oneof(
  { weight: 6, arbitrary: eventArb.map((e) => ({ events: [e] })) },
  { weight: 1, arbitrary: happyPathArb },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 300_000 }).map((ms) => ({ tick: ms })) },
);

class Driver {
  fsm: Fsm = createFsm(CONFIG);
  readonly clock = new FakeClock();
  readonly timers = new Map<TimerName, TimerHandle>();
  readonly durations = new Map<TimerName, number>();
  reachedEstablished = 0;

  feed(e: FsmEvent): void {
    const before = this.fsm;
    const t = step(this.fsm, e);
    this.fsm = t.fsm;
    checkActions(before, t.fsm, t.actions);
    if (t.fsm.state === 'Established' && before.state !== 'Established') this.reachedEstablished++;
    for (const a of t.actions) {
      if (a.type === 'StartTimer') {
        this.stop(a.timer);
        const ev = ({ ConnectRetry: 'ConnectRetryTimerExpires', Hold: 'HoldTimerExpires', Keepalive: 'KeepaliveTimerExpires' } as const)[a.timer];
        this.durations.set(a.timer, a.ms);
        this.timers.set(
          a.timer,
          this.clock.setTimeout(() => {
            this.timers.delete(a.timer);
            this.feed({ type: ev });
          }, a.ms),
        );
      } else if (a.type === 'StopTimer') this.stop(a.timer);
    }
    this.checkState();
  }

  private stop(t: TimerName): void {
    const h = this.timers.get(t);
    if (h) this.clock.clearTimeout(h);
    this.timers.delete(t);
  }

  checkState(): void {
    const s = this.fsm.state;
    const running = [...this.timers.keys()].sort().join(',');
    const n = this.fsm.negotiated;
    assert.equal(n !== undefined, s === 'OpenConfirm' || s === 'Established', `negotiated in ${s}`);
    assert.ok(this.fsm.connectRetryCounter >= 0);
    switch (s) {
      case 'Idle':
        assert.equal(running, '', 'no timer runs in Idle');
        break;
      case 'Connect':
      case 'Active':
        assert.equal(running, 'ConnectRetry', `timers in ${s}`);
        break;
      case 'OpenSent':
        assert.equal(running, 'Hold', 'OpenSent waits on the large hold timer only');
        assert.equal(this.durations.get('Hold'), 240_000);
        break;
      case 'OpenConfirm':
      case 'Established':
        if (n!.holdTime === 0) assert.equal(running, '', `hold 0: no timers in ${s}`);
        else {
          assert.equal(running, 'Hold,Keepalive', `timers in ${s}`);
          assert.equal(this.durations.get('Hold'), n!.holdTime * 1000);
          assert.equal(this.durations.get('Keepalive'), n!.keepaliveTime * 1000);
          assert.ok(n!.keepaliveTime * 3 <= n!.holdTime && n!.holdTime >= 3);
        }
        break;
    }
  }
}

function checkActions(before: Fsm, after: Fsm, actions: readonly FsmAction[]): void {
  const i = actions.findIndex((a) => a.type === 'SendNotification');
  if (i >= 0) {
    assert.ok(actions.slice(i + 1).some((a) => a.type === 'DropTcp'), 'a NOTIFICATION is followed by closing');
    assert.ok(['OpenSent', 'OpenConfirm', 'Established'].includes(before.state), 'only after our OPEN');
    assert.equal(actions.filter((a) => a.type === 'SendNotification').length, 1);
  }
  const up = actions.some((a) => a.type === 'SessionUp');
  assert.equal(up, before.state === 'OpenConfirm' && after.state === 'Established');
  const down = actions.some((a) => a.type === 'SessionDown');
  assert.equal(down, before.state === 'Established' && after.state !== 'Established');
  if (actions.some((a) => a.type === 'SendOpen')) assert.equal(after.state, 'OpenSent');
  for (const a of actions) if (a.type === 'SendNotification') assert.notEqual(a.code, 0);
  if (after.state === 'Established' && before.state === 'Established') {
    assert.ok(!actions.some((a) => a.type === 'DropTcp'));
  }
  void NotificationCode;
}

describe('FSM properties over random histories', () => {
  it('timers, negotiated state and NOTIFICATION/close ordering stay consistent with the state', () => {
    let established = 0;
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 80 }), (steps) => {
        const d = new Driver();
        d.checkState();
        for (const s of steps) {
          if ('tick' in s) d.clock.advance(s.tick);
          else for (const e of s.events) d.feed(e);
        }
        established += d.reachedEstablished;
      }),
      { numRuns: 400 },
    );
    assert.ok(established > 20, `random histories reached Established ${established} times`);
  });
});
