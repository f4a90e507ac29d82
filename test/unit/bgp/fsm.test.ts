// The RFC 4271 §8 FSM, every state × event pair, run through a miniature driver on a FakeClock so that timer
// actions are real timers and their expiry feeds events back, as in session.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../helpers/fake-clock.js';
import type { TimerHandle } from '../../../src/clock.js';
import {
  BGP_STATES,
  createFsm,
  step,
  type BgpState,
  type Fsm,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmEventType,
  type TimerName,
} from '../../../src/bgp/fsm.js';
import {
  CapabilityCode,
  CeaseSubcode,
  FsmSubcode,
  MessageHeaderSubcode,
  MessageType,
  NotificationCode,
  OpenSubcode,
  UpdateSubcode,
} from '../../../src/bgp/constants.js';
import type { OpenMessage } from '../../../src/bgp/types.js';

const CONFIG: FsmConfig = { localAs: 64512, peerAs: 64513, localBgpId: 0x0a000001, holdTime: 90 };

function peerOpen(over: Partial<OpenMessage> = {}): OpenMessage {
  return {
    type: MessageType.Open,
    version: 4,
    myAs: 64513,
    holdTime: 180,
    bgpIdentifier: 0x0a000002,
    capabilities: [{ kind: 'four-octet-as', code: CapabilityCode.FourOctetAs, asn: 64513 }],
    parameters: [],
    ...over,
  };
}

const HEADER_ERR = { code: NotificationCode.MessageHeaderError, subcode: MessageHeaderSubcode.BadMessageLength, data: new Uint8Array([0, 5]) };
const OPEN_ERR = { code: NotificationCode.OpenMessageError, subcode: OpenSubcode.UnsupportedOptionalParameter, data: new Uint8Array() };
const NOTIF = { code: NotificationCode.Cease, subcode: CeaseSubcode.AdministrativeShutdown, data: new Uint8Array() };
const VER_ERR = { code: NotificationCode.OpenMessageError, subcode: OpenSubcode.UnsupportedVersionNumber, data: new Uint8Array([0, 4]) };
const UPD_RESET = { code: NotificationCode.UpdateMessageError, subcode: UpdateSubcode.MalformedAttributeList, data: new Uint8Array(), action: 'session-reset' as const };
const UPD_TAW = { code: NotificationCode.UpdateMessageError, subcode: UpdateSubcode.AttributeLengthError, data: new Uint8Array(), action: 'treat-as-withdraw' as const };

/** One representative of every event type (UpdateMsgErr is the session-reset kind; treat-as-withdraw below). */
const EVENTS: Record<FsmEventType, FsmEvent> = {
  ManualStart: { type: 'ManualStart' },
  ManualStop: { type: 'ManualStop' },
  AutomaticStart: { type: 'AutomaticStart' },
  AutomaticStop: { type: 'AutomaticStop' },
  ConnectRetryTimerExpires: { type: 'ConnectRetryTimerExpires' },
  HoldTimerExpires: { type: 'HoldTimerExpires' },
  KeepaliveTimerExpires: { type: 'KeepaliveTimerExpires' },
  TcpConnectionValid: { type: 'TcpConnectionValid' },
  TcpCrInvalid: { type: 'TcpCrInvalid' },
  TcpCrAcked: { type: 'TcpCrAcked' },
  TcpConnectionConfirmed: { type: 'TcpConnectionConfirmed' },
  TcpConnectionFails: { type: 'TcpConnectionFails' },
  BGPOpen: { type: 'BGPOpen', open: peerOpen() },
  BGPHeaderErr: { type: 'BGPHeaderErr', error: HEADER_ERR },
  BGPOpenMsgErr: { type: 'BGPOpenMsgErr', error: OPEN_ERR },
  OpenCollisionDump: { type: 'OpenCollisionDump' },
  NotifMsgVerErr: { type: 'NotifMsgVerErr', notification: VER_ERR },
  NotifMsg: { type: 'NotifMsg', notification: NOTIF },
  KeepAliveMsg: { type: 'KeepAliveMsg' },
  UpdateMsg: { type: 'UpdateMsg' },
  UpdateMsgErr: { type: 'UpdateMsgErr', error: UPD_RESET },
  RouteRefreshMsg: { type: 'RouteRefreshMsg' },
};
const EVENT_TYPES = Object.keys(EVENTS) as FsmEventType[];

/** Performs FSM actions the way session.ts does, minus sockets: timers on the FakeClock, the rest logged. */
class Harness {
  fsm: Fsm;
  readonly clock = new FakeClock();
  readonly timers = new Map<TimerName, TimerHandle>();
  log: FsmAction[] = [];

  constructor(config: FsmConfig = CONFIG) {
    this.fsm = createFsm(config);
  }

  feed(event: FsmEvent): readonly FsmAction[] {
    const t = step(this.fsm, event);
    this.fsm = t.fsm;
    for (const a of t.actions) this.perform(a);
    this.log.push(...t.actions);
    return t.actions;
  }

  private perform(a: FsmAction): void {
    if (a.type === 'StartTimer') {
      this.stop(a.timer);
      const expiry: FsmEvent['type'] =
        a.timer === 'ConnectRetry' ? 'ConnectRetryTimerExpires' : a.timer === 'Hold' ? 'HoldTimerExpires' : 'KeepaliveTimerExpires';
      this.timers.set(
        a.timer,
        this.clock.setTimeout(() => {
          this.timers.delete(a.timer);
          this.feed({ type: expiry } as FsmEvent);
        }, a.ms),
      );
    } else if (a.type === 'StopTimer') this.stop(a.timer);
  }

  private stop(timer: TimerName): void {
    const h = this.timers.get(timer);
    if (h) this.clock.clearTimeout(h);
    this.timers.delete(timer);
  }

  running(): TimerName[] {
    return [...this.timers.keys()].sort();
  }
}

/** A harness driven into `state` along the ordinary path, with a non-zero ConnectRetryCounter. */
function reach(state: BgpState, config: FsmConfig = CONFIG): Harness {
  const h = new Harness(config);
  h.fsm = { ...h.fsm, connectRetryCounter: 2 };
  const path: Record<BgpState, FsmEvent[]> = {
    Idle: [],
    Connect: [EVENTS.AutomaticStart],
    Active: [{ type: 'AutomaticStart', passive: true }],
    OpenSent: [EVENTS.AutomaticStart, EVENTS.TcpCrAcked],
    OpenConfirm: [EVENTS.AutomaticStart, EVENTS.TcpCrAcked, EVENTS.BGPOpen],
    Established: [EVENTS.AutomaticStart, EVENTS.TcpCrAcked, EVENTS.BGPOpen, EVENTS.KeepAliveMsg],
  };
  for (const e of path[state]) h.feed(e);
  assert.equal(h.fsm.state, state);
  h.log = [];
  return h;
}

// Expected outcome per state and event, written from RFC 4271 §8.2.2 (with the deviations in FSM.md).
// Format: "<next state> <notification sent> <ConnectRetryCounter>", where notification is '-' (none),
// 'cease', 'hold' (HoldTimerExpired), 'coll' (Cease/ConnectionCollisionResolution), 'ev' (the event's own
// error), 'fsm0'..'fsm3' (FSM Error with that RFC 6608 subcode); counter is '+' (incremented), '0' (reset) or
// '=' (unchanged).
type Row = Partial<Record<FsmEventType, string>>;
const IGNORED = '= - =';
const idleRow: Row = {
  ManualStart: 'Connect - 0',
  AutomaticStart: 'Connect - =',
};
const connectRow: Row = {
  ManualStart: IGNORED,
  AutomaticStart: IGNORED,
  ManualStop: 'Idle - 0',
  AutomaticStop: 'Idle - +',
  ConnectRetryTimerExpires: 'Connect - =',
  HoldTimerExpires: 'Idle - +',
  KeepaliveTimerExpires: 'Idle - +',
  TcpConnectionValid: IGNORED,
  TcpCrInvalid: IGNORED,
  TcpCrAcked: 'OpenSent - =',
  TcpConnectionConfirmed: 'OpenSent - =',
  TcpConnectionFails: 'Idle - +',
  BGPOpen: 'Idle - +',
  BGPHeaderErr: 'Idle - +',
  BGPOpenMsgErr: 'Idle - +',
  OpenCollisionDump: 'Idle - +',
  NotifMsgVerErr: 'Idle - +',
  NotifMsg: 'Idle - +',
  KeepAliveMsg: 'Idle - +',
  UpdateMsg: 'Idle - +',
  UpdateMsgErr: 'Idle - +',
  RouteRefreshMsg: 'Idle - +',
};
const activeRow: Row = { ...connectRow };
const openSentRow: Row = {
  ManualStart: IGNORED,
  AutomaticStart: IGNORED,
  ManualStop: 'Idle cease 0',
  AutomaticStop: 'Idle cease +',
  ConnectRetryTimerExpires: 'Idle fsm0 +',
  HoldTimerExpires: 'Idle hold +',
  KeepaliveTimerExpires: 'Idle fsm0 +',
  TcpConnectionValid: IGNORED,
  TcpCrInvalid: IGNORED,
  TcpCrAcked: IGNORED,
  TcpConnectionConfirmed: IGNORED,
  TcpConnectionFails: 'Idle - +',
  BGPOpen: 'OpenConfirm - =',
  BGPHeaderErr: 'Idle ev +',
  BGPOpenMsgErr: 'Idle ev +',
  OpenCollisionDump: 'Idle coll +',
  NotifMsgVerErr: 'Idle - =',
  NotifMsg: 'Idle - +',
  KeepAliveMsg: 'Idle fsm1 +',
  UpdateMsg: 'Idle fsm1 +',
  UpdateMsgErr: 'Idle fsm1 +',
  RouteRefreshMsg: 'Idle fsm1 +',
};
const openConfirmRow: Row = {
  ManualStart: IGNORED,
  AutomaticStart: IGNORED,
  ManualStop: 'Idle cease 0',
  AutomaticStop: 'Idle cease +',
  ConnectRetryTimerExpires: 'Idle fsm0 +',
  HoldTimerExpires: 'Idle hold +',
  KeepaliveTimerExpires: IGNORED, // sends a KEEPALIVE, checked below
  TcpConnectionValid: IGNORED,
  TcpCrInvalid: IGNORED,
  TcpCrAcked: IGNORED,
  TcpConnectionConfirmed: IGNORED,
  TcpConnectionFails: 'Idle - +',
  BGPOpen: 'Idle fsm2 +',
  BGPHeaderErr: 'Idle ev +',
  BGPOpenMsgErr: 'Idle ev +',
  OpenCollisionDump: 'Idle coll +',
  NotifMsgVerErr: 'Idle - =',
  NotifMsg: 'Idle - +',
  KeepAliveMsg: 'Established - =',
  UpdateMsg: 'Idle fsm2 +',
  UpdateMsgErr: 'Idle fsm2 +',
  RouteRefreshMsg: 'Idle fsm2 +',
};
const establishedRow: Row = {
  ManualStart: IGNORED,
  AutomaticStart: IGNORED,
  ManualStop: 'Idle cease 0',
  AutomaticStop: 'Idle cease +',
  ConnectRetryTimerExpires: 'Idle fsm0 +',
  HoldTimerExpires: 'Idle hold +',
  KeepaliveTimerExpires: IGNORED,
  TcpConnectionValid: IGNORED,
  TcpCrInvalid: IGNORED,
  TcpCrAcked: IGNORED,
  TcpConnectionConfirmed: IGNORED,
  TcpConnectionFails: 'Idle - +',
  BGPOpen: 'Idle fsm3 +',
  BGPHeaderErr: 'Idle ev +',
  BGPOpenMsgErr: 'Idle fsm3 +',
  OpenCollisionDump: 'Idle coll +',
  NotifMsgVerErr: 'Idle - +',
  NotifMsg: 'Idle - +',
  KeepAliveMsg: IGNORED,
  UpdateMsg: IGNORED,
  UpdateMsgErr: 'Idle ev +',
  RouteRefreshMsg: IGNORED,
};
const TABLE: Record<BgpState, Row> = {
  Idle: idleRow,
  Connect: connectRow,
  Active: { ...activeRow, ConnectRetryTimerExpires: 'Connect - =' },
  OpenSent: openSentRow,
  OpenConfirm: openConfirmRow,
  Established: establishedRow,
};

function expectedNotification(tag: string, event: FsmEvent): { code: number; subcode: number } | undefined {
  if (tag === '-') return undefined;
  if (tag === 'cease') return { code: NotificationCode.Cease, subcode: CeaseSubcode.Unspecific };
  if (tag === 'hold') return { code: NotificationCode.HoldTimerExpired, subcode: 0 };
  if (tag === 'coll') return { code: NotificationCode.Cease, subcode: CeaseSubcode.ConnectionCollisionResolution };
  if (tag.startsWith('fsm')) return { code: NotificationCode.FiniteStateMachineError, subcode: Number(tag.slice(3)) };
  if (tag === 'ev' && 'error' in event) return { code: event.error.code, subcode: event.error.subcode };
  throw new Error(`bad tag ${tag}`);
}

describe('FSM: every state × event (RFC 4271 §8.2.2)', () => {
  let cases = 0;
  for (const state of BGP_STATES) {
    for (const type of EVENT_TYPES) {
      const spec = TABLE[state][type] ?? IGNORED; // Idle ignores everything but starts
      it(`${state} + ${type} → ${spec}`, () => {
        cases++;
        const h = reach(state);
        const before = h.fsm;
        const event = EVENTS[type];
        const actions = h.feed(event);
        const [nextTag, notifTag, counterTag] = spec.split(' ') as [string, string, string];
        const next = nextTag === '=' ? state : nextTag;
        assert.equal(h.fsm.state, next, 'next state');
        const sent = actions.filter((a) => a.type === 'SendNotification');
        const want = expectedNotification(notifTag, event);
        if (want === undefined) assert.equal(sent.length, 0, `unexpected ${JSON.stringify(sent)}`);
        else {
          assert.equal(sent.length, 1);
          assert.deepEqual({ code: sent[0]!.code, subcode: sent[0]!.subcode }, want);
          // RFC 4271 §4.5: the connection is closed right after a NOTIFICATION.
          const iN = actions.findIndex((a) => a.type === 'SendNotification');
          const iD = actions.findIndex((a) => a.type === 'DropTcp');
          assert.ok(iD > iN, 'DropTcp follows SendNotification');
        }
        const counter = { '+': 3, '0': 0, '=': 2 }[counterTag];
        assert.equal(h.fsm.connectRetryCounter, counter, 'ConnectRetryCounter');
        assert.equal(actions.some((a) => a.type === 'IncrementConnectRetryCounter'), counterTag === '+');

        if (next === 'Idle' && state !== 'Idle') {
          // Every way down releases everything and leaves no timer running.
          assert.ok(actions.some((a) => a.type === 'DropTcp'));
          assert.ok(actions.some((a) => a.type === 'ReleaseResources'));
          assert.deepEqual(h.running(), []);
          assert.equal(h.fsm.negotiated, undefined);
          assert.equal(h.fsm.lastError?.state, state);
          assert.equal(actions.some((a) => a.type === 'SessionDown'), state === 'Established');
        }
        if (nextTag === '=' && state === 'Idle') assert.deepEqual(actions, []);
        if (nextTag === '=' && notifTag === '-' && state !== 'Idle' && type !== 'KeepaliveTimerExpires') {
          // Ignored events do not touch the connection.
          assert.ok(!actions.some((a) => a.type === 'DropTcp' || a.type === 'SendOpen'));
        }
        // A NOTIFICATION can only go out on a connection that has carried our OPEN.
        if (sent.length > 0) assert.ok(['OpenSent', 'OpenConfirm', 'Established'].includes(before.state));
        // No NOTIFICATION is ever sent in reply to one.
        if (type === 'NotifMsg' || type === 'NotifMsgVerErr') assert.equal(sent.length, 0);
      });
    }
  }
  it('covered the whole matrix', () => {
    assert.equal(EVENT_TYPES.length, 22);
    assert.equal(cases, BGP_STATES.length * EVENT_TYPES.length);
  });
  it('the expected table names only real events', () => {
    for (const row of Object.values(TABLE)) for (const k of Object.keys(row)) assert.ok(k in EVENTS, k);
  });
});

describe('FSM: timers on the fake clock', () => {
  it('starting actively dials, listens and arms the ConnectRetryTimer; expiry redials', () => {
    const h = reach('Idle');
    const actions = h.feed({ type: 'ManualStart' });
    assert.deepEqual(
      actions.map((a) => a.type),
      ['InitializeResources', 'StartTimer', 'ConnectTcp', 'ListenTcp'],
    );
    assert.deepEqual(h.clock.pendingDelays(), [30_000]);
    h.log = [];
    h.clock.advance(30_000);
    assert.equal(h.fsm.state, 'Connect');
    assert.deepEqual(
      h.log.map((a) => a.type),
      ['DropTcp', 'StartTimer', 'ConnectTcp', 'ListenTcp'],
    );
    assert.deepEqual(h.clock.pendingDelays(), [30_000]);
  });

  it('a passive start with a backoff delay waits in Active, then dials', () => {
    const h = reach('Idle');
    const actions = h.feed({ type: 'AutomaticStart', passive: true, connectRetryMs: 8000 });
    assert.equal(h.fsm.state, 'Active');
    assert.equal(h.fsm.passive, true);
    assert.ok(!actions.some((a) => a.type === 'ConnectTcp'));
    assert.ok(actions.some((a) => a.type === 'ListenTcp'));
    h.clock.advance(7999);
    assert.equal(h.fsm.state, 'Active');
    h.clock.advance(1);
    assert.equal(h.fsm.state, 'Connect');
    assert.ok(h.log.some((a) => a.type === 'ConnectTcp'));
    // From now on the ConnectRetryTimer uses the configured ConnectRetryTime, not the start delay.
    assert.deepEqual(h.clock.pendingDelays(), [30_000]);
  });

  it('OpenSent holds the peer to the large 4-minute hold time, then sends Hold Timer Expired', () => {
    const h = reach('OpenSent');
    assert.deepEqual(h.running(), ['Hold']);
    assert.deepEqual(h.clock.pendingDelays(), [240_000]);
    h.clock.advance(239_999);
    assert.equal(h.fsm.state, 'OpenSent');
    h.clock.advance(1);
    assert.equal(h.fsm.state, 'Idle');
    const n = h.log.find((a) => a.type === 'SendNotification');
    assert.deepEqual(n && { code: n.code, subcode: n.subcode }, { code: NotificationCode.HoldTimerExpired, subcode: 0 });
    assert.equal(h.clock.pending, 0);
  });

  it('OpenConfirm: negotiated hold = min(90, 180), keepalives every 30 s, then Established on KEEPALIVE', () => {
    const h = reach('OpenSent');
    const actions = h.feed(EVENTS.BGPOpen);
    assert.equal(h.fsm.state, 'OpenConfirm');
    assert.equal(h.fsm.negotiated?.holdTime, 90);
    assert.equal(h.fsm.negotiated?.keepaliveTime, 30);
    assert.equal(actions.filter((a) => a.type === 'SendKeepalive').length, 1);
    assert.deepEqual(h.running(), ['Hold', 'Keepalive']);
    h.log = [];
    h.clock.advance(60_000);
    assert.equal(h.log.filter((a) => a.type === 'SendKeepalive').length, 2);
    assert.equal(h.fsm.state, 'OpenConfirm', 'KeepaliveTimer does not end OpenConfirm');
    const up = h.feed(EVENTS.KeepAliveMsg);
    assert.equal(h.fsm.state, 'Established');
    assert.ok(up.some((a) => a.type === 'SessionUp'));
  });

  it('OpenConfirm without the peer KEEPALIVE dies at the negotiated hold time, not before', () => {
    const h = reach('OpenConfirm');
    h.clock.advance(89_999);
    assert.equal(h.fsm.state, 'OpenConfirm');
    h.clock.advance(1);
    assert.equal(h.fsm.state, 'Idle');
    assert.equal(h.fsm.lastError?.notification?.code, NotificationCode.HoldTimerExpired);
  });

  it('Established: KEEPALIVE and UPDATE restart the hold timer; silence expires it (the shortcut MetalLB lacks)', () => {
    const h = reach('Established');
    for (let i = 0; i < 5; i++) {
      h.clock.advance(80_000);
      h.feed(i % 2 ? EVENTS.KeepAliveMsg : EVENTS.UpdateMsg);
    }
    assert.equal(h.fsm.state, 'Established');
    const sentKeepalives = h.log.filter((a) => a.type === 'SendKeepalive').length;
    assert.equal(sentKeepalives, Math.floor(400_000 / 30_000));
    h.log = [];
    h.clock.advance(90_000);
    assert.equal(h.fsm.state, 'Idle');
    assert.deepEqual(
      h.log.filter((a) => a.type === 'SendNotification' || a.type === 'SessionDown').map((a) => a.type),
      ['SendNotification', 'SessionDown'],
    );
    assert.equal(h.clock.pending, 0);
  });

  it('hold time 0 (either side) means no keepalives and no hold timer', () => {
    for (const [ours, theirs] of [
      [0, 90],
      [90, 0],
    ] as const) {
      const h = reach('OpenSent', { ...CONFIG, holdTime: ours });
      h.feed({ type: 'BGPOpen', open: peerOpen({ holdTime: theirs }) });
      assert.equal(h.fsm.negotiated?.holdTime, 0);
      assert.equal(h.fsm.negotiated?.keepaliveTime, 0);
      assert.deepEqual(h.running(), []);
      h.feed(EVENTS.KeepAliveMsg);
      assert.equal(h.fsm.state, 'Established');
      h.clock.advance(10 * 3600_000);
      assert.equal(h.fsm.state, 'Established');
      assert.equal(h.log.filter((a) => a.type === 'SendKeepalive').length, 1, 'only the OPEN-confirming KEEPALIVE');
      assert.deepEqual(h.feed(EVENTS.KeepaliveTimerExpires), [], 'a stray keepalive tick does nothing');
    }
  });

  it('keepalive-time is honoured and capped at hold/3', () => {
    const h = reach('OpenSent', { ...CONFIG, keepaliveTime: 10 });
    h.feed(EVENTS.BGPOpen);
    assert.equal(h.fsm.negotiated?.keepaliveTime, 10);
    const g = reach('OpenSent', { ...CONFIG, keepaliveTime: 60 });
    g.feed({ type: 'BGPOpen', open: peerOpen({ holdTime: 9 }) });
    assert.equal(g.fsm.negotiated?.holdTime, 9);
    assert.equal(g.fsm.negotiated?.keepaliveTime, 3);
  });

  it('RFC 7606 treat-as-withdraw keeps the session up and restarts the hold timer', () => {
    const h = reach('Established');
    h.clock.advance(80_000);
    const actions = h.feed({ type: 'UpdateMsgErr', error: UPD_TAW });
    assert.equal(h.fsm.state, 'Established');
    assert.deepEqual(actions, [
      { type: 'StartTimer', timer: 'Hold', ms: 90_000 },
      { type: 'ProcessUpdate', errorAction: 'treat-as-withdraw' },
    ]);
    const ad = h.feed({ type: 'UpdateMsgErr', error: { ...UPD_TAW, action: 'attribute-discard' } });
    assert.equal(h.fsm.state, 'Established');
    assert.ok(ad.some((a) => a.type === 'ProcessUpdate' && a.errorAction === 'attribute-discard'));
    h.clock.advance(80_000);
    assert.equal(h.fsm.state, 'Established');
  });

  it('ManualStop carries the Cease subcode and RFC 9003 shutdown communication', () => {
    const h = reach('Established');
    const msg = new TextEncoder().encode('maintenance');
    const data = new Uint8Array([msg.length, ...msg]);
    const actions = h.feed({ type: 'ManualStop', subcode: CeaseSubcode.AdministrativeShutdown, data });
    const n = actions.find((a) => a.type === 'SendNotification');
    assert.deepEqual(n, { type: 'SendNotification', code: NotificationCode.Cease, subcode: 2, data });
    assert.equal(h.fsm.connectRetryCounter, 0);
  });

  it('a received NOTIFICATION is recorded as lastError with direction "received"', () => {
    const h = reach('OpenSent');
    h.feed(EVENTS.NotifMsg);
    assert.deepEqual(h.fsm.lastError, {
      event: 'NotifMsg',
      state: 'OpenSent',
      notification: { ...NOTIF, direction: 'received' },
    });
  });

  it('unexpected messages get the RFC 6608 subcode of the state they arrived in', () => {
    assert.equal(FsmSubcode.UnexpectedMessageInOpenSent, 1);
    const cases: [BgpState, FsmEvent, number][] = [
      ['OpenSent', EVENTS.UpdateMsg, FsmSubcode.UnexpectedMessageInOpenSent],
      ['OpenConfirm', EVENTS.UpdateMsg, FsmSubcode.UnexpectedMessageInOpenConfirm],
      ['Established', EVENTS.BGPOpen, FsmSubcode.UnexpectedMessageInEstablished],
      ['OpenSent', EVENTS.ConnectRetryTimerExpires, FsmSubcode.UnspecifiedError],
    ];
    for (const [state, ev, sub] of cases) {
      const h = reach(state);
      const n = h.feed(ev).find((a) => a.type === 'SendNotification');
      assert.equal(n?.subcode, sub, `${state} ${ev.type}`);
    }
  });

  it('SendNOTIFICATIONwithoutOPEN controls NOTIFICATIONs for errors before our OPEN', () => {
    const h = reach('Connect', { ...CONFIG, sendNotificationWithoutOpen: true });
    const n = h.feed(EVENTS.BGPHeaderErr).find((a) => a.type === 'SendNotification');
    assert.equal(n?.code, NotificationCode.MessageHeaderError);
  });
});
