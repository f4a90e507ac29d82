// Liveness between Layer 2 speakers as a pure state machine, like src/bgp/fsm.ts: `step(state, event) →
// {state, actions}`. Time arrives in events (monotonic `now` for timers, wall `wall` for the packet timestamp
// window), timers leave as actions, so every path is tested with a fake clock and the UDP driver
// (member-driver.ts) stays a thin loop around it.
//
// Each speaker sends a signed heartbeat (wire.ts) to every other member every `intervalMs` and declares a
// member dead when nothing authentic has arrived from it for `deadAfterMs`. Unlike memberlist's SWIM (probe,
// indirect probes, suspicion: 4–24 s in MetalLB, metallb-compat §3.5) there is no indirection: the members are
// the speakers on one Layer 2 segment, so the question "can I hear it" is the one that matters, and a full
// mesh of small datagrams is cheap at the cluster sizes that use Layer 2 (see README for the arithmetic).
//
// Replay protection (README "Replay protection"): per sender the receiver keeps (incarnation, last sequence,
// last timestamp). Within an incarnation the sequence must grow strictly; a new incarnation is accepted only with
// a timestamp newer than everything accepted from that sender (or once the old one has been silent for a whole
// timestamp window, which every replay of it would then fail). Every packet's timestamp must be within
// `windowMs` of the receiver's wall clock.
import { decodePacket, encodePacket, type DropReason, type Packet } from './wire.js';

export interface MemberAddress {
  /** The node name (= the Endpoint nodeName, = the sender name in packets). */
  readonly name: string;
  /** The node's InternalIP. */
  readonly address: string;
  /** UDP port of its speaker (the cluster-wide port, 7946 by default). */
  readonly port: number;
}

/** A member as the caller knows it (a Node's name and InternalIP); the port defaults to the driver's. */
export interface MemberInput {
  readonly name: string;
  readonly address: string;
  readonly port?: number;
}

/** Members with the cluster-wide port filled in where none is given. */
export function withPort(members: readonly MemberInput[], port: number): MemberAddress[] {
  return members.map((m) => ({ name: m.name, address: m.address, port: m.port ?? port }));
}

export interface MembershipOptions {
  readonly self: string;
  /** Every speaker's node, self included or not (self is skipped). */
  readonly members: readonly MemberAddress[];
  readonly key: Buffer;
  /** Random per process start. */
  readonly incarnation: bigint;
  /** Heartbeat period (ms). */
  readonly intervalMs: number;
  /** Silence after which a member is declared dead (ms). */
  readonly deadAfterMs: number;
  /** Accepted distance between a packet's timestamp and our wall clock (ms). */
  readonly windowMs: number;
  /**
   * How long a starting speaker waits for members it has not heard yet before it may claim (ms; default
   * deadAfterMs). Only matters when some member is silent: with everyone heard it is ready at once.
   */
  readonly startupGraceMs?: number;
}

/**
 * startupGraceMs: on a cold cluster start every speaker waits this long for the others, so the first IPs are
 * spread by the rendezvous hash instead of all going to whichever speaker was ready first (claims are sticky).
 */
export const MEMBERSHIP_DEFAULTS = { port: 7946, intervalMs: 50, deadAfterMs: 300, windowMs: 10_000, startupGraceMs: 2000 } as const;

/** Ticks over which the reported lag is the maximum (20 × 50 ms = the last second). */
export const LAG_WINDOW = 20;

function grace(opts: MembershipOptions): number {
  return opts.startupGraceMs ?? opts.deadAfterMs;
}

/** unknown: not heard since we started; left: said goodbye (a leave packet). */
export type MemberStatus = 'unknown' | 'alive' | 'dead' | 'left';

export interface MemberState extends MemberAddress {
  readonly status: MemberStatus;
  /** Monotonic ms of the last accepted packet (null: never). */
  readonly lastHeard: number | null;
  /** Wall-clock ms of the same moment (for /status). */
  readonly lastHeardWall: number | null;
  /** Monotonic ms of the last status change. */
  readonly changedAt: number;
  readonly incarnation: bigint | null;
  readonly seq: number;
  /** Newest timestamp accepted from this sender (any incarnation). */
  readonly timestamp: number;
  readonly excluded: boolean;
  readonly lag: number;
  readonly alive: readonly string[];
  /** Its claims; kept while it lives, emptied when it dies or leaves. */
  readonly claims: ReadonlyMap<string, number>;
}

export interface LocalView {
  readonly claims: ReadonlyMap<string, number>;
  readonly excluded: boolean;
}

export interface MembershipState {
  readonly opts: MembershipOptions;
  readonly running: boolean;
  readonly startedAt: number;
  /** True once every member was heard, or startupGraceMs after start: before that nothing may be claimed. */
  readonly ready: boolean;
  readonly seq: number;
  /** The worst heartbeat-timer lateness over the last LAG_WINDOW ticks (ms): what packets and /status show. */
  readonly lag: number;
  readonly lagWindow: readonly number[];
  readonly local: LocalView;
  readonly members: ReadonlyMap<string, MemberState>;
}

export type MembershipEvent =
  | { readonly type: 'start'; readonly now: number; readonly wall: number }
  /** The heartbeat timer fired; `lag` = how late it fired (ms). */
  | { readonly type: 'tick'; readonly now: number; readonly wall: number; readonly lag: number }
  /** The expiry timer fired (the driver defers it past pending socket reads). */
  | { readonly type: 'expire'; readonly now: number; readonly wall: number }
  | { readonly type: 'packet'; readonly bytes: Buffer; readonly now: number; readonly wall: number }
  /** This speaker's claims or exclusion changed: sent at once, not at the next tick. */
  | { readonly type: 'setLocal'; readonly local: LocalView; readonly now: number; readonly wall: number }
  | { readonly type: 'setMembers'; readonly members: readonly MemberAddress[]; readonly now: number }
  /** Sends a heartbeat now (e.g. after a conflict on the wire), without moving the timer. */
  | { readonly type: 'sendNow'; readonly now: number; readonly wall: number }
  | { readonly type: 'stop'; readonly now: number; readonly wall: number };

export type TimerName = 'tx' | 'expire';

export type MembershipAction =
  | { readonly type: 'send'; readonly bytes: Buffer; readonly to: readonly MemberAddress[] }
  | { readonly type: 'arm'; readonly timer: TimerName; readonly ms: number }
  | { readonly type: 'disarm'; readonly timer: TimerName }
  | { readonly type: 'drop'; readonly reason: DropReason; readonly detail: string; readonly sender: string | null }
  | { readonly type: 'memberUp'; readonly name: string; readonly restarted: boolean }
  | { readonly type: 'memberDown'; readonly name: string; readonly reason: 'timeout' | 'left'; readonly silentMs: number }
  | { readonly type: 'ready' }
  /** Something the ownership decision reads changed (status, claims, exclusion, readiness). */
  | { readonly type: 'changed' };

export interface StepResult {
  readonly state: MembershipState;
  readonly actions: readonly MembershipAction[];
}

function freshMember(m: MemberAddress, now: number): MemberState {
  return {
    ...m,
    status: 'unknown',
    lastHeard: null,
    lastHeardWall: null,
    changedAt: now,
    incarnation: null,
    seq: 0,
    timestamp: 0,
    excluded: false,
    lag: 0,
    alive: [],
    claims: new Map(),
  };
}

function membersFrom(opts: { self: string }, list: readonly MemberAddress[], now: number, old?: ReadonlyMap<string, MemberState>): Map<string, MemberState> {
  const out = new Map<string, MemberState>();
  for (const m of list) {
    if (m.name === opts.self || out.has(m.name)) continue;
    const prev = old?.get(m.name);
    out.set(m.name, prev === undefined ? freshMember(m, now) : { ...prev, address: m.address, port: m.port });
  }
  return out;
}

export function initialState(opts: MembershipOptions, now = 0): MembershipState {
  return {
    opts,
    running: false,
    startedAt: now,
    ready: false,
    seq: 0,
    lag: 0,
    lagWindow: [],
    local: { claims: new Map(), excluded: false },
    members: membersFrom(opts, opts.members, now),
  };
}

function sameClaims(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** Names this speaker hears right now, sorted (what its packets carry as its view). */
export function aliveNames(state: MembershipState): string[] {
  return [...state.members.values()].filter((m) => m.status === 'alive').map((m) => m.name).sort();
}

function heartbeat(state: MembershipState, type: 'heartbeat' | 'leave', wall: number): { state: MembershipState; action: MembershipAction | null } {
  const to = [...state.members.values()].map(({ name, address, port }) => ({ name, address, port }));
  const seq = state.seq + 1;
  const next = { ...state, seq };
  if (to.length === 0) return { state: next, action: null };
  const packet: Packet = {
    type,
    sender: state.opts.self,
    excluded: state.local.excluded,
    incarnation: state.opts.incarnation,
    seq,
    timestamp: wall,
    lag: state.lag,
    alive: aliveNames(state),
    claims: type === 'leave' ? new Map() : state.local.claims,
  };
  return { state: next, action: { type: 'send', bytes: encodePacket(packet, state.opts.key), to } };
}

/** The expiry timer: the soonest moment a member may die or the start-up grace ends (null: nothing to wait for). */
function nextExpiry(state: MembershipState, now: number): number | null {
  let soonest: number | null = state.ready ? null : state.startedAt + grace(state.opts);
  for (const m of state.members.values()) {
    if (m.status !== 'alive' || m.lastHeard === null) continue;
    const at = m.lastHeard + state.opts.deadAfterMs;
    if (soonest === null || at < soonest) soonest = at;
  }
  return soonest === null ? null : Math.max(0, soonest - now);
}

function withExpiry(state: MembershipState, now: number, actions: MembershipAction[]): StepResult {
  if (state.running) {
    const ms = nextExpiry(state, now);
    actions.push(ms === null ? { type: 'disarm', timer: 'expire' } : { type: 'arm', timer: 'expire', ms });
  }
  return { state, actions };
}

/** Expires silent members and ends the start-up grace period. */
function expire(state: MembershipState, now: number, actions: MembershipAction[]): MembershipState {
  const members = new Map(state.members);
  let changed = false;
  for (const m of state.members.values()) {
    if (m.status === 'alive' && m.lastHeard !== null && now - m.lastHeard >= state.opts.deadAfterMs) {
      members.set(m.name, { ...m, status: 'dead', changedAt: now, claims: new Map() });
      actions.push({ type: 'memberDown', name: m.name, reason: 'timeout', silentMs: now - m.lastHeard });
      changed = true;
    }
  }
  let ready = state.ready;
  if (!ready && now - state.startedAt >= grace(state.opts)) {
    ready = true;
    for (const m of members.values()) if (m.status === 'unknown') members.set(m.name, { ...m, status: 'dead', changedAt: now });
    actions.push({ type: 'ready' });
    changed = true;
  }
  if (changed) actions.push({ type: 'changed' });
  return changed ? { ...state, members, ready } : state;
}

function allHeard(members: ReadonlyMap<string, MemberState>): boolean {
  for (const m of members.values()) if (m.status === 'unknown') return false;
  return true;
}

function onPacket(state: MembershipState, bytes: Buffer, now: number, wall: number, actions: MembershipAction[]): MembershipState {
  const decoded = decodePacket(bytes, state.opts.key);
  if (!decoded.ok) {
    actions.push({ type: 'drop', reason: decoded.reason, detail: decoded.detail, sender: null });
    return state;
  }
  const p = decoded.packet;
  const drop = (reason: DropReason, detail: string): MembershipState => {
    actions.push({ type: 'drop', reason, detail, sender: p.sender });
    return state;
  };
  if (p.sender === state.opts.self) return drop('self', 'packet carries our own name (a looped packet, or two speakers with one node name)');
  const m = state.members.get(p.sender);
  if (m === undefined) return drop('unknownMember', `sender "${p.sender}" is not a member`);
  if (Math.abs(p.timestamp - wall) > state.opts.windowMs) {
    return drop('stale', `timestamp ${p.timestamp} is ${p.timestamp - wall} ms from our clock (window ±${state.opts.windowMs} ms)`);
  }
  let restarted = false;
  if (m.incarnation === p.incarnation) {
    if (p.seq <= m.seq) return drop('replay', `sequence ${p.seq} not above ${m.seq} for incarnation ${p.incarnation}`);
  } else {
    // A new incarnation must be newer than anything accepted from this sender, unless the last accepted packet
    // is older than the window: then every packet of the old incarnation already fails the window check.
    if (m.incarnation !== null && p.timestamp <= m.timestamp && wall - m.timestamp <= state.opts.windowMs) {
      return drop('replay', `incarnation ${p.incarnation} with timestamp ${p.timestamp} is not newer than ${m.timestamp}`);
    }
    restarted = m.incarnation !== null;
  }
  const wasLive = m.status === 'alive';
  if (p.type === 'leave') {
    const left: MemberState = {
      ...m,
      status: 'left',
      lastHeard: now,
      lastHeardWall: wall,
      changedAt: wasLive ? now : m.changedAt,
      incarnation: p.incarnation,
      seq: p.seq,
      timestamp: Math.max(m.timestamp, p.timestamp),
      claims: new Map(),
      alive: [],
    };
    const members = new Map(state.members).set(m.name, left);
    if (wasLive) actions.push({ type: 'memberDown', name: m.name, reason: 'left', silentMs: 0 }, { type: 'changed' });
    return finishReady({ ...state, members }, actions);
  }
  const next: MemberState = {
    ...m,
    status: 'alive',
    lastHeard: now,
    lastHeardWall: wall,
    changedAt: wasLive && !restarted ? m.changedAt : now,
    incarnation: p.incarnation,
    seq: p.seq,
    timestamp: Math.max(m.timestamp, p.timestamp),
    excluded: p.excluded,
    lag: p.lag,
    alive: p.alive,
    claims: p.claims,
  };
  const members = new Map(state.members).set(m.name, next);
  if (!wasLive) actions.push({ type: 'memberUp', name: m.name, restarted });
  else if (restarted) actions.push({ type: 'memberUp', name: m.name, restarted: true });
  if (!wasLive || restarted || next.excluded !== m.excluded || !sameClaims(next.claims, m.claims)) actions.push({ type: 'changed' });
  return finishReady({ ...state, members }, actions);
}

/** Readiness as soon as every member has been heard from (no need to wait out the grace period). */
function finishReady(state: MembershipState, actions: MembershipAction[]): MembershipState {
  if (state.ready || !allHeard(state.members)) return state;
  actions.push({ type: 'ready' });
  if (!actions.some((a) => a.type === 'changed')) actions.push({ type: 'changed' });
  return { ...state, ready: true };
}

export function step(state: MembershipState, event: MembershipEvent): StepResult {
  const actions: MembershipAction[] = [];
  switch (event.type) {
    case 'start': {
      if (state.running) return { state, actions };
      const s0: MembershipState = { ...state, running: true, startedAt: event.now, ready: state.members.size === 0 };
      if (s0.ready) actions.push({ type: 'ready' }, { type: 'changed' });
      const hb = heartbeat(s0, 'heartbeat', event.wall);
      if (hb.action !== null) actions.push(hb.action);
      actions.push({ type: 'arm', timer: 'tx', ms: state.opts.intervalMs });
      return withExpiry(hb.state, event.now, actions);
    }
    case 'tick': {
      if (!state.running) return { state, actions };
      // No expiry here: a tick that fires right after a stall runs before the socket's queued datagrams are
      // read, so only the deferred 'expire' event may declare a member dead (member-driver.ts).
      const lagWindow = [...state.lagWindow.slice(-(LAG_WINDOW - 1)), Math.max(0, event.lag)];
      const hb = heartbeat({ ...state, lagWindow, lag: Math.max(...lagWindow) }, 'heartbeat', event.wall);
      if (hb.action !== null) actions.push(hb.action);
      actions.push({ type: 'arm', timer: 'tx', ms: state.opts.intervalMs });
      return withExpiry(hb.state, event.now, actions);
    }
    case 'expire': {
      if (!state.running) return { state, actions };
      return withExpiry(expire(state, event.now, actions), event.now, actions);
    }
    case 'packet': {
      if (!state.running) return { state, actions };
      return withExpiry(onPacket(state, event.bytes, event.now, event.wall, actions), event.now, actions);
    }
    case 'setLocal': {
      if (state.local.excluded === event.local.excluded && sameClaims(state.local.claims, event.local.claims)) return { state, actions };
      const s1 = { ...state, local: { claims: new Map(event.local.claims), excluded: event.local.excluded } };
      actions.push({ type: 'changed' });
      if (!state.running) return { state: s1, actions };
      const hb = heartbeat(s1, 'heartbeat', event.wall);
      if (hb.action !== null) actions.push(hb.action);
      return { state: hb.state, actions };
    }
    case 'setMembers': {
      const members = membersFrom(state.opts, event.members, event.now, state.members);
      const s1 = { ...state, opts: { ...state.opts, members: event.members }, members };
      // A removed member that was alive (its claims counted) changes the view; so does a new one while ready.
      const removedLive = [...state.members.values()].some((m) => m.status === 'alive' && !members.has(m.name));
      if (removedLive) actions.push({ type: 'changed' });
      return withExpiry(s1, event.now, actions);
    }
    case 'sendNow': {
      if (!state.running) return { state, actions };
      const hb = heartbeat(state, 'heartbeat', event.wall);
      if (hb.action !== null) actions.push(hb.action);
      return { state: hb.state, actions };
    }
    case 'stop': {
      if (!state.running) return { state, actions };
      // memberlist sends Leave on shutdown too (metallb-compat §3.5): the others fail over at once instead of
      // after deadAfterMs.
      const hb = heartbeat({ ...state, local: { claims: new Map(), excluded: state.local.excluded } }, 'leave', event.wall);
      if (hb.action !== null) actions.push(hb.action);
      actions.push({ type: 'disarm', timer: 'tx' }, { type: 'disarm', timer: 'expire' });
      return { state: { ...hb.state, running: false }, actions };
    }
  }
}
