// The BGP finite state machine of RFC 4271 §8 as a pure function: step(fsm, event) → { fsm, actions }.
//
// The FSM owns no socket and no timer. It returns what must happen as data (send this message, start that
// timer, drop the connection …) and the driver (session.ts) performs it, in order. That makes every
// state × event pair testable without I/O or real time (test/unit/bgp/fsm.test.ts walks the whole matrix),
// which is the lesson from implementations whose FSMs block on sockets (../shared/notes/model-codebases.md §6).
//
// One Fsm describes one BGP connection (RFC 4271 §8: "one FSM per connection"). When both sides connect at
// once there are two, and collision.ts decides which one gets OpenCollisionDump (§6.8).
//
// What is left out, and why (see FSM.md for the full list of deviations):
// - DelayOpen (events 12 and 20) and DampPeerOscillations (events 6, 7, 13): optional session attributes
//   that ingot never sets. Damping is done by the driver's backoff instead, which §8.1.1 leaves to the
//   implementation: after a failure the driver restarts with AutomaticStart{passive, connectRetryMs = backoff},
//   so the speaker waits in Active — listening — and dials when the ConnectRetryTimer fires.
// - CollisionDetectEstablishedState is FALSE: a new connection from a peer that is Established loses (§6.8).
// - SendNOTIFICATIONwithoutOPEN is configurable (default FALSE, as §8.1.1 suggests).
import { AS_TRANS, BGP_VERSION, CeaseSubcode, FsmSubcode, NotificationCode, OpenSubcode } from './constants.js';
import { fourOctetAsOf } from './capabilities.js';
import type { OpenMessage } from './types.js';
import type { ErrorAction } from './errors.js';

export type BgpState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';
export const BGP_STATES: readonly BgpState[] = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

/** The three timers of RFC 4271 §8 that this FSM uses (DelayOpenTimer and IdleHoldTimer are not used). */
export type TimerName = 'ConnectRetry' | 'Hold' | 'Keepalive';
export const TIMER_NAMES: readonly TimerName[] = ['ConnectRetry', 'Hold', 'Keepalive'];

/** What a NOTIFICATION carries. A codec BgpError has exactly these fields, so it can be passed as is. */
export interface NotificationSpec {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
}

export interface FsmConfig {
  /** Our AS (4-octet values allowed; OPEN carries AS_TRANS and the 4-octet AS capability, RFC 6793). */
  readonly localAs: number;
  /** The configured `peer-asn`; the peer's OPEN must match it (RFC 4271 §6.2 Bad Peer AS). */
  readonly peerAs: number;
  /** Our BGP Identifier as an unsigned 32-bit number (`router-id`). */
  readonly localBgpId: number;
  /** Configured hold time in seconds: 0 (no keepalives, no hold timer) or 3–65535 (RFC 4271 §4.2). */
  readonly holdTime: number;
  /** Configured `keepalive-time` in seconds; default holdTime/3 (RFC 4271 §10). Capped at negotiated hold/3. */
  readonly keepaliveTime?: number;
  /**
   * ConnectRetryTime in seconds: how long a dial may hang in Connect before it is retried, and how long Active
   * waits before dialling when no delay came with the start event. RFC 4271 §10 suggests 120 s; ingot uses 30.
   */
  readonly connectRetryTime?: number;
  /** The "large value" the HoldTimer gets in OpenSent (RFC 4271 §8.2.2 suggests 4 minutes). */
  readonly openHoldTime?: number;
  /** RFC 4271 §8.1.1 optional attribute: send a NOTIFICATION for errors found before our OPEN was sent. */
  readonly sendNotificationWithoutOpen?: boolean;
}

export const DEFAULT_CONNECT_RETRY_TIME = 30;
export const DEFAULT_OPEN_HOLD_TIME = 240;

/** What the two OPENs agreed on; set when a valid OPEN moves the FSM to OpenConfirm. */
export interface Negotiated {
  /** min(ours, theirs) in seconds; 0 means neither keepalives nor hold timer (RFC 4271 §4.2). */
  readonly holdTime: number;
  /** Seconds between our KEEPALIVEs; 0 when holdTime is 0. */
  readonly keepaliveTime: number;
  /** The peer's real AS: from the 4-octet AS capability when present, else from My AS (RFC 6793 §4.1). */
  readonly peerAs: number;
  readonly peerBgpId: number;
  /** The peer advertised the 4-octet AS capability. */
  readonly peerFourOctetAs: boolean;
  /** The peer's OPEN, for capability negotiation by the driver (context.ts). */
  readonly open: OpenMessage;
}

/** Why the FSM last went back to Idle; shown by /status as "last error". */
export interface LastError {
  readonly event: FsmEvent['type'];
  readonly state: BgpState;
  /** A NOTIFICATION we sent or received on the way down, if any. */
  readonly notification?: NotificationSpec & { readonly direction: 'sent' | 'received' };
  /**
   * Set by the driver (never by step()) when an unexpected exception forced the connection down: where it
   * happened and its message (session.ts recover()).
   */
  readonly error?: string;
}

export interface Fsm {
  readonly config: FsmConfig;
  readonly state: BgpState;
  /** RFC 4271 §8.1.1 ConnectRetryCounter: failures since the last ManualStart/ManualStop. */
  readonly connectRetryCounter: number;
  /** How this FSM was started (RFC 4271 §8.1.1 PassiveTcpEstablishment). */
  readonly passive: boolean;
  readonly negotiated: Negotiated | undefined;
  readonly lastError: LastError | undefined;
}

// ---- events (RFC 4271 §8.1.2–§8.1.5; the number is the RFC's event number) ----------------------------

interface StartOptions {
  /** Start with PassiveTcpEstablishment (events 4 and 5): go to Active and listen instead of dialling. */
  readonly passive?: boolean;
  /**
   * ConnectRetryTimer value for this start only, in ms. The driver puts its backoff delay here; with
   * `passive` the FSM then waits in Active (accepting the peer's connection) and dials when it expires.
   */
  readonly connectRetryMs?: number;
}
interface StopOptions {
  /** Cease subcode for the NOTIFICATION (default Unspecific; e.g. AdministrativeShutdown, PeerDeConfigured). */
  readonly subcode?: CeaseSubcode;
  /** Cease data, e.g. an RFC 9003 shutdown communication. */
  readonly data?: Uint8Array;
}

export type FsmEvent =
  | ({ readonly type: 'ManualStart' } & StartOptions) // 1, 4
  | ({ readonly type: 'ManualStop' } & StopOptions) // 2
  | ({ readonly type: 'AutomaticStart' } & StartOptions) // 3, 5
  | ({ readonly type: 'AutomaticStop' } & StopOptions) // 8
  | { readonly type: 'ConnectRetryTimerExpires' } // 9
  | { readonly type: 'HoldTimerExpires' } // 10
  | { readonly type: 'KeepaliveTimerExpires' } // 11
  | { readonly type: 'TcpConnectionValid' } // 14
  | { readonly type: 'TcpCrInvalid' } // 15
  | { readonly type: 'TcpCrAcked' } // 16: our outbound connection completed
  | { readonly type: 'TcpConnectionConfirmed' } // 17: the peer's inbound connection completed
  | { readonly type: 'TcpConnectionFails' } // 18
  | { readonly type: 'BGPOpen'; readonly open: OpenMessage } // 19 (validated here: invalid → as 22)
  | { readonly type: 'BGPHeaderErr'; readonly error: NotificationSpec } // 21
  | { readonly type: 'BGPOpenMsgErr'; readonly error: NotificationSpec } // 22
  | { readonly type: 'OpenCollisionDump' } // 23
  | { readonly type: 'NotifMsgVerErr'; readonly notification: NotificationSpec } // 24
  | { readonly type: 'NotifMsg'; readonly notification: NotificationSpec } // 25
  | { readonly type: 'KeepAliveMsg' } // 26
  | { readonly type: 'UpdateMsg' } // 27
  | { readonly type: 'UpdateMsgErr'; readonly error: NotificationSpec & { readonly action: ErrorAction } } // 28
  | { readonly type: 'RouteRefreshMsg' }; // not in RFC 4271: a ROUTE-REFRESH (RFC 2918) arrived

export type FsmEventType = FsmEvent['type'];

// ---- actions ------------------------------------------------------------------------------------------

export type FsmAction =
  /** "Initializes all BGP resources for the peer connection" (Idle, on start). */
  | { readonly type: 'InitializeResources' }
  /** "Releases all BGP resources" — the driver forgets the connection's codec context and queues. */
  | { readonly type: 'ReleaseResources' }
  /** Dial the peer (peer-port, source-address). */
  | { readonly type: 'ConnectTcp' }
  /** Accept a connection from the peer's address (the listener is shared; this enables it for this peer). */
  | { readonly type: 'ListenTcp' }
  /** Close the TCP connection (after flushing a NOTIFICATION queued just before, if any). */
  | { readonly type: 'DropTcp' }
  | { readonly type: 'SendOpen' }
  | { readonly type: 'SendKeepalive' }
  | ({ readonly type: 'SendNotification' } & NotificationSpec)
  /** Start, or restart if running, a timer that fires once after `ms`. */
  | { readonly type: 'StartTimer'; readonly timer: TimerName; readonly ms: number }
  /** Stop a timer ("set it to zero" in RFC 4271 words). Stopping a stopped timer is harmless. */
  | { readonly type: 'StopTimer'; readonly timer: TimerName }
  | { readonly type: 'IncrementConnectRetryCounter' }
  /** Entered Established: the driver sends the Adj-RIB-Out and reports the session up. */
  | { readonly type: 'SessionUp'; readonly negotiated: Negotiated }
  /** Left Established: "deletes all routes associated with this connection"; report the session down. */
  | { readonly type: 'SessionDown'; readonly reason: LastError }
  /**
   * Hand the received UPDATE to the RIB. With `errorAction` it is an RFC 7606 treat-as-withdraw or
   * attribute-discard UPDATE: its prefixes are withdrawn (or the attribute dropped) and the session stays up.
   */
  | { readonly type: 'ProcessUpdate'; readonly errorAction?: Exclude<ErrorAction, 'session-reset'> }
  /** Re-send the Adj-RIB-Out (RFC 2918 §4). */
  | { readonly type: 'ProcessRouteRefresh' };

export interface Transition {
  readonly fsm: Fsm;
  readonly actions: readonly FsmAction[];
}

export function createFsm(config: FsmConfig): Fsm {
  validateFsmConfig(config);
  return {
    config,
    state: 'Idle',
    connectRetryCounter: 0,
    passive: false,
    negotiated: undefined,
    lastError: undefined,
  };
}

export function validateFsmConfig(c: FsmConfig): void {
  const u32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
  const u16 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffff;
  if (!u32(c.localAs) || c.localAs === 0) throw new RangeError(`localAs ${c.localAs} is not a valid AS`);
  if (!u32(c.peerAs) || c.peerAs === 0) throw new RangeError(`peerAs ${c.peerAs} is not a valid AS`);
  if (!u32(c.localBgpId) || c.localBgpId === 0) throw new RangeError('localBgpId must be a non-zero 32-bit value');
  if (!u16(c.holdTime) || c.holdTime === 1 || c.holdTime === 2) throw new RangeError('holdTime must be 0 or 3–65535');
  if (c.keepaliveTime !== undefined && (!u16(c.keepaliveTime) || c.keepaliveTime === 0))
    throw new RangeError('keepaliveTime must be 1–65535');
  if (c.connectRetryTime !== undefined && !(c.connectRetryTime > 0)) throw new RangeError('connectRetryTime must be > 0');
  if (c.openHoldTime !== undefined && !(c.openHoldTime >= 3)) throw new RangeError('openHoldTime must be >= 3');
}

// ---- OPEN validation (RFC 4271 §6.2, RFC 6793, RFC 6286) ------------------------------------------------

export type OpenCheck =
  | { readonly ok: true; readonly negotiated: Negotiated }
  | { readonly ok: false; readonly error: NotificationSpec; readonly reason: string };

const EMPTY = new Uint8Array(0);

function openError(subcode: OpenSubcode, reason: string, data: Uint8Array = EMPTY): OpenCheck {
  return { ok: false, error: { code: NotificationCode.OpenMessageError, subcode, data }, reason };
}

/** The peer's real AS: the 4-octet AS capability wins over the 2-octet My AS field (RFC 6793 §4.1). */
export function openPeerAs(open: OpenMessage): { asn: number; fourOctet: boolean } {
  const asn = fourOctetAsOf(open.capabilities);
  return asn === undefined ? { asn: open.myAs, fourOctet: false } : { asn, fourOctet: true };
}

/** Negotiated keepalive: configured keepalive-time or hold/3, never more than hold/3, at least 1 s. */
export function negotiateKeepalive(holdTime: number, configured: number | undefined): number {
  if (holdTime === 0) return 0;
  const third = Math.max(1, Math.floor(holdTime / 3));
  return configured === undefined ? third : Math.min(configured, third);
}

export function validateOpen(config: FsmConfig, open: OpenMessage): OpenCheck {
  // §6.2: version first; the data is the largest version we support (2 octets).
  if (open.version !== BGP_VERSION)
    return openError(OpenSubcode.UnsupportedVersionNumber, `version ${open.version}`, new Uint8Array([0, BGP_VERSION]));
  const { asn, fourOctet } = openPeerAs(open);
  // RFC 7607: AS 0 is never acceptable. RFC 6793 §4.1: a 4-octet speaker whose AS fits in 2 octets must put
  // it in My AS too; a peer with AS_TRANS in My AS and no capability is an old speaker that cannot be > 65535.
  if (asn === 0 || open.myAs === 0) return openError(OpenSubcode.BadPeerAs, 'peer AS 0');
  if (!fourOctet && open.myAs === AS_TRANS && config.peerAs !== AS_TRANS)
    return openError(OpenSubcode.BadPeerAs, `peer sent AS_TRANS without the 4-octet AS capability`);
  if (asn !== config.peerAs) return openError(OpenSubcode.BadPeerAs, `peer AS ${asn}, expected ${config.peerAs}`);
  // §6.2 and §4.2: a Hold Time of 1 or 2 seconds must be rejected.
  if (open.holdTime === 1 || open.holdTime === 2)
    return openError(OpenSubcode.UnacceptableHoldTime, `hold time ${open.holdTime}`);
  // RFC 6286 §2.2: the identifier is a non-zero 4-octet value; within one AS it must differ from ours.
  const id = open.bgpIdentifier >>> 0;
  if (id === 0) return openError(OpenSubcode.BadBgpIdentifier, 'BGP Identifier 0');
  if (asn === config.localAs && id === config.localBgpId >>> 0)
    return openError(OpenSubcode.BadBgpIdentifier, 'iBGP peer uses our BGP Identifier');
  // §6.2: the only optional parameter we recognise is Capabilities (RFC 5492); the decoder keeps any other
  // one opaque in `parameters`, and RFC 4271's own (Authentication) is deprecated.
  const unknown = open.parameters[0];
  if (unknown !== undefined)
    return openError(OpenSubcode.UnsupportedOptionalParameter, `optional parameter type ${unknown.type}`);
  const holdTime = Math.min(config.holdTime, open.holdTime);
  return {
    ok: true,
    negotiated: {
      holdTime,
      keepaliveTime: negotiateKeepalive(holdTime, config.keepaliveTime),
      peerAs: asn,
      peerBgpId: id,
      peerFourOctetAs: fourOctet,
      open,
    },
  };
}

// ---- the transition function -----------------------------------------------------------------------------

const connectRetryMs = (c: FsmConfig) => (c.connectRetryTime ?? DEFAULT_CONNECT_RETRY_TIME) * 1000;
const openHoldMs = (c: FsmConfig) => (c.openHoldTime ?? DEFAULT_OPEN_HOLD_TIME) * 1000;

/** The FSM Error subcode for an unexpected *message* in each state (RFC 6608 §4). */
function fsmSubcodeFor(state: BgpState): FsmSubcode {
  switch (state) {
    case 'OpenSent':
      return FsmSubcode.UnexpectedMessageInOpenSent;
    case 'OpenConfirm':
      return FsmSubcode.UnexpectedMessageInOpenConfirm;
    case 'Established':
      return FsmSubcode.UnexpectedMessageInEstablished;
    default:
      return FsmSubcode.UnspecifiedError;
  }
}

/** Events that are a received BGP message (as opposed to timers, TCP or operator events). */
const MESSAGE_EVENTS: ReadonlySet<FsmEventType> = new Set<FsmEventType>([
  'BGPOpen',
  'BGPHeaderErr',
  'BGPOpenMsgErr',
  'NotifMsgVerErr',
  'NotifMsg',
  'KeepAliveMsg',
  'UpdateMsg',
  'UpdateMsgErr',
  'RouteRefreshMsg',
]);

/** The FSM Error NOTIFICATION for `event` arriving in `state` (RFC 4271 §6.6, RFC 6608 §4). */
export function fsmError(state: BgpState, event: FsmEventType): NotificationSpec {
  return {
    code: NotificationCode.FiniteStateMachineError,
    subcode: MESSAGE_EVENTS.has(event) ? fsmSubcodeFor(state) : FsmSubcode.UnspecifiedError,
    data: EMPTY,
  };
}

function cease(ev: StopOptions): NotificationSpec {
  return { code: NotificationCode.Cease, subcode: ev.subcode ?? CeaseSubcode.Unspecific, data: ev.data ?? EMPTY };
}

interface DownOptions {
  /** NOTIFICATION to send before closing. */
  readonly send?: NotificationSpec;
  /** NOTIFICATION that was received (for lastError). */
  readonly received?: NotificationSpec;
  /** ConnectRetryCounter: +1 (failure), 0 (operator stop) or unchanged. */
  readonly counter: 'increment' | 'reset' | 'keep';
}

/**
 * Every way back to Idle from a state with (possibly) a connection: optional NOTIFICATION, stop all timers,
 * delete routes (SessionDown) if Established, release resources, drop TCP, ConnectRetryCounter bookkeeping.
 */
function toIdle(fsm: Fsm, event: FsmEvent, o: DownOptions): Transition {
  const actions: FsmAction[] = [];
  const notification = o.send
    ? { ...o.send, direction: 'sent' as const }
    : o.received
      ? { ...o.received, direction: 'received' as const }
      : undefined;
  const lastError: LastError = notification
    ? { event: event.type, state: fsm.state, notification }
    : { event: event.type, state: fsm.state };
  if (o.send) actions.push({ type: 'SendNotification', code: o.send.code, subcode: o.send.subcode, data: o.send.data });
  for (const timer of TIMER_NAMES) actions.push({ type: 'StopTimer', timer });
  if (fsm.state === 'Established') actions.push({ type: 'SessionDown', reason: lastError });
  actions.push({ type: 'ReleaseResources' }, { type: 'DropTcp' });
  let counter = fsm.connectRetryCounter;
  if (o.counter === 'increment') {
    counter++;
    actions.push({ type: 'IncrementConnectRetryCounter' });
  } else if (o.counter === 'reset') counter = 0;
  return {
    fsm: { ...fsm, state: 'Idle', connectRetryCounter: counter, negotiated: undefined, lastError },
    actions,
  };
}

const stay = (fsm: Fsm, actions: FsmAction[] = []): Transition => ({ fsm, actions });
const moveTo = (fsm: Fsm, state: BgpState, actions: FsmAction[], patch: Partial<Fsm> = {}): Transition => ({
  fsm: { ...fsm, ...patch, state },
  actions,
});

function isStart(e: FsmEvent): e is Extract<FsmEvent, { type: 'ManualStart' | 'AutomaticStart' }> {
  return e.type === 'ManualStart' || e.type === 'AutomaticStart';
}

/** Actions that move a connected FSM to OpenSent: §8.2.2 Connect/Active on Tcp_CR_Acked/TcpConnectionConfirmed. */
function sendOpen(fsm: Fsm): Transition {
  return moveTo(fsm, 'OpenSent', [
    { type: 'StopTimer', timer: 'ConnectRetry' },
    { type: 'SendOpen' },
    // §8.2.2: "sets the HoldTimer to a large value"; the peer's OPEN must come within it.
    { type: 'StartTimer', timer: 'Hold', ms: openHoldMs(fsm.config) },
  ]);
}

export function step(fsm: Fsm, event: FsmEvent): Transition {
  switch (fsm.state) {
    case 'Idle':
      return idle(fsm, event);
    case 'Connect':
      return connectOrActive(fsm, event);
    case 'Active':
      return connectOrActive(fsm, event);
    case 'OpenSent':
      return openSent(fsm, event);
    case 'OpenConfirm':
      return openConfirm(fsm, event);
    case 'Established':
      return established(fsm, event);
  }
}

// §8.2.2 Idle: only start events do anything; everything else is ignored and incoming connections refused.
function idle(fsm: Fsm, event: FsmEvent): Transition {
  if (!isStart(event)) return stay(fsm);
  const passive = event.passive === true;
  const counter = event.type === 'ManualStart' ? 0 : fsm.connectRetryCounter;
  const actions: FsmAction[] = [
    { type: 'InitializeResources' },
    { type: 'StartTimer', timer: 'ConnectRetry', ms: event.connectRetryMs ?? connectRetryMs(fsm.config) },
  ];
  // §8.2.2: ManualStart (1) sets the ConnectRetryCounter to zero; so does AutomaticStart (3) in the RFC text,
  // but then the counter could never reach a damping threshold. ingot keeps counting across automatic
  // restarts (the driver's backoff reads it) and resets it on ManualStart and ManualStop only.
  if (passive) {
    actions.push({ type: 'ListenTcp' });
    return moveTo(fsm, 'Active', actions, { passive: true, connectRetryCounter: counter });
  }
  actions.push({ type: 'ConnectTcp' }, { type: 'ListenTcp' });
  return moveTo(fsm, 'Connect', actions, { passive: false, connectRetryCounter: counter });
}

// §8.2.2 Connect and Active (without DelayOpen the two differ only in ManualStop details, ConnectRetryTimer
// expiry and TcpConnectionFails).
function connectOrActive(fsm: Fsm, event: FsmEvent): Transition {
  const inConnect = fsm.state === 'Connect';
  switch (event.type) {
    case 'ManualStart':
    case 'AutomaticStart':
      return stay(fsm);
    case 'ManualStop':
      return toIdle(fsm, event, { counter: 'reset' });
    case 'ConnectRetryTimerExpires': {
      const actions: FsmAction[] = [];
      // Connect: "drops the TCP connection, restarts the ConnectRetryTimer, … initiates a TCP connection".
      // Active: "restarts the ConnectRetryTimer, initiates a TCP connection, … changes its state to Connect".
      if (inConnect) actions.push({ type: 'DropTcp' });
      actions.push(
        { type: 'StartTimer', timer: 'ConnectRetry', ms: connectRetryMs(fsm.config) },
        { type: 'ConnectTcp' },
        { type: 'ListenTcp' },
      );
      return moveTo(fsm, 'Connect', actions);
    }
    case 'TcpConnectionValid':
    case 'TcpCrInvalid':
      // 14: "the TCP connection is processed"; 15: "the local system rejects the TCP connection". Accepting
      // or refusing the socket is the driver's job; the FSM state does not change.
      return stay(fsm);
    case 'TcpCrAcked':
    case 'TcpConnectionConfirmed':
      return sendOpen(fsm);
    case 'TcpConnectionFails':
      // Connect: "drops the TCP connection, releases all BGP resources, and changes its state to Idle" (the
      // RFC does not count it; ingot does, so a refused dial backs off like any other failure). Active: counted.
      return toIdle(fsm, event, { counter: 'increment' });
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      return toIdle(fsm, event, {
        counter: 'increment',
        ...(fsm.config.sendNotificationWithoutOpen ? { send: event.error } : {}),
      });
    case 'NotifMsgVerErr':
      return toIdle(fsm, event, { counter: 'increment', received: event.notification });
    case 'NotifMsg':
      return toIdle(fsm, event, { counter: 'increment', received: event.notification });
    default:
      // 8, 10-11, 19, 23, 26-28 (and ROUTE-REFRESH): no connection to answer on; go to Idle, counted.
      return toIdle(fsm, event, { counter: 'increment' });
  }
}

// §8.2.2 OpenSent: our OPEN is out; waiting for the peer's.
function openSent(fsm: Fsm, event: FsmEvent): Transition {
  switch (event.type) {
    case 'ManualStart':
    case 'AutomaticStart':
      return stay(fsm);
    case 'ManualStop':
      return toIdle(fsm, event, { counter: 'reset', send: cease(event) });
    case 'AutomaticStop':
      return toIdle(fsm, event, { counter: 'increment', send: cease(event) });
    case 'HoldTimerExpires':
      return toIdle(fsm, event, { counter: 'increment', send: holdTimerExpired() });
    case 'TcpConnectionValid':
    case 'TcpCrAcked':
    case 'TcpConnectionConfirmed':
    case 'TcpCrInvalid':
      // A second connection from the same peer: tracked by the driver for collision detection (§6.8).
      return stay(fsm);
    case 'TcpConnectionFails':
      // Deviation: §8.2.2 goes to Active and waits a full ConnectRetryTime without counting the failure. A
      // peer that closes right after our OPEN would then be redialled at a fixed rate forever; going to Idle
      // and counting it lets the driver's backoff grow instead (the driver restarts passive, so we still
      // listen). See FSM.md.
      return toIdle(fsm, event, { counter: 'increment' });
    case 'BGPOpen': {
      const check = validateOpen(fsm.config, event.open);
      if (!check.ok) return toIdle(fsm, { type: 'BGPOpenMsgErr', error: check.error }, { counter: 'increment', send: check.error });
      const n = check.negotiated;
      const actions: FsmAction[] = [{ type: 'StopTimer', timer: 'ConnectRetry' }, { type: 'SendKeepalive' }];
      if (n.holdTime === 0) {
        // §4.2: a hold time of zero means no hold timer and no periodic KEEPALIVEs.
        actions.push({ type: 'StopTimer', timer: 'Hold' }, { type: 'StopTimer', timer: 'Keepalive' });
      } else {
        actions.push(
          { type: 'StartTimer', timer: 'Keepalive', ms: n.keepaliveTime * 1000 },
          { type: 'StartTimer', timer: 'Hold', ms: n.holdTime * 1000 },
        );
      }
      return moveTo(fsm, 'OpenConfirm', actions, { negotiated: n });
    }
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      return toIdle(fsm, event, { counter: 'increment', send: event.error });
    case 'OpenCollisionDump':
      return toIdle(fsm, event, { counter: 'increment', send: collisionCease() });
    case 'NotifMsgVerErr':
      return toIdle(fsm, event, { counter: 'keep', received: event.notification });
    case 'NotifMsg':
      // Deviation: §8.2.2 lists NotifMsg (25) among "any other event" in OpenSent, which would answer a
      // NOTIFICATION with an FSM Error NOTIFICATION on a connection the peer is already closing. The most
      // common refusal (Bad Peer AS, Administrative Shutdown) arrives exactly here; ingot treats it as in
      // OpenConfirm: no reply, counted as a failure so the backoff grows.
      return toIdle(fsm, event, { counter: 'increment', received: event.notification });
    default:
      // 9, 11, 26-28 and ROUTE-REFRESH: FSM Error, subcode per RFC 6608.
      return toIdle(fsm, event, { counter: 'increment', send: fsmError('OpenSent', event.type) });
  }
}

// §8.2.2 OpenConfirm: both OPENs exchanged; waiting for the peer's KEEPALIVE.
function openConfirm(fsm: Fsm, event: FsmEvent): Transition {
  switch (event.type) {
    case 'ManualStart':
    case 'AutomaticStart':
      return stay(fsm);
    case 'ManualStop':
      return toIdle(fsm, event, { counter: 'reset', send: cease(event) });
    case 'AutomaticStop':
      return toIdle(fsm, event, { counter: 'increment', send: cease(event) });
    case 'HoldTimerExpires':
      return toIdle(fsm, event, { counter: 'increment', send: holdTimerExpired() });
    case 'KeepaliveTimerExpires':
      return stay(fsm, keepaliveTick(fsm));
    case 'TcpConnectionValid':
    case 'TcpCrAcked':
    case 'TcpConnectionConfirmed':
    case 'TcpCrInvalid':
      return stay(fsm);
    case 'TcpConnectionFails':
      return toIdle(fsm, event, { counter: 'increment' });
    case 'NotifMsg':
      return toIdle(fsm, event, { counter: 'increment', received: event.notification });
    case 'NotifMsgVerErr':
      return toIdle(fsm, event, { counter: 'keep', received: event.notification });
    case 'BGPOpen':
      // A second OPEN on this connection. (An OPEN on the *other* connection is the driver's collision
      // case, which arrives here as OpenCollisionDump.) RFC 6608: unexpected message in OpenConfirm.
      return toIdle(fsm, event, { counter: 'increment', send: fsmError('OpenConfirm', event.type) });
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      return toIdle(fsm, event, { counter: 'increment', send: event.error });
    case 'OpenCollisionDump':
      return toIdle(fsm, event, { counter: 'increment', send: collisionCease() });
    case 'KeepAliveMsg': {
      const n = fsm.negotiated;
      if (n === undefined) throw new Error('OpenConfirm without negotiated parameters');
      const actions: FsmAction[] = [];
      if (n.holdTime > 0) actions.push({ type: 'StartTimer', timer: 'Hold', ms: n.holdTime * 1000 });
      actions.push({ type: 'SessionUp', negotiated: n });
      return moveTo(fsm, 'Established', actions);
    }
    default:
      // 9, 27, 28 and ROUTE-REFRESH.
      return toIdle(fsm, event, { counter: 'increment', send: fsmError('OpenConfirm', event.type) });
  }
}

// §8.2.2 Established.
function established(fsm: Fsm, event: FsmEvent): Transition {
  const n = fsm.negotiated;
  if (n === undefined) throw new Error('Established without negotiated parameters');
  const restartHold = (): FsmAction[] =>
    n.holdTime > 0 ? [{ type: 'StartTimer', timer: 'Hold', ms: n.holdTime * 1000 }] : [];
  switch (event.type) {
    case 'ManualStart':
    case 'AutomaticStart':
      return stay(fsm);
    case 'ManualStop':
      return toIdle(fsm, event, { counter: 'reset', send: cease(event) });
    case 'AutomaticStop':
      return toIdle(fsm, event, { counter: 'increment', send: cease(event) });
    case 'HoldTimerExpires':
      return toIdle(fsm, event, { counter: 'increment', send: holdTimerExpired() });
    case 'KeepaliveTimerExpires':
      return stay(fsm, keepaliveTick(fsm));
    case 'TcpConnectionValid':
    case 'TcpCrAcked':
    case 'TcpConnectionConfirmed':
    case 'TcpCrInvalid':
      // A new connection while Established loses the collision (CollisionDetectEstablishedState FALSE);
      // the driver closes it. This connection is unaffected.
      return stay(fsm);
    case 'TcpConnectionFails':
      return toIdle(fsm, event, { counter: 'increment' });
    case 'NotifMsg':
    case 'NotifMsgVerErr':
      return toIdle(fsm, event, { counter: 'increment', received: event.notification });
    case 'OpenCollisionDump':
      return toIdle(fsm, event, { counter: 'increment', send: collisionCease() });
    case 'KeepAliveMsg':
      return stay(fsm, restartHold());
    case 'UpdateMsg':
      return stay(fsm, [...restartHold(), { type: 'ProcessUpdate' }]);
    case 'UpdateMsgErr':
      // RFC 7606 §2: treat-as-withdraw and attribute-discard keep the session; only session-reset sends the
      // UPDATE Message Error NOTIFICATION of RFC 4271 §6.3.
      if (event.error.action !== 'session-reset')
        return stay(fsm, [...restartHold(), { type: 'ProcessUpdate', errorAction: event.error.action }]);
      return toIdle(fsm, event, { counter: 'increment', send: event.error });
    case 'RouteRefreshMsg':
      return stay(fsm, [...restartHold(), { type: 'ProcessRouteRefresh' }]);
    case 'BGPHeaderErr':
      // Deviation: §8.2.2 lists event 21 under "any other event" (FSM Error) in Established, but §6.1 says
      // every header error MUST be reported as Message Header Error; ingot follows §6.1.
      return toIdle(fsm, event, { counter: 'increment', send: event.error });
    default:
      // 9, 19, 22 (an OPEN, valid or not, has no business in Established: RFC 6608 subcode 3).
      return toIdle(fsm, event, { counter: 'increment', send: fsmError('Established', event.type) });
  }
}

function keepaliveTick(fsm: Fsm): FsmAction[] {
  const n = fsm.negotiated;
  // §8.2.2: a KeepaliveTimer never runs with a zero hold time; if it fires anyway, do nothing.
  if (n === undefined || n.keepaliveTime === 0) return [];
  return [{ type: 'SendKeepalive' }, { type: 'StartTimer', timer: 'Keepalive', ms: n.keepaliveTime * 1000 }];
}

function holdTimerExpired(): NotificationSpec {
  return { code: NotificationCode.HoldTimerExpired, subcode: 0, data: EMPTY };
}

function collisionCease(): NotificationSpec {
  return { code: NotificationCode.Cease, subcode: CeaseSubcode.ConnectionCollisionResolution, data: EMPTY };
}
