// The session driver: the I/O edge around the pure FSM (fsm.ts). It owns the TCP connection(s) to one peer,
// the Framer, the three RFC 4271 §8 timers (through an injected Clock), the send queues and the backoff, and
// it performs the FSM's actions in order. Everything it decides itself is small: which connection an event
// belongs to, collision handling between two connections (collision.ts), and when to restart.
//
// Send path: two queues per connection. OPEN, KEEPALIVE and NOTIFICATION go to the urgent queue and are
// written before any queued UPDATE; UPDATEs are written only while the socket accepts data (socket.write()
// returning false means wait for 'drain', Node's back-pressure signal). So at most one socket buffer of
// UPDATEs (writableHighWaterMark) can ever be ahead of a KEEPALIVE, however large the burst.
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import type { Clock, TimerHandle } from '../clock.js';
import { systemClock } from '../clock.js';
import {
  DEFAULT_BACKOFF_POLICY,
  INITIAL_BACKOFF,
  nextDelay,
  onDown,
  onEstablished,
  type BackoffPolicy,
  type BackoffState,
} from '../backoff.js';
import { resolveCollision, type ConnectionDirection } from './collision.js';
import { decodeMessage, encodeMessage, KEEPALIVE } from './codec.js';
import { INITIAL_CONTEXT, negotiateContext } from './context.js';
import { capability } from './capabilities.js';
import { Afi, BGP_PORT, BGP_VERSION, CeaseSubcode, MessageType, NotificationCode, OpenSubcode, Safi } from './constants.js';
import { BgpError } from './errors.js';
import { Framer } from './framer.js';
import { myAsField } from './open.js';
import {
  createFsm,
  step,
  type BgpState,
  type Fsm,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type LastError,
  type Negotiated,
  type TimerName,
} from './fsm.js';
import type { Capability, CodecContext, OpenMessage, UpdateMessage } from './types.js';

export interface SessionOptions {
  readonly peerAddress: string;
  /** `peer-port` (default 179). */
  readonly peerPort?: number;
  /** `source-address`: bind outgoing connections to it. */
  readonly localAddress?: string;
  readonly localAs: number;
  readonly peerAs: number;
  /** Our BGP Identifier (`router-id`) as an unsigned 32-bit number. */
  readonly routerId: number;
  /** Seconds (0 or 3–65535). */
  readonly holdTime: number;
  readonly keepaliveTime?: number;
  readonly connectRetryTime?: number;
  readonly openHoldTime?: number;
  /** Dial the peer (default true). False: only accept its connections. */
  readonly dial?: boolean;
  /**
   * Capabilities for our OPEN. Default: MP IPv4 and IPv6 unicast (RFC 4760), route refresh (RFC 2918), and
   * 4-octet AS (RFC 6793, always added).
   */
  readonly capabilities?: readonly Capability[];
  readonly backoff?: BackoffPolicy;
  /** How long a closing connection may take to flush its NOTIFICATION before it is destroyed (ms). */
  readonly closeTimeoutMs?: number;
}

export interface SessionDeps {
  readonly clock?: Clock;
  /** Uniform [0, 1) samples for the backoff jitter. */
  readonly random?: () => number;
  /** Opens the outgoing TCP connection (tests substitute it). */
  readonly connect?: (opts: net.TcpNetConnectOpts) => net.Socket;
}

export interface DownEvent {
  readonly reason: LastError;
}

export interface SessionEvents {
  /** Entered Established. `context` is what the codec needs for this session (negotiateContext). */
  established: [negotiated: Negotiated, context: CodecContext];
  /** Left Established (routes learned from the peer are gone). */
  down: [reason: LastError];
  /** The FSM of the main connection changed state. */
  state: [from: BgpState, to: BgpState];
  /** An UPDATE arrived. `treatAsWithdraw` (RFC 7606): withdraw every prefix it names. */
  update: [update: UpdateMessage, treatAsWithdraw: boolean];
  /** The peer asked for the Adj-RIB-Out again (RFC 2918). */
  routeRefresh: [];
  /** The UPDATE queue has been written to the socket completely (back-pressure relief). */
  drained: [];
  /** The session finished stopping (after stop()). */
  stopped: [];
  /**
   * An unexpected exception (a bug, or a throwing listener) in a socket handler, a timer or an FSM action.
   * The session has already recovered: connection dropped, FSM in Idle (lastError.error says why) and,
   * unless stopped, a restart scheduled. `where` names the handler ('data', 'timer Hold', 'action SendOpen' …).
   */
  internalError: [error: unknown, where: string];
}

const DEFAULT_CLOSE_TIMEOUT_MS = 3000;

/** One TCP connection with its own FSM (RFC 4271 §8: one FSM per connection). */
interface Conn {
  fsm: Fsm;
  direction: ConnectionDirection;
  socket: net.Socket | undefined;
  /** True once the socket is connected (outgoing) or accepted (incoming). */
  connected: boolean;
  framer: Framer;
  context: CodecContext;
  readonly timers: Map<TimerName, TimerHandle>;
  urgent: Uint8Array[];
  bulk: Uint8Array[];
  bulkBytes: number;
  waitingDrain: boolean;
  closing: boolean;
  listening: boolean;
  /** The message being handed to the FSM, for ProcessUpdate. */
  current: UpdateMessage | undefined;
  /** The OPEN this connection sent: negotiation uses it even if setCapabilities() ran since. */
  sentOpen: OpenMessage | undefined;
  /** 'established' was emitted and 'down' not yet: a recovery must report the session down. */
  up: boolean;
  /** A NOTIFICATION was queued on this TCP connection (a recovery does not send a second one). */
  notified: boolean;
  /** A recovery is running for this connection (a failure inside it must not recurse). */
  recovering: boolean;
}

export class BgpSession extends EventEmitter<SessionEvents> {
  readonly options: SessionOptions;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly connectFn: (opts: net.TcpNetConnectOpts) => net.Socket;
  private readonly fsmConfig: FsmConfig;
  private localOpen: OpenMessage;
  private readonly backoffPolicy: BackoffPolicy;
  private backoff: BackoffState = INITIAL_BACKOFF;
  /** The main connection; `other` exists only while two connections race (§6.8). */
  private main: Conn;
  private other: Conn | undefined;
  private running = false;
  private readonly closingSockets = new Set<net.Socket>();
  /** The last non-protocol exception caught while handling received data (for /status and logs). */
  internalError: unknown = undefined;
  /** Connection attempts made (dials), for tests and /status. */
  dials = 0;
  /** Messages sent and received, by RFC 4271 message type number (for /status and tests). */
  readonly sent: Record<number, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
  readonly received: Record<number, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };

  constructor(options: SessionOptions, deps: SessionDeps = {}) {
    super();
    this.options = options;
    // Not unref()ed: a dial-only speaker waiting out its backoff has nothing else keeping the process alive.
    this.clock = deps.clock ?? systemClock();
    this.random = deps.random ?? Math.random;
    this.connectFn = deps.connect ?? ((o) => net.connect(o));
    this.backoffPolicy = options.backoff ?? DEFAULT_BACKOFF_POLICY;
    this.fsmConfig = {
      localAs: options.localAs,
      peerAs: options.peerAs,
      localBgpId: options.routerId,
      holdTime: options.holdTime,
      ...(options.keepaliveTime !== undefined ? { keepaliveTime: options.keepaliveTime } : {}),
      ...(options.connectRetryTime !== undefined ? { connectRetryTime: options.connectRetryTime } : {}),
      ...(options.openHoldTime !== undefined ? { openHoldTime: options.openHoldTime } : {}),
    };
    this.localOpen = buildOpen(options);
    this.main = this.newConn('outbound');
  }

  /**
   * Capabilities for the OPENs sent from now on (a connection already past OpenSent keeps the OPEN it sent).
   * The graceful-restart capability needs it: its Restart State bit belongs to the first OPENs after a
   * restart only (RFC 4724 §3).
   */
  setCapabilities(capabilities: readonly Capability[]): void {
    this.localOpen = buildOpen({ ...this.options, capabilities });
  }

  /** RFC 4271 state of the session (of the main connection). */
  get state(): BgpState {
    return this.main.fsm.state;
  }

  get lastError(): LastError | undefined {
    return this.main.fsm.lastError;
  }

  get negotiated(): Negotiated | undefined {
    return this.main.fsm.state === 'Established' ? this.main.fsm.negotiated : undefined;
  }

  /** The codec context of the Established session (INITIAL_CONTEXT before). */
  get context(): CodecContext {
    return this.main.context;
  }

  /** Who opened the main connection: 'outbound' (we dialled) or 'inbound' (the peer did). */
  get direction(): ConnectionDirection {
    return this.main.direction;
  }

  /**
   * Local and remote endpoint of the main connection's socket, once connected. The speaker needs the local
   * address for NEXT_HOP self (RFC 4271 §5.1.3) and to pick the IPv6 next hop's interface.
   */
  get socketAddresses(): { local: string; localPort: number; remote: string; remotePort: number } | undefined {
    const s = this.main.socket;
    if (s === undefined || !this.main.connected || s.localAddress === undefined || s.remoteAddress === undefined) return undefined;
    return { local: s.localAddress, localPort: s.localPort ?? 0, remote: s.remoteAddress, remotePort: s.remotePort ?? 0 };
  }

  /** Octets of UPDATEs queued and not yet handed to the socket. */
  get pendingBytes(): number {
    return this.main.bulkBytes;
  }

  /** ManualStart (event 1): dial (unless `dial: false`) and accept the peer's connections. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.backoff = INITIAL_BACKOFF;
    this.feed(this.main, { type: 'ManualStart', passive: this.options.dial === false });
  }

  /**
   * ManualStop (event 2): Cease (default Administrative Shutdown, with an RFC 9003 shutdown communication
   * when `message` is given) on every connection that has sent its OPEN, then close. Resolves when closed.
   */
  async stop(opts: { subcode?: CeaseSubcode; message?: string } = {}): Promise<void> {
    this.running = false;
    const ev: FsmEvent = {
      type: 'ManualStop',
      subcode: opts.subcode ?? CeaseSubcode.AdministrativeShutdown,
      ...(opts.message !== undefined ? { data: shutdownCommunication(opts.message) } : {}),
    };
    const closed = [...this.closingSockets].map(waitClosed);
    for (const c of [this.other, this.main]) {
      if (c === undefined) continue;
      const s = c.socket;
      if (s) closed.push(waitClosed(s));
      this.feed(c, ev);
      this.stopAllTimers(c);
    }
    this.other = undefined;
    await Promise.all(closed);
    this.emit('stopped');
  }

  /**
   * Hands over a connection the speaker's listener accepted from this peer's address (it already checked
   * the source address: TcpConnectionValid). Returns false if the connection was refused.
   */
  acceptInbound(socket: net.Socket): boolean {
    const m = this.main;
    const refuse = () => {
      socket.destroy();
      return false;
    };
    if (!this.running) return refuse();
    switch (m.fsm.state) {
      case 'Idle':
        // §8.2.2: Idle refuses all incoming connections.
        return refuse();
      case 'Active':
      case 'Connect':
        if (m.socket === undefined) {
          // Nothing of ours in flight: the peer's connection becomes the main one.
          this.attach(m, socket, 'inbound');
          this.feed(m, { type: 'TcpConnectionConfirmed' });
          return true;
        }
        // Our dial is in flight. Aborting it would race with the peer doing the same to its own dial (both
        // connections lost); instead both run and §6.8 picks one once OPENs arrive.
        return this.acceptSecond(socket);
      case 'OpenSent':
      case 'OpenConfirm':
        return this.acceptSecond(socket);
      case 'Established':
        // CollisionDetectEstablishedState is FALSE: the existing session wins, the new connection closes.
        return refuse();
    }
  }

  /** Two connections race (§6.8): the new one runs with its own FSM until an OPEN decides. */
  private acceptSecond(socket: net.Socket): boolean {
    if (this.other) this.closeConn(this.other);
    const c = this.newConn('inbound');
    this.other = c;
    this.feed(c, { type: 'AutomaticStart', passive: true });
    this.attach(c, socket, 'inbound');
    this.feed(c, { type: 'TcpConnectionConfirmed' });
    return true;
  }

  /**
   * Queues encoded UPDATE messages (from the packer) for the Established session. They are written behind
   * any KEEPALIVE/NOTIFICATION and only as fast as the socket drains. Returns false (and drops them) when
   * the session is not Established.
   */
  sendUpdates(messages: readonly Uint8Array[]): boolean {
    const c = this.main;
    if (c.fsm.state !== 'Established' || c.closing) return false;
    for (const m of messages) {
      c.bulk.push(m);
      c.bulkBytes += m.length;
    }
    this.pump(c);
    return true;
  }

  // ---- FSM plumbing -----------------------------------------------------------------------------------

  private newConn(direction: ConnectionDirection): Conn {
    return {
      fsm: createFsm(this.fsmConfig),
      direction,
      socket: undefined,
      connected: false,
      framer: new Framer(),
      context: INITIAL_CONTEXT,
      timers: new Map(),
      urgent: [],
      bulk: [],
      bulkBytes: 0,
      waitingDrain: false,
      closing: false,
      listening: false,
      current: undefined,
      sentOpen: undefined,
      up: false,
      notified: false,
      recovering: false,
    };
  }

  /**
   * Runs one FSM event: step, then every action in order. Nothing thrown here escapes: an exception from
   * step(), an action (e.g. encoding), or a listener of an event emitted by an action is handed to
   * recover(), which does what the remaining actions would have done on the way to Idle.
   */
  private feed(c: Conn, event: FsmEvent): void {
    const from = c.fsm.state;
    let where = `event ${event.type}`;
    try {
      const t = step(c.fsm, event);
      c.fsm = t.fsm;
      for (const a of t.actions) {
        where = `action ${a.type}`;
        this.perform(c, a);
      }
      where = `event ${event.type}`;
      const to = c.fsm.state;
      if (c === this.main && from !== to) this.emit('state', from, to);
      if (to === 'Idle' && from !== 'Idle') this.afterIdle(c, event);
    } catch (e) {
      this.recover(c, e, where, event.type, from);
    }
  }

  /**
   * Runs a socket handler or timer callback for `c`; anything it throws is recovered from (never an
   * uncaught exception that would take down every other session of the process).
   */
  private guard(c: Conn, where: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.recover(c, e, where, undefined, c.fsm.state);
    }
  }

  /**
   * The driver's last line of defence: an unexpected exception while handling `c`. Whatever state the
   * connection was left in, it ends like any failed session: a Cease if we had sent our OPEN and no
   * NOTIFICATION yet (best effort), timers stopped, 'down' reported if it was up, TCP dropped, the FSM in
   * Idle with lastError naming the exception, and (unless stopped) the usual backed-off restart.
   */
  private recover(c: Conn, e: unknown, where: string, eventType: FsmEvent['type'] | undefined, from: BgpState): void {
    this.internalError = e;
    const message = `${where}: ${e instanceof Error ? e.message : String(e)}`;
    const reentered = c.recovering;
    c.recovering = true;
    try {
      for (const t of [...c.timers.keys()]) {
        try {
          this.stopTimer(c, t);
        } catch {
          c.timers.delete(t); // a clock that throws: forget the handle, its callback checks c.timers anyway
        }
      }
      if (!c.notified && c.socket !== undefined && c.connected && c.sentOpen !== undefined && from !== 'Idle' && from !== 'Connect' && from !== 'Active') {
        try {
          this.sendUrgent(c, encodeMessage(
            { type: MessageType.Notification, code: NotificationCode.Cease, subcode: CeaseSubcode.Unspecific, data: new Uint8Array(0) },
            INITIAL_CONTEXT,
          ));
        } catch {
          // best effort: the connection is dropped below either way
        }
      }
      try {
        this.dropTcp(c);
      } catch {
        // dropTcp already forgot the socket before touching it; a throwing close leaves nothing to undo
        c.socket = undefined;
      }
      c.bulk = [];
      c.bulkBytes = 0;
      c.current = undefined;
      c.listening = false;
      const lastError: LastError = { event: eventType ?? 'AutomaticStop', state: from, error: message };
      c.fsm = { ...c.fsm, state: 'Idle', negotiated: undefined, lastError, connectRetryCounter: c.fsm.connectRetryCounter + 1 };
      const wasUp = c.up;
      c.up = false;
      // Listeners are called one by one and each guarded: one that throws again must not stop the others.
      const safeEmit = (fn: () => void) => {
        try {
          fn();
        } catch {
          // already recovering; the first exception is the one reported
        }
      };
      safeEmit(() => this.emit('internalError', e, where));
      if (wasUp) safeEmit(() => this.emit('down', lastError));
      if (c === this.main && from !== 'Idle') safeEmit(() => this.emit('state', from, 'Idle'));
      if (reentered) {
        // A failure inside a recovery (e.g. the restart itself threw): try again later, not recursively.
        if (c === this.main && this.running) {
          this.clock.setTimeout(() => {
            if (this.running && c === this.main && c.fsm.state === 'Idle') this.feed(c, { type: 'AutomaticStart', passive: true });
          }, this.options.backoff?.maxMs ?? DEFAULT_BACKOFF_POLICY.maxMs);
        }
        return;
      }
      this.afterIdle(c, { type: eventType ?? 'AutomaticStop' } as FsmEvent);
    } finally {
      if (!reentered) c.recovering = false;
    }
  }

  private perform(c: Conn, a: FsmAction): void {
    switch (a.type) {
      case 'InitializeResources':
        c.framer = new Framer();
        c.context = INITIAL_CONTEXT;
        c.closing = false;
        c.notified = false;
        return;
      case 'ReleaseResources':
        c.bulk = [];
        c.bulkBytes = 0;
        c.listening = false;
        c.current = undefined;
        return;
      case 'ConnectTcp':
        this.dial(c);
        return;
      case 'ListenTcp':
        c.listening = true;
        return;
      case 'DropTcp':
        this.dropTcp(c);
        return;
      case 'SendOpen':
        c.sentOpen = this.localOpen;
        this.sendUrgent(c, encodeMessage(this.localOpen, INITIAL_CONTEXT));
        return;
      case 'SendKeepalive':
        this.sendUrgent(c, encodeMessage(KEEPALIVE, c.context));
        return;
      case 'SendNotification':
        // encodeMessage cuts the data to the negotiated maximum (codec.ts notificationData).
        this.sendUrgent(
          c,
          encodeMessage({ type: MessageType.Notification, code: a.code, subcode: a.subcode, data: a.data }, c.context),
        );
        if (c.socket !== undefined) c.notified = true;
        return;
      case 'StartTimer':
        this.startTimer(c, a.timer, a.ms);
        return;
      case 'StopTimer':
        this.stopTimer(c, a.timer);
        return;
      case 'IncrementConnectRetryCounter':
        return; // the counter lives in the FSM state; the backoff is fed in afterIdle
      case 'SessionUp': {
        c.context = negotiateContext(c.sentOpen ?? this.localOpen, a.negotiated.open);
        c.framer.setContext(c.context);
        if (c === this.other) this.promote(c);
        this.backoff = onEstablished(this.backoff, this.clock.now());
        c.up = true;
        this.emit('established', a.negotiated, c.context);
        return;
      }
      case 'SessionDown':
        if (!c.up) return;
        c.up = false;
        this.emit('down', a.reason);
        return;
      case 'ProcessUpdate':
        if (c.current) this.emit('update', c.current, a.errorAction === 'treat-as-withdraw');
        return;
      case 'ProcessRouteRefresh':
        this.emit('routeRefresh');
        return;
    }
  }

  /** After a failure: count it, then wait in Active (listening) for the backoff delay and dial again. */
  private afterIdle(c: Conn, event: FsmEvent): void {
    this.stopAllTimers(c);
    if (c !== this.main) {
      // A connection that lost a collision (or was replaced): it is simply forgotten.
      if (c === this.other) this.other = undefined;
      return;
    }
    if (!this.running || event.type === 'ManualStop') return;
    if (this.other) {
      // The main connection lost a collision: the other one carries on as the main connection.
      this.promote(this.other);
      return;
    }
    this.backoff = onDown(this.backoffPolicy, this.backoff, this.clock.now());
    const delay = nextDelay(this.backoffPolicy, this.backoff, this.random());
    this.feed(c, { type: 'AutomaticStart', passive: true, connectRetryMs: delay });
  }

  /** Makes `c` the main connection; the old main one, if still alive, lost the collision (§6.8). */
  private promote(c: Conn): void {
    if (c === this.main) return;
    const old = this.main;
    this.main = c;
    this.other = undefined;
    if (old.fsm.state !== 'Idle') this.feed(old, { type: 'OpenCollisionDump' });
  }

  // ---- timers ---------------------------------------------------------------------------------------

  private startTimer(c: Conn, timer: TimerName, ms: number): void {
    this.stopTimer(c, timer);
    const ev: FsmEvent =
      timer === 'ConnectRetry'
        ? { type: 'ConnectRetryTimerExpires' }
        : timer === 'Hold'
          ? { type: 'HoldTimerExpires' }
          : { type: 'KeepaliveTimerExpires' };
    const h = this.clock.setTimeout(() => {
      if (c.timers.get(timer) !== h) return; // superseded
      c.timers.delete(timer);
      this.guard(c, `timer ${timer}`, () => this.feed(c, ev));
    }, ms);
    c.timers.set(timer, h);
  }

  private stopTimer(c: Conn, timer: TimerName): void {
    const h = c.timers.get(timer);
    if (h !== undefined) this.clock.clearTimeout(h);
    c.timers.delete(timer);
  }

  private stopAllTimers(c: Conn): void {
    for (const t of [...c.timers.keys()]) this.stopTimer(c, t);
  }

  // ---- TCP ------------------------------------------------------------------------------------------

  private dial(c: Conn): void {
    if (this.options.dial === false) return;
    if (c.socket) this.discardSocket(c.socket);
    c.socket = undefined;
    this.dials++;
    const opts: net.TcpNetConnectOpts = {
      host: this.options.peerAddress,
      port: this.options.peerPort ?? BGP_PORT,
      ...(this.options.localAddress !== undefined ? { localAddress: this.options.localAddress } : {}),
    };
    let socket: net.Socket;
    try {
      socket = this.connectFn(opts);
    } catch {
      // e.g. an invalid localAddress: report as a failed connection, asynchronously like a real one.
      this.clock.setTimeout(() => {
        if (c.socket === undefined && c.fsm.state === 'Connect') this.guard(c, 'dial', () => this.feed(c, { type: 'TcpConnectionFails' }));
      }, 0);
      return;
    }
    this.attach(c, socket, 'outbound', false);
    socket.once('connect', () => {
      if (c.socket !== socket) return;
      this.guard(c, 'connect', () => {
        c.connected = true;
        socket.setNoDelay(true);
        this.feed(c, { type: 'TcpCrAcked' });
      });
    });
  }

  /** Binds a socket to a connection and routes its events to that connection's FSM. */
  private attach(c: Conn, socket: net.Socket, direction: ConnectionDirection, connected = true): void {
    c.socket = socket;
    c.direction = direction;
    c.connected = connected;
    c.closing = false;
    c.framer = new Framer();
    c.urgent = [];
    c.waitingDrain = false;
    c.notified = false;
    if (connected) socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (c.socket === socket) this.guard(c, 'socket data', () => this.receive(c, chunk));
    });
    socket.on('drain', () => {
      if (c.socket !== socket) return;
      this.guard(c, 'socket drain', () => {
        c.waitingDrain = false;
        this.pump(c);
      });
    });
    const failed = () => {
      if (c.socket !== socket) return;
      c.socket = undefined;
      this.guard(c, 'socket close', () => this.feed(c, { type: 'TcpConnectionFails' }));
    };
    socket.on('error', failed);
    socket.on('close', failed);
    socket.on('end', () => {
      // The peer closed its side: a BGP connection is over (half-close has no meaning here).
      if (c.socket === socket) socket.destroy();
    });
  }

  private receive(c: Conn, chunk: Uint8Array): void {
    try {
      c.framer.push(chunk, (msg) => {
        if (c.socket === undefined || c.closing) return; // the FSM dropped the connection mid-chunk
        this.onMessage(c, msg);
      });
    } catch (e) {
      if (c.socket === undefined || c.closing) return;
      if (e instanceof BgpError) this.feed(c, { type: 'BGPHeaderErr', error: e });
      else {
        // Not a protocol error (a bug outside feed()): one peer's bytes must not take the whole speaker
        // down. Reset this session with a plain Cease and remember why.
        this.recover(c, e, 'socket data', undefined, c.fsm.state);
      }
    }
  }

  private onMessage(c: Conn, bytes: Uint8Array): void {
    let msg;
    try {
      msg = decodeMessage(bytes, c.context);
    } catch (e) {
      if (!(e instanceof BgpError)) throw e;
      if (e.code === NotificationCode.OpenMessageError) this.feed(c, { type: 'BGPOpenMsgErr', error: e });
      else if (e.code === NotificationCode.UpdateMessageError) {
        c.current = e.update;
        this.feed(c, { type: 'UpdateMsgErr', error: e });
        c.current = undefined;
      } else this.feed(c, { type: 'BGPHeaderErr', error: e });
      return;
    }
    this.received[msg.type] = (this.received[msg.type] ?? 0) + 1;
    switch (msg.type) {
      case MessageType.Open:
        this.onOpen(c, msg);
        return;
      case MessageType.Update:
        c.current = msg;
        this.feed(c, { type: 'UpdateMsg' });
        c.current = undefined;
        return;
      case MessageType.Notification: {
        // RFC 4271 §8.1.4 event 24: a NOTIFICATION reporting a version error; 25: any other.
        const verErr = msg.code === NotificationCode.OpenMessageError && msg.subcode === OpenSubcode.UnsupportedVersionNumber;
        this.feed(c, verErr ? { type: 'NotifMsgVerErr', notification: msg } : { type: 'NotifMsg', notification: msg });
        return;
      }
      case MessageType.Keepalive:
        this.feed(c, { type: 'KeepAliveMsg' });
        return;
      case MessageType.RouteRefresh:
        this.feed(c, { type: 'RouteRefreshMsg' });
        return;
    }
  }

  /** §6.8: before an OPEN is processed, check it against the other connection to the same peer. */
  private onOpen(c: Conn, open: OpenMessage): void {
    const other = c === this.main ? this.other : this.main;
    if (other && other.fsm.state !== 'Idle' && c.fsm.state === 'OpenSent') {
      const d = resolveCollision({
        localBgpId: this.options.routerId,
        remoteBgpId: open.bgpIdentifier,
        localAs: this.options.localAs,
        remoteAs: this.options.peerAs,
        existing: {
          direction: other.direction,
          state: other.fsm.state,
          ...(other.fsm.negotiated ? { remoteBgpId: other.fsm.negotiated.peerBgpId } : {}),
        },
        incoming: { direction: c.direction },
      });
      if (d.collision) {
        if (d.close === 'incoming') {
          this.feed(c, { type: 'OpenCollisionDump' });
          return;
        }
        // The other connection loses; this one becomes the main connection.
        if (c === this.other) {
          const old = this.main;
          this.main = c;
          this.other = old;
        }
        this.feed(other, { type: 'OpenCollisionDump' });
      }
    }
    this.feed(c, { type: 'BGPOpen', open });
  }

  // ---- sending -------------------------------------------------------------------------------------

  private sendUrgent(c: Conn, bytes: Uint8Array): void {
    if (c.socket === undefined) return;
    c.urgent.push(bytes);
    this.pump(c);
  }

  /** Writes urgent messages first, then UPDATEs while the socket accepts them. */
  private pump(c: Conn): void {
    const s = c.socket;
    if (s === undefined || !c.connected) return;
    // Urgent messages are written even while waiting for 'drain': they are small, and holding a KEEPALIVE
    // back until a burst drains is exactly what must not happen. They still queue behind bytes already
    // handed to the socket, which back-pressure keeps to about one highWaterMark.
    while (c.urgent.length > 0) {
      const m = c.urgent.shift()!;
      this.count(m);
      if (!s.write(m)) c.waitingDrain = true;
    }
    if (c.closing) return;
    const hadBulk = c.bulk.length > 0;
    while (!c.waitingDrain && c.bulk.length > 0) {
      const m = c.bulk.shift()!;
      c.bulkBytes -= m.length;
      this.count(m);
      if (!s.write(m)) c.waitingDrain = true;
    }
    if (hadBulk && c.bulk.length === 0 && c === this.main) this.emit('drained');
  }

  private count(m: Uint8Array): void {
    const type = m[18] ?? 0;
    this.sent[type] = (this.sent[type] ?? 0) + 1;
  }

  private dropTcp(c: Conn): void {
    const s = c.socket;
    c.socket = undefined;
    c.connected = false;
    c.closing = true;
    c.bulk = [];
    c.bulkBytes = 0;
    c.urgent = [];
    if (s) this.discardSocket(s);
  }

  /** Half-closes after the queued bytes (a NOTIFICATION) are flushed; destroys it after closeTimeoutMs. */
  private discardSocket(s: net.Socket): void {
    if (s.destroyed) return;
    this.closingSockets.add(s);
    const guard = this.clock.setTimeout(() => s.destroy(), this.options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    s.once('close', () => {
      this.clock.clearTimeout(guard);
      this.closingSockets.delete(s);
    });
    s.on('error', () => s.destroy());
    if (s.connecting) s.destroy();
    else s.end(() => s.destroy());
  }

  private closeConn(c: Conn): void {
    this.stopAllTimers(c);
    if (c.socket) this.discardSocket(c.socket);
    c.socket = undefined;
  }
}

/** Our OPEN: version 4, AS (AS_TRANS above 65535), hold time, identifier, capabilities (RFC 4271 §4.2). */
export function buildOpen(o: SessionOptions): OpenMessage {
  const caps: Capability[] = [
    ...(o.capabilities ?? [capability.multiprotocol(Afi.Ipv4, Safi.Unicast), capability.multiprotocol(Afi.Ipv6, Safi.Unicast), capability.routeRefresh()]),
  ];
  // RFC 6793 §3: always announce the 4-octet AS capability with the real AS.
  if (!caps.some((c) => c.kind === 'four-octet-as')) caps.push(capability.fourOctetAs(o.localAs));
  return {
    type: MessageType.Open,
    version: BGP_VERSION,
    myAs: myAsField(o.localAs),
    holdTime: o.holdTime,
    bgpIdentifier: o.routerId >>> 0,
    capabilities: caps,
    parameters: [],
  };
}

/** RFC 9003 §2: Cease data = 1-octet length + UTF-8 text of at most 255 octets (cut at a character). */
export function shutdownCommunication(message: string): Uint8Array {
  let bytes = new TextEncoder().encode(message);
  if (bytes.length > 255) {
    let cut = 255;
    while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--; // do not split a UTF-8 sequence
    bytes = bytes.subarray(0, cut);
  }
  const out = new Uint8Array(bytes.length + 1);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

function waitClosed(s: net.Socket): Promise<void> {
  return s.destroyed || s.closed ? Promise.resolve() : new Promise((resolve) => s.once('close', () => resolve()));
}
