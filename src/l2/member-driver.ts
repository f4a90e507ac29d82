// The UDP edge of the liveness protocol: one dgram socket, two timers, and the pure machine of membership.ts.
// Everything that can throw (socket callbacks, timers, listeners) is caught, logged and counted; the machine's
// state is only replaced by a completed step, so a failure leaves the last good state running.
//
// Two timing details keep a busy process from declaring live members dead (../shared/notes/bfd.md §3.3):
// - the expiry decision is deferred by one setImmediate, so datagrams already waiting in the socket are read
//   (poll phase) before it runs (check phase): a stall delays the verdict instead of faking silence;
// - the heartbeat timer measures its own lateness (`lag`), which goes into every packet and /status.
// Running this driver in a worker_thread (member-thread.ts) takes the main thread's stalls out of the picture.
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import {
  initialState,
  step,
  MEMBERSHIP_DEFAULTS,
  type LocalView,
  type MemberInput,
  withPort,
  type MemberStatus,
  type MembershipAction,
  type MembershipEvent,
  type MembershipState,
  type TimerName,
} from './membership.js';
import { DROP_REASONS, keyProblem, type DropReason } from './wire.js';

export interface MemberInfo {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** 'self' for this speaker. */
  readonly status: MemberStatus | 'self';
  /** Wall-clock ms of the last authentic packet (null: never; now for self). */
  readonly lastHeard: number | null;
  readonly excluded: boolean;
  /** The member's reported timer lateness (ms). */
  readonly lag: number;
  readonly incarnation: string | null;
  /** Who that member hears (its own view, from its last packet). */
  readonly hears: readonly string[];
  /** IP → wall ms since when it announces it. Empty unless alive (or self). */
  readonly claims: ReadonlyMap<string, number>;
}

export interface MembershipView {
  readonly self: string;
  /** False during the start-up grace period: do not claim anything yet. */
  readonly ready: boolean;
  /** Self first, then the others by name. */
  readonly members: readonly MemberInfo[];
  /** Dropped datagrams by reason since start. */
  readonly drops: Readonly<Record<DropReason, number>>;
}

export interface MembershipHooks {
  onChange?(view: MembershipView): void;
  onDrop?(reason: DropReason, detail: string, sender: string | null): void;
  onMemberUp?(name: string, restarted: boolean): void;
  onMemberDown?(name: string, reason: 'timeout' | 'left', silentMs: number): void;
}

/** What the announcer needs from the liveness layer (driver in this thread, or the worker proxy). */
export interface Membership {
  start(): Promise<void>;
  view(): MembershipView;
  setLocal(local: LocalView): void;
  setMembers(members: readonly MemberInput[]): void;
  /** Sends a heartbeat at once (after a conflict, so claims are compared without waiting for the tick). */
  sendNow(): void;
  /** Registers listeners (several calls add up). */
  on(hooks: MembershipHooks): void;
  stop(): Promise<void>;
}

export interface UdpMembershipOptions {
  readonly self: string;
  /** Every speaker's node (Node name + InternalIP); self may be included. */
  readonly members: readonly MemberInput[];
  readonly key: Buffer;
  /** Address to bind (this node's InternalIP; 0.0.0.0 / :: accepted). */
  readonly bindAddress: string;
  readonly port?: number;
  readonly intervalMs?: number;
  readonly deadAfterMs?: number;
  readonly windowMs?: number;
  /** Wait for unheard members before claiming (ms; default 2000, see MEMBERSHIP_DEFAULTS). */
  readonly startupGraceMs?: number;
  readonly clock?: Clock;
  readonly wall?: () => number;
  readonly log?: Logger;
  /** Fixed incarnation (tests); random otherwise. */
  readonly incarnation?: bigint;
}

export function emptyDrops(): Record<DropReason, number> {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
}

/** The /status and ownership view of a machine state. */
export function viewOf(state: MembershipState, wall: number, drops: Readonly<Record<DropReason, number>>): MembershipView {
  const self: MemberInfo = {
    name: state.opts.self,
    address: '',
    port: 0,
    status: 'self',
    lastHeard: wall,
    excluded: state.local.excluded,
    lag: state.lag,
    incarnation: state.opts.incarnation.toString(16),
    hears: [...state.members.values()].filter((m) => m.status === 'alive').map((m) => m.name).sort(),
    claims: state.local.claims,
  };
  const others = [...state.members.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((m): MemberInfo => ({
      name: m.name,
      address: m.address,
      port: m.port,
      status: m.status,
      lastHeard: m.lastHeardWall,
      excluded: m.excluded,
      lag: m.lag,
      incarnation: m.incarnation === null ? null : m.incarnation.toString(16),
      hears: m.alive,
      claims: m.status === 'alive' ? m.claims : new Map(),
    }));
  const selfEntry = state.opts.members.find((m) => m.name === state.opts.self);
  return {
    self: state.opts.self,
    ready: state.ready,
    members: [selfEntry === undefined ? self : { ...self, address: selfEntry.address, port: selfEntry.port }, ...others],
    drops: { ...drops },
  };
}

export function randomIncarnation(): bigint {
  return randomBytes(8).readBigUInt64BE(0);
}

export class UdpMembership implements Membership {
  private state: MembershipState;
  private readonly clock: Clock;
  private readonly wall: () => number;
  private readonly log: Logger | undefined;
  private readonly socket: dgram.Socket;
  private readonly timers = new Map<TimerName, TimerHandle>();
  private txDueAt: number | null = null;
  private readonly hooks: MembershipHooks[] = [];
  private readonly drops = emptyDrops();
  private expirePending = false;
  private stopped = false;
  private readonly port: number;
  private readonly family: 4 | 6;

  constructor(private readonly opts: UdpMembershipOptions) {
    const problem = keyProblem(opts.key);
    if (problem !== null) throw new Error(problem);
    this.clock = opts.clock ?? systemClock({ unref: true });
    this.wall = opts.wall ?? Date.now;
    this.log = opts.log;
    this.port = opts.port ?? MEMBERSHIP_DEFAULTS.port;
    this.family = isIP(opts.bindAddress) === 6 ? 6 : 4;
    this.state = initialState(
      {
        self: opts.self,
        members: withPort(opts.members, opts.port ?? MEMBERSHIP_DEFAULTS.port),
        key: opts.key,
        incarnation: opts.incarnation ?? randomIncarnation(),
        intervalMs: opts.intervalMs ?? MEMBERSHIP_DEFAULTS.intervalMs,
        deadAfterMs: opts.deadAfterMs ?? MEMBERSHIP_DEFAULTS.deadAfterMs,
        windowMs: opts.windowMs ?? MEMBERSHIP_DEFAULTS.windowMs,
        startupGraceMs: opts.startupGraceMs ?? MEMBERSHIP_DEFAULTS.startupGraceMs,
      },
      this.clock.now(),
    );
    this.socket = dgram.createSocket({ type: this.family === 6 ? 'udp6' : 'udp4', reuseAddr: false });
    this.socket.on('message', (bytes) => this.dispatch({ type: 'packet', bytes, now: this.clock.now(), wall: this.wall() }));
    this.socket.on('error', (err) => this.log?.error('memberSocketError', { error: err }));
  }

  on(hooks: MembershipHooks): void {
    this.hooks.push(hooks);
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new Error(`memberlist: cannot bind UDP ${this.opts.bindAddress}:${this.port}: ${err.message}`));
      this.socket.once('error', onError);
      this.socket.bind({ address: this.opts.bindAddress, port: this.port, exclusive: true }, () => {
        this.socket.off('error', onError);
        this.dispatch({ type: 'start', now: this.clock.now(), wall: this.wall() });
        resolve();
      });
    });
  }

  /** The bound port (useful with port 0 in tests). */
  boundPort(): number {
    return this.socket.address().port;
  }

  view(): MembershipView {
    return viewOf(this.state, this.wall(), this.drops);
  }

  setLocal(local: LocalView): void {
    this.dispatch({ type: 'setLocal', local, now: this.clock.now(), wall: this.wall() });
  }

  setMembers(members: readonly MemberInput[]): void {
    this.dispatch({ type: 'setMembers', members: withPort(members, this.port), now: this.clock.now() });
  }

  sendNow(): void {
    this.dispatch({ type: 'sendNow', now: this.clock.now(), wall: this.wall() });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.dispatch({ type: 'stop', now: this.clock.now(), wall: this.wall() });
    this.stopped = true;
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
    // Let the leave datagrams go out before closing (dgram.send is asynchronous).
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }

  /** Runs one event through the machine and performs its actions; never throws. */
  private dispatch(event: MembershipEvent): void {
    if (this.stopped) return;
    let result;
    try {
      result = step(this.state, event);
    } catch (err) {
      this.log?.error('memberStepFailed', { event: event.type, error: err });
      return;
    }
    this.state = result.state;
    let changed = false;
    for (const a of result.actions) {
      try {
        if (a.type === 'changed') changed = true;
        else this.perform(a);
      } catch (err) {
        this.log?.error('memberActionFailed', { action: a.type, error: err });
      }
    }
    if (changed) {
      const view = this.view();
      this.emit((h) => h.onChange?.(view));
    }
  }

  private emit(fn: (h: MembershipHooks) => void): void {
    for (const h of this.hooks) {
      try {
        fn(h);
      } catch (err) {
        this.log?.error('memberListenerFailed', { error: err });
      }
    }
  }

  private perform(a: Exclude<MembershipAction, { type: 'changed' }>): void {
    switch (a.type) {
      case 'send':
        for (const m of a.to) {
          if (isIP(m.address) !== this.family) continue; // another family than our socket: unreachable by design
          this.socket.send(a.bytes, m.port, m.address, (err) => {
            if (err) this.log?.debug('memberSendFailed', { member: m.name, error: err });
          });
        }
        return;
      case 'arm':
        this.arm(a.timer, a.ms);
        return;
      case 'disarm': {
        const t = this.timers.get(a.timer);
        if (t !== undefined) this.clock.clearTimeout(t);
        this.timers.delete(a.timer);
        return;
      }
      case 'drop':
        this.drops[a.reason]++;
        this.log?.debug('memberPacketDropped', { reason: a.reason, detail: a.detail, sender: a.sender });
        this.emit((h) => h.onDrop?.(a.reason, a.detail, a.sender));
        return;
      case 'memberUp':
        this.log?.info('memberUp', { member: a.name, restarted: a.restarted });
        this.emit((h) => h.onMemberUp?.(a.name, a.restarted));
        return;
      case 'memberDown':
        this.log?.warn('memberDown', { member: a.name, reason: a.reason, silentMs: a.silentMs });
        this.emit((h) => h.onMemberDown?.(a.name, a.reason, a.silentMs));
        return;
      case 'ready':
        this.log?.info('membershipReady', { alive: this.state.members.size });
        return;
    }
  }

  private arm(timer: TimerName, ms: number): void {
    const old = this.timers.get(timer);
    if (old !== undefined) this.clock.clearTimeout(old);
    if (timer === 'tx') {
      const due = this.clock.now() + ms;
      this.txDueAt = due;
      this.timers.set(
        'tx',
        this.clock.setTimeout(() => {
          this.timers.delete('tx');
          const now = this.clock.now();
          const lag = this.txDueAt === null ? 0 : Math.max(0, now - this.txDueAt);
          this.dispatch({ type: 'tick', now, wall: this.wall(), lag });
        }, ms),
      );
      return;
    }
    this.timers.set(
      'expire',
      this.clock.setTimeout(() => {
        this.timers.delete('expire');
        if (this.expirePending) return;
        this.expirePending = true;
        // Deferred past the poll phase: packets that arrived while we were busy are read first.
        setImmediate(() => {
          this.expirePending = false;
          this.dispatch({ type: 'expire', now: this.clock.now(), wall: this.wall() });
        });
      }, ms),
    );
  }
}
