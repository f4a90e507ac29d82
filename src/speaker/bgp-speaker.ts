// The BGP speaker of one node: one session per configured peer that selects this node, the passive
// listener(s) shared by them (listeners.ts), and per peer an Adj-RIB-Out fed by a desired-state API (a whole
// table, or one route at a time for the node agent's per-Service changes). It is the glue between the pure
// parts (config, announce, Adj-RIB-Out, codec) and the session driver; see README.md for the data flow and
// the files it is split into (peer.ts, flush.ts, sockets.ts, listeners.ts, status.ts). What it decides:
//   - peer diffing (MetalLB §3.2: deep equality; an unchanged peer keeps its session, a changed or removed one
//     gets a Cease NOTIFICATION, RFC 4486 subcodes 6 and 3, and a changed one a new session);
//   - which inbound connections to accept (configured peers only, by source address, RFC 4271 §8.2.1.1);
//   - the export policy of each session (NEXT_HOP self from the socket's local address, RFC 4271 §5.1.3; the
//     IPv6 next hop, RFC 2545 §3);
//   - when to flush: at most once per event-loop turn, after Established, after the send queue drained, on
//     ROUTE-REFRESH (RFC 2918 §4), and End-of-RIB after the initial table (RFC 4724 §2);
//   - socket options through src/net (TCP-MD5 RFC 2385, TTL for eBGP and multihop, GTSM RFC 5082).
import type * as net from 'node:net';
import * as os from 'node:os';
import type { Route } from '../bgp/adj-rib-out.js';
import type { Clock, TimerHandle } from '../clock.js';
import { systemClock } from '../clock.js';
import { CeaseSubcode, notificationName } from '../bgp/index.js';
import type { LastError, Negotiated } from '../bgp/fsm.js';
import type { SessionOptions } from '../bgp/session.js';
import type { CodecContext } from '../bgp/types.js';
import type { Peer } from '../config/types.js';
import { nullLogger, type Logger } from '../log.js';
import type { SpeakerMetrics } from '../metrics/registry.js';
import type { NativeAddon } from '../net/native.js';
import { loadNative } from '../net/native.js';
import { chooseRouterId, nextHopsFor, unmapAddress, type InterfaceTable } from './addresses.js';
import { scheduleFlush, updateCounts } from './flush.js';
import { BgpListeners } from './listeners.js';
import { AdjRibOut, openCapabilities, peerConfigKey, peerGracefulRestart, peerKey, type PeerEntry, type SpeakerCore } from './peer.js';
import { bgpSessionFactory, type SessionFactory, type SpeakerSession } from './session-factory.js';
import { dialNative, onInbound, ttlFor } from './sockets.js';
import { familyName, prefixPeers, shutdownMessage, speakerStatus, type SpeakerStatus } from './status.js';

export interface BgpSpeakerOptions {
  readonly nodeName: string;
  /** Passive listener (`--bgp-listen`); null or absent: off. Port 0 picks a free port (tests). */
  readonly listen?: { readonly host: string; readonly port: number } | null;
  readonly metrics?: SpeakerMetrics;
  readonly logger?: Logger;
}

export interface BgpSpeakerDeps {
  readonly clock?: Clock;
  readonly random?: () => number;
  /** The node's interfaces (default os.networkInterfaces). */
  readonly interfaces?: () => InterfaceTable;
  /** The socket-option addon (default: loaded on first need). */
  readonly native?: () => NativeAddon;
  /** Runs fn once the current burst of calls is over (default setImmediate): flush coalescing. */
  readonly defer?: (fn: () => void) => void;
  /** Extra session options (tests: short backoff, close timeouts). */
  readonly session?: Partial<Pick<SessionOptions, 'backoff' | 'connectRetryTime' | 'closeTimeoutMs' | 'openHoldTime'>>;
  /** Makes each peer's session (default: a real BgpSession; tests and benchmarks: a recording fake). */
  readonly sessionFactory?: SessionFactory;
}

/** How long stop() waits for the Cease NOTIFICATIONs to be written before giving up (ms). */
export const STOP_TIMEOUT_MS = 5000;
/** At most one detailed and one summary 'connection refused' log line per this interval (issue 8). */
export const REFUSED_LOG_INTERVAL_MS = 60_000;

export class BgpSpeaker implements SpeakerCore {
  readonly nodeName: string;
  // The fields below are public for the speaker's own parts (SpeakerCore: flush.ts, sockets.ts,
  // listeners.ts, status.ts); nothing else should use them.
  readonly metrics: SpeakerMetrics | undefined;
  readonly log: Logger;
  readonly clock: Clock;
  readonly interfaces: () => InterfaceTable;
  readonly nativeLoader: () => NativeAddon;
  readonly defer: (fn: () => void) => void;
  readonly peers = new Map<string, PeerEntry>();
  readonly started: number;
  stopped = false;
  private readonly random: () => number;
  private readonly sessionExtra: BgpSpeakerDeps['session'];
  private readonly sessionFactory: SessionFactory;
  private readonly listeners: BgpListeners;
  /** Stops of replaced/removed sessions still writing their NOTIFICATION. */
  private readonly closing = new Set<Promise<void>>();
  /** Peers (by key) that had an established session in this process: later OPENs do not claim a restart. */
  private readonly hadSession = new Set<string>();
  /** The table every peer carries (setAdvertisementsAll, announceRoute/withdrawRoute), by prefix. */
  private readonly table = new Map<string, Route>();
  /** The table is complete (the state source synced): peers may get End-of-RIB after it. */
  private tableReady = false;
  /** Rate limit of the refused-connection log line (refused()). */
  private readonly refusedLog: { windowStart: number | null; suppressed: number; last: string; timer: TimerHandle | null } = {
    windowStart: null,
    suppressed: 0,
    last: '',
    timer: null,
  };

  constructor(opts: BgpSpeakerOptions, deps: BgpSpeakerDeps = {}) {
    this.nodeName = opts.nodeName;
    this.metrics = opts.metrics;
    this.log = opts.logger ?? nullLogger;
    this.clock = deps.clock ?? systemClock({ unref: true });
    this.random = deps.random ?? Math.random;
    this.interfaces = deps.interfaces ?? (() => os.networkInterfaces());
    this.nativeLoader = deps.native ?? loadNative;
    this.defer = deps.defer ?? ((fn) => void setImmediate(fn));
    this.sessionExtra = deps.session;
    this.sessionFactory = deps.sessionFactory ?? bgpSessionFactory;
    this.listeners = new BgpListeners(this, opts.listen ?? null, (socket, listener) => onInbound(this, socket, listener));
    this.started = this.clock.now();
  }

  /**
   * Opens the passive listener(s) (when configured). Rejects when an address cannot be bound. The IPv6
   * wildcard `::` listens on both families, as routing daemons do: one socket per family, so each gets the
   * TCP-MD5 keys of its own peers (RFC 2385) whether or not any peer has a password.
   */
  start(): Promise<void> {
    return this.listeners.start();
  }

  /** The first listener's bound address (port resolved when 0 was asked), or null. */
  get listenAddress(): { address: string; port: number } | null {
    return this.listeners.listenAddresses[0] ?? null;
  }

  /** Every listener's bound address, IPv4 first. */
  get listenAddresses(): { address: string; port: number }[] {
    return this.listeners.listenAddresses;
  }

  /** Metric/status label of a peer: "ip:port", "[v6]:port" (MetalLB §3.3). */
  static peerKey(p: Pick<Peer, 'peerAddress' | 'peerPort'>): string {
    return peerKey(p);
  }

  /** Keys of the current peers, in config order. */
  peerKeys(): string[] {
    return [...this.peers.keys()];
  }

  /** The session of a peer (tests, diagnostics). */
  sessionOf(key: string): SpeakerSession | undefined {
    return this.peers.get(key)?.session;
  }

  /**
   * The peers this node has sessions with (config peers already filtered by node-selectors). Diffed by deep
   * equality against the current ones (MetalLB §3.2): unchanged peers keep their session and Adj-RIB-Out.
   */
  setPeers(peers: readonly Peer[]): void {
    if (this.stopped) return;
    const next = new Map<string, Peer>();
    for (const p of peers) {
      let key = BgpSpeaker.peerKey(p);
      // Two entries for one address:port differing in some field (MetalLB accepts them): keep both apart.
      for (let n = 2; next.has(key); n++) key = `${BgpSpeaker.peerKey(p)}#${n}`;
      next.set(key, p);
    }
    for (const [key, old] of [...this.peers]) {
      const p = next.get(key);
      if (p === undefined) {
        this.log.info('peerRemoved', { peer: key });
        this.retire(old, CeaseSubcode.PeerDeConfigured, 'peer removed from the configuration');
        this.peers.delete(key);
        this.metrics?.removePeer(key);
      } else if (peerConfigKey(p) !== old.configKey) {
        this.log.info('peerChanged', { peer: key });
        const stopping = this.retire(old, CeaseSubcode.OtherConfigurationChange, 'peer configuration changed');
        const entry = this.createEntry(key, p);
        // The new session keeps the desired table; the peer drops what the old session sent (§9.2).
        entry.rib.setDesired(old.rib.desiredRoutes());
        entry.initialized = old.initialized;
        this.peers.set(key, entry);
        // The series now describe the new session, which is not up yet.
        this.metrics?.setSessionUp(key, false);
        updateCounts(this, entry);
        void stopping.then(() => this.startEntry(entry));
      }
    }
    for (const [key, p] of next) {
      if (this.peers.has(key)) continue;
      this.log.info('peerAdded', { peer: key, myASN: p.myASN, peerASN: p.peerASN });
      const entry = this.createEntry(key, p);
      // A new peer starts from the shared table (complete once the state source synced).
      entry.rib.setDesired(this.table.values());
      entry.initialized = this.tableReady;
      this.peers.set(key, entry);
      this.startEntry(entry);
    }
    // Keep config order (status and metrics read best that way).
    const ordered = [...next.keys()].map((k) => [k, this.peers.get(k)!] as const);
    this.peers.clear();
    for (const [k, e] of ordered) this.peers.set(k, e);
    this.listeners.syncKeys();
  }

  /**
   * The whole list of routes `peer` should carry (desired state). Diffed against what the peer has and
   * flushed once the current burst of calls is over. (Per-peer tables are for tests; the node announces one
   * table to every peer, below.)
   */
  setAdvertisements(peer: string, routes: readonly Route[]): void {
    const p = this.peers.get(peer);
    if (p === undefined) throw new RangeError(`unknown peer ${peer}`);
    p.rib.setDesired(routes);
    p.initialized = true;
    scheduleFlush(this, p);
  }

  /** The same whole table to every peer (what MetalLB's BGP mode does, §3.2); the table is then complete. */
  setAdvertisementsAll(routes: readonly Route[]): void {
    this.table.clear();
    for (const r of routes) this.table.set(r.prefix, r);
    this.tableReady = true;
    for (const key of this.peers.keys()) this.setAdvertisements(key, routes);
  }

  /** Adds or replaces one route of the shared table, on every peer (one Service's change, issue 9 §4). */
  announceRoute(route: Route): void {
    this.table.set(route.prefix, route);
    for (const p of this.peers.values()) {
      p.rib.upsert(route);
      scheduleFlush(this, p);
    }
  }

  /** Removes one route of the shared table from every peer. */
  withdrawRoute(prefix: string): void {
    if (!this.table.delete(prefix)) return;
    for (const p of this.peers.values()) {
      p.rib.remove(prefix);
      scheduleFlush(this, p);
    }
  }

  /** The shared table is complete (the state source synced): End-of-RIB may follow it (RFC 4724 §2). */
  markTableReady(): void {
    this.tableReady = true;
    for (const p of this.peers.values()) {
      if (p.initialized) continue;
      p.initialized = true;
      scheduleFlush(this, p);
    }
  }

  /** Prefix → keys of the Established peers carrying it (for /status). O(table × peers). */
  prefixPeers(): Map<string, string[]> {
    return prefixPeers(this);
  }

  /** Keys (sorted) of the Established peers carrying at least one of `prefixes`. O(peers × prefixes). */
  peersCarrying(prefixes: readonly string[]): string[] {
    const out: string[] = [];
    for (const p of this.peers.values()) {
      if (p.session.state !== 'Established' || p.policy === null) continue;
      const ctx = p.session.context;
      const policy = p.policy;
      if (prefixes.some((x) => p.rib.carries(x, ctx, policy))) out.push(p.key);
    }
    return out.sort();
  }

  /** Sessions and listeners (the per-Service list is the node agent's: NodeAgent.announcements()). */
  status(): SpeakerStatus {
    return speakerStatus(this, this.listenAddresses);
  }

  /**
   * Clean shutdown: Cease / Administrative Shutdown (RFC 4486) with an RFC 9003 shutdown communication to
   * every peer, then close. Resolves once the NOTIFICATIONs are written and the sockets closed, or after
   * `timeoutMs`, whichever is first.
   */
  async stop(opts: { message?: string; timeoutMs?: number } = {}): Promise<void> {
    this.stopped = true;
    if (this.refusedLog.timer !== null) {
      this.clock.clearTimeout(this.refusedLog.timer);
      this.refusedLog.timer = null;
      this.log.warn('connectionsRefusedSuppressed', { count: this.refusedLog.suppressed, lastRemote: this.refusedLog.last, intervalSeconds: REFUSED_LOG_INTERVAL_MS / 1000 });
      this.refusedLog.suppressed = 0;
    }
    const listenerClosed = this.listeners.close();
    const stops = [...this.peers.values()].map((p) =>
      p.session.stop({ subcode: CeaseSubcode.AdministrativeShutdown, ...(opts.message !== undefined ? { message: opts.message } : {}) }),
    );
    let timer: TimerHandle | undefined;
    const timeout = new Promise<void>((r) => (timer = this.clock.setTimeout(r, opts.timeoutMs ?? STOP_TIMEOUT_MS)));
    await Promise.race([Promise.all([...stops, ...this.closing, listenerClosed]), timeout]);
    if (timer !== undefined) this.clock.clearTimeout(timer);
    for (const p of this.peers.values()) {
      this.metrics?.setSessionUp(p.key, false);
      this.metrics?.setPrefixCounts(p.key, 0, p.rib.desiredCount);
    }
  }

  // ---- peers ------------------------------------------------------------------------------------------

  private createEntry(key: string, config: Peer): PeerEntry {
    const routerId = chooseRouterId(config, this.interfaces(), this.nodeName);
    const gr = config.gracefulRestart;
    // Restart State (RFC 4724 §3, §4.1): this process has just (re)started, so the OPENs to this peer carry it
    // until a session to it is established; onEstablished clears it for later reconnects, which are no
    // restart. A peer re-created by a config change after that does not set it.
    const restarting = gr && !this.hadSession.has(key);
    const caps = openCapabilities(config, restarting);
    const options: SessionOptions = {
      peerAddress: config.peerAddress,
      peerPort: config.peerPort,
      ...(config.sourceAddress !== null ? { localAddress: config.sourceAddress } : {}),
      localAs: config.myASN,
      peerAs: config.peerASN,
      routerId: routerId.id,
      holdTime: config.holdTime,
      keepaliveTime: config.keepaliveTime,
      capabilities: caps,
      ...this.sessionExtra,
    };
    const entry: PeerEntry = {
      key,
      config,
      configKey: peerConfigKey(config),
      session: undefined as unknown as SpeakerSession,
      routerId,
      gracefulRestart: gr,
      restartState: restarting,
      rib: new AdjRibOut(),
      initialized: false,
      eorSent: false,
      flushScheduled: false,
      policy: null,
      nextHopText: { v4: null, v6: null },
      localAddress: null,
      upSince: null,
      establishedCount: 0,
      updatesSent: 0,
      updatesReceived: 0,
      treatAsWithdraw: 0,
      routeRefreshes: 0,
      lastError: null,
      lastDown: null,
      socketError: null,
      started: false,
      removed: false,
    };
    const needsNative = config.password !== null || config.gtsm || ttlFor(config) !== undefined;
    const session = this.sessionFactory(options, {
      clock: this.clock,
      random: this.random,
      ...(needsNative ? { connect: (o: net.TcpNetConnectOpts) => dialNative(this, entry, o) } : {}),
    });
    (entry as { session: SpeakerSession }).session = session;
    this.wire(entry);
    this.metrics?.addPeer(key);
    if (routerId.source === 'node-name') {
      this.log.warn('routerIdFromNodeName', { peer: key, routerID: routerId.text, why: 'no router-id configured and the node has no IPv4 address' });
    }
    return entry;
  }

  private startEntry(entry: PeerEntry): void {
    if (this.stopped || entry.removed || this.peers.get(entry.key) !== entry) return;
    entry.started = true;
    entry.session.start();
  }

  /** Stops a replaced or removed peer's session with the given Cease subcode (RFC 4486). */
  private retire(entry: PeerEntry, subcode: CeaseSubcode, message: string): Promise<void> {
    entry.removed = true;
    const p = entry.session.stop({ subcode, message }).catch((e: unknown) => this.log.error('peerStopFailed', { peer: entry.key, error: e }));
    this.closing.add(p);
    void p.finally(() => this.closing.delete(p));
    return p;
  }

  private wire(p: PeerEntry): void {
    const s = p.session;
    s.on('established', (neg, ctx) => this.onEstablished(p, neg, ctx));
    s.on('down', (reason) => this.onDown(p, reason));
    s.on('update', (_u, treatAsWithdraw) => {
      // Deny-all import (MetalLB's FRR mode, §3.4): the UPDATE was decoded and validated by the session, its
      // routes are not kept. RFC 7606 errors that allow it were treated as withdraw and the session stays up.
      p.updatesReceived++;
      if (treatAsWithdraw) {
        p.treatAsWithdraw++;
        this.log.warn('updateTreatedAsWithdraw', { peer: p.key });
      }
    });
    s.on('routeRefresh', () => {
      // RFC 2918 §4: re-advertise the whole Adj-RIB-Out.
      p.routeRefreshes++;
      p.rib.refresh();
      this.log.info('routeRefresh', { peer: p.key });
      scheduleFlush(this, p);
    });
    s.on('drained', () => scheduleFlush(this, p));
    // The session already recovered (dropped, Idle, restart scheduled); 'down'/'state' follow for /status.
    s.on('internalError', (e, where) => this.log.error('sessionInternalError', { peer: p.key, where, error: e }));
    s.on('state', (from, to) => {
      this.log.debug('sessionState', { peer: p.key, from, to });
      // A failure before Established ('down' covers leaving Established): a refused OPEN, a NOTIFICATION in
      // OpenSent/OpenConfirm, a failed connect. It must show in /status and the log too.
      if (to === 'Idle' && from !== 'Established') this.onAttemptFailed(p);
    });
  }

  private onAttemptFailed(p: PeerEntry): void {
    const le = p.session.lastError;
    if (le === undefined || p.removed || this.stopped || le.event === 'ManualStop') return;
    p.lastError = le;
    const n = le.notification;
    if (n !== undefined && n.direction === 'received') {
      this.log.warn('peerNotification', { peer: p.key, code: n.code, subcode: n.subcode, name: notificationName(n.code, n.subcode), message: shutdownMessage(n), state: le.state });
    } else {
      this.log.info('sessionFailed', { peer: p.key, fsmEvent: le.event, state: le.state, ...(n ? { notification: notificationName(n.code, n.subcode), direction: n.direction } : {}), ...(le.error !== undefined ? { error: le.error } : {}) });
    }
  }

  private onEstablished(p: PeerEntry, neg: Negotiated, ctx: CodecContext): void {
    this.hadSession.add(p.key);
    if (p.restartState) {
      p.restartState = false;
      p.session.setCapabilities(openCapabilities(p.config, false));
    }
    p.upSince = this.clock.now();
    p.establishedCount++;
    p.eorSent = false;
    p.rib.peerReset();
    const addrs = p.session.socketAddresses;
    p.localAddress = addrs ? unmapAddress(addrs.local) : null;
    const hops = p.localAddress === null ? null : nextHopsFor(p.localAddress, this.interfaces());
    p.nextHopText = { v4: hops?.nextHop4Text ?? null, v6: hops?.nextHop6Text ?? null };
    p.policy = { localAs: p.config.myASN, peerAs: p.config.peerASN, nextHop4: hops?.nextHop4 ?? null, nextHop6: hops?.nextHop6 ?? null };
    if (!p.removed) this.metrics?.setSessionUp(p.key, true);
    this.log.info('sessionUp', {
      peer: p.key,
      localAddress: p.localAddress,
      holdTime: neg.holdTime,
      keepaliveTime: neg.keepaliveTime,
      families: ctx.families.map(familyName),
      gracefulRestart: p.gracefulRestart && peerGracefulRestart(neg) !== null,
    });
    scheduleFlush(this, p);
  }

  private onDown(p: PeerEntry, reason: LastError): void {
    p.upSince = null;
    p.policy = null;
    p.eorSent = false;
    p.rib.peerReset();
    p.lastError = reason;
    p.lastDown = reason;
    // A retired session's series belong to its successor (same key) or are already removed.
    if (!p.removed) {
      this.metrics?.setSessionUp(p.key, false);
      updateCounts(this, p);
    }
    const n = reason.notification;
    if (n !== undefined && n.direction === 'received') {
      this.log.warn('peerNotification', { peer: p.key, code: n.code, subcode: n.subcode, name: notificationName(n.code, n.subcode), message: shutdownMessage(n) });
    }
    this.log.warn('sessionDown', { peer: p.key, fsmEvent: reason.event, state: reason.state, ...(n ? { notification: notificationName(n.code, n.subcode), direction: n.direction } : {}), ...(reason.error !== undefined ? { error: reason.error } : {}) });
  }

  /**
   * Counts a refused inbound connection (ingot_bgp_connections_refused_total) and logs it rate-limited: a
   * scan or a flood of connections must not flood the log. The first refusal of a window is logged in
   * full; the rest are counted and summed up in one 'connectionsRefusedSuppressed' line when the window
   * (REFUSED_LOG_INTERVAL_MS) ends.
   */
  refused(remote: string, remotePort: number | undefined, stopping: boolean): void {
    this.metrics?.addConnectionRefused(stopping ? 'shutting-down' : 'unconfigured');
    const r = this.refusedLog;
    const now = this.clock.now();
    if (r.windowStart === null || (now - r.windowStart >= REFUSED_LOG_INTERVAL_MS && r.timer === null)) {
      r.windowStart = now;
      this.log.warn('connectionRefused', { remote, remotePort, why: stopping ? 'shutting down' : 'not a configured peer' });
      return;
    }
    r.suppressed++;
    r.last = remote;
    if (r.timer !== null) return;
    r.timer = this.clock.setTimeout(() => {
      r.timer = null;
      const count = r.suppressed;
      r.suppressed = 0;
      r.windowStart = this.clock.now();
      try {
        this.log.warn('connectionsRefusedSuppressed', { count, lastRemote: r.last, intervalSeconds: REFUSED_LOG_INTERVAL_MS / 1000 });
      } catch {
        // a logger that throws must not take the timer down with it
      }
    }, Math.max(0, r.windowStart + REFUSED_LOG_INTERVAL_MS - now));
  }
}
