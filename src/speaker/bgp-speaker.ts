// The BGP speaker of one node: one BgpSession per configured peer that selects this node, one passive
// listener shared by them, and per peer an Adj-RIB-Out fed by a desired-state API. It is the glue between
// the pure parts (config, announce, Adj-RIB-Out, codec) and the session driver; see README.md for the data
// flow. What it decides itself:
//   - peer diffing (MetalLB §3.2: deep equality; an unchanged peer keeps its session, a changed or removed one
//     gets a Cease NOTIFICATION, RFC 4486 subcodes 6 and 3, and a changed one a new session);
//   - which inbound connections to accept (configured peers only, by source address, RFC 4271 §8.2.1.1);
//   - the export policy of each session (NEXT_HOP self from the socket's local address, RFC 4271 §5.1.3; the
//     IPv6 next hop, RFC 2545 §3);
//   - when to flush: at most once per event-loop turn, after Established, after the send queue drained, on
//     ROUTE-REFRESH (RFC 2918 §4), and End-of-RIB after the initial table (RFC 4724 §2);
//   - socket options through src/net (TCP-MD5 RFC 2385, TTL for eBGP and multihop, GTSM RFC 5082).
import * as net from 'node:net';
import * as os from 'node:os';
import { AdjRibOut, type ExportPolicy, type Route, type UnsendableRoute } from '../bgp/adj-rib-out.js';
import type { Clock, TimerHandle } from '../clock.js';
import { systemClock } from '../clock.js';
import {
  Afi,
  CapabilityCode,
  CeaseSubcode,
  GR_FORWARDING_STATE,
  GracefulRestartFlag,
  NotificationCode,
  Safi,
  capability,
  capabilityCodeName,
  encodeMessage,
  endOfRib,
  notificationName,
} from '../bgp/index.js';
import type { LastError, Negotiated } from '../bgp/fsm.js';
import { BgpSession, type SessionOptions } from '../bgp/session.js';
import type { Capability, CodecContext, Family } from '../bgp/types.js';
import type { Peer } from '../config/types.js';
import { familyOfText, formatIPv4, type IPFamily } from '../ip/index.js';
import { nullLogger, type Logger } from '../log.js';
import type { SpeakerMetrics } from '../metrics/registry.js';
import type { NativeAddon } from '../net/native.js';
import { loadNative } from '../net/native.js';
import { createBgpListener, createBgpSocket, setMd5Key, setMinTtl, setTtl, GTSM_TTL } from '../net/sockopt.js';
import { addressKey, chooseRouterId, nextHopsFor, unmapAddress, type InterfaceTable, type RouterIdChoice } from './addresses.js';

/** A Service as the speaker reports it: announced (reason null) or withdrawn with MetalLB's reason. */
export interface ServiceAnnouncement {
  /** "namespace/name" */
  readonly service: string;
  readonly ips: readonly string[];
  /** Prefixes the Service contributes (empty when withdrawn). */
  readonly prefixes: readonly string[];
  /** null: announced; otherwise why not (metallb-compat.md §3.1, or ingot's reasons). */
  readonly reason: string | null;
}

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
}

/** How long stop() waits for the Cease NOTIFICATIONs to be written before giving up (ms). */
export const STOP_TIMEOUT_MS = 5000;
/** Largest slice of UPDATEs handed to the session at once, so its back-pressure stays fine-grained. */
const SLICE_BYTES = 64 * 1024;

interface Listener {
  readonly family: IPFamily;
  readonly server: net.Server;
  /** The TCP-MD5 keys set on it: peer address → key. */
  keys: Map<string, string>;
}

interface PeerEntry {
  readonly key: string;
  readonly config: Peer;
  readonly configKey: string;
  readonly session: BgpSession;
  readonly routerId: RouterIdChoice;
  readonly gracefulRestart: boolean;
  /** Our OPENs carry the graceful-restart Restart State bit (until the first session after start is up). */
  restartState: boolean;
  rib: AdjRibOut;
  /** The last list given to setAdvertisements. */
  desired: readonly Route[];
  /** setAdvertisements was called for this peer: the desired table is known (End-of-RIB may follow it). */
  initialized: boolean;
  eorSent: boolean;
  flushScheduled: boolean;
  policy: ExportPolicy | null;
  nextHopText: { v4: string | null; v6: string | null };
  localAddress: string | null;
  upSince: number | null;
  establishedCount: number;
  updatesSent: number;
  updatesReceived: number;
  treatAsWithdraw: number;
  routeRefreshes: number;
  lastError: LastError | null;
  /** Why the last Established session ended (lastError also covers failed attempts since). */
  lastDown: LastError | null;
  socketError: string | null;
  started: boolean;
  removed: boolean;
}

export class BgpSpeaker {
  readonly nodeName: string;
  private readonly metrics: SpeakerMetrics | undefined;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly interfaces: () => InterfaceTable;
  private readonly nativeLoader: () => NativeAddon;
  private readonly defer: (fn: () => void) => void;
  private readonly sessionExtra: BgpSpeakerDeps['session'];
  private readonly listenAt: { host: string; port: number } | null;
  private readonly peers = new Map<string, PeerEntry>();
  /** Stops of replaced/removed sessions still writing their NOTIFICATION. */
  private readonly closing = new Set<Promise<void>>();
  /** Peers (by key) that had an established session in this process: later OPENs do not claim a restart. */
  private readonly hadSession = new Set<string>();
  /** One listening socket per address family (the native addon's IPv6 sockets are IPv6-only). */
  private listeners: Listener[] = [];
  private services: ServiceAnnouncement[] = [];
  private stopped = false;
  private readonly started: number;

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
    this.listenAt = opts.listen ?? null;
    this.started = this.clock.now();
  }

  /**
   * Opens the passive listener(s) (when configured). Rejects when an address cannot be bound. The IPv6
   * wildcard `::` listens on both families, as routing daemons do: one socket per family, so each gets the
   * TCP-MD5 keys of its own peers (RFC 2385) whether or not any peer has a password.
   */
  async start(): Promise<void> {
    if (this.listenAt === null || this.listeners.length > 0) return;
    const { host, port } = this.listenAt;
    const wildcard6 = net.isIPv6(host) && /^[0:]+$/.test(host);
    const specs: { family: IPFamily; host: string }[] = wildcard6
      ? [{ family: 4, host: '0.0.0.0' }, { family: 6, host: '::' }]
      : [{ family: net.isIPv6(host) ? 6 : 4, host }];
    let bound = port;
    try {
      for (const spec of specs) {
        // With port 0 (tests), the second family takes the port the first was given.
        const l = await this.openListener(spec.family, spec.host, bound);
        bound = (l.server.address() as net.AddressInfo).port;
        this.listeners.push(l);
      }
    } catch (e) {
      for (const l of this.listeners) l.server.close();
      this.listeners = [];
      throw e;
    }
  }

  private async openListener(family: IPFamily, host: string, port: number): Promise<Listener> {
    const md5 = this.listenerMd5Keys(family);
    let server: net.Server;
    if (md5.size > 0) {
      // Keys set before listen(): no handshake from a keyed peer is ever accepted unsigned (RFC 2385).
      const keys = [...md5].map(([peer, key]) => ({ peer, key }));
      server = await createBgpListener({ family, localAddress: host, port, md5: keys }, this.nativeLoader());
    } else {
      server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        // ipv6Only: a key added later (setPeers) goes on this socket for IPv6 peers only; IPv4 peers must
        // arrive on the IPv4 socket, which holds their keys.
        server.listen({ host, port, exclusive: true, ...(family === 6 ? { ipv6Only: true } : {}) }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    }
    server.on('connection', (s) => this.onInbound(s));
    server.on('error', (e) => this.log.error('listenerError', { error: e }));
    const a = server.address() as net.AddressInfo;
    this.log.info('bgpListening', { address: a.address, port: a.port });
    return { family, server, keys: md5 };
  }

  /** The configured passwords of the peers of one family: peer address → key. */
  private listenerMd5Keys(family: IPFamily): Map<string, string> {
    const want = new Map<string, string>();
    for (const p of this.peers.values()) {
      if (p.config.password !== null && familyOfText(p.config.peerAddress) === family) want.set(p.config.peerAddress, p.config.password);
    }
    return want;
  }

  /** The first listener's bound address (port resolved when 0 was asked), or null. */
  get listenAddress(): { address: string; port: number } | null {
    return this.listenAddresses[0] ?? null;
  }

  /** Every listener's bound address, IPv4 first. */
  get listenAddresses(): { address: string; port: number }[] {
    const out: { address: string; port: number }[] = [];
    for (const l of this.listeners) {
      const a = l.server.address();
      if (a !== null && typeof a === 'object') out.push({ address: a.address, port: a.port });
    }
    return out;
  }

  /** Metric/status label of a peer: "ip:port", "[v6]:port" (MetalLB §3.3). */
  static peerKey(p: Pick<Peer, 'peerAddress' | 'peerPort'>): string {
    return net.isIPv6(p.peerAddress) ? `[${p.peerAddress}]:${p.peerPort}` : `${p.peerAddress}:${p.peerPort}`;
  }

  /** Keys of the current peers, in config order. */
  peerKeys(): string[] {
    return [...this.peers.keys()];
  }

  /** The session of a peer (tests, diagnostics). */
  sessionOf(key: string): BgpSession | undefined {
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
        entry.desired = old.desired;
        entry.rib.setDesired(old.desired);
        entry.initialized = old.initialized;
        this.peers.set(key, entry);
        // The series now describe the new session, which is not up yet.
        this.metrics?.setSessionUp(key, false);
        this.updateCounts(entry);
        void stopping.then(() => this.startEntry(entry));
      }
    }
    for (const [key, p] of next) {
      if (this.peers.has(key)) continue;
      this.log.info('peerAdded', { peer: key, myASN: p.myASN, peerASN: p.peerASN });
      const entry = this.createEntry(key, p);
      this.peers.set(key, entry);
      this.startEntry(entry);
    }
    // Keep config order (status and metrics read best that way).
    const ordered = [...next.keys()].map((k) => [k, this.peers.get(k)!] as const);
    this.peers.clear();
    for (const [k, e] of ordered) this.peers.set(k, e);
    this.syncListenerKeys();
  }

  /**
   * The whole list of routes `peer` should carry (desired state). Diffed against what the peer has and
   * flushed once the current burst of calls is over.
   */
  setAdvertisements(peer: string, routes: readonly Route[]): void {
    const p = this.peers.get(peer);
    if (p === undefined) throw new RangeError(`unknown peer ${peer}`);
    p.desired = routes;
    p.rib.setDesired(routes);
    p.initialized = true;
    this.scheduleFlush(p);
  }

  /** The same list to every peer (what MetalLB's BGP mode does, §3.2). */
  setAdvertisementsAll(routes: readonly Route[]): void {
    for (const key of this.peers.keys()) this.setAdvertisements(key, routes);
  }

  /**
   * The per-Service view for /status and `metallb_speaker_announced` (replaced as a whole). Logs
   * serviceAnnounced / serviceWithdrawn when a Service's state changes, with MetalLB's event names.
   */
  setServices(list: readonly ServiceAnnouncement[]): void {
    const before = new Map(this.services.map((s) => [s.service, s]));
    for (const s of list) {
      const was = before.get(s.service);
      const wasOn = was !== undefined && was.reason === null;
      if (s.reason === null && (!wasOn || was.ips.join() !== s.ips.join())) {
        this.log.info('serviceAnnounced', { service: s.service, ips: s.ips, prefixes: s.prefixes });
      } else if (s.reason !== null && (was === undefined || was.reason !== s.reason)) {
        (wasOn ? this.log.info : this.log.debug)('serviceWithdrawn', { service: s.service, reason: s.reason });
      }
      before.delete(s.service);
    }
    for (const s of before.values()) {
      if (s.reason === null) this.log.info('serviceWithdrawn', { service: s.service, reason: 'serviceDeleted' });
    }
    this.services = [...list];
    this.metrics?.setAnnounced(
      list.filter((s) => s.reason === null).flatMap((s) => s.ips.map((ip) => ({ service: s.service, protocol: 'bgp' as const, node: this.nodeName, ip }))),
    );
  }

  /**
   * Clean shutdown: Cease / Administrative Shutdown (RFC 4486) with an RFC 9003 shutdown communication to
   * every peer, then close. Resolves once the NOTIFICATIONs are written and the sockets closed, or after
   * `timeoutMs`, whichever is first.
   */
  async stop(opts: { message?: string; timeoutMs?: number } = {}): Promise<void> {
    this.stopped = true;
    const listeners = this.listeners;
    this.listeners = [];
    const listenerClosed = Promise.all(listeners.map((l) => new Promise<void>((r) => l.server.close(() => r()))));
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
      session: undefined as unknown as BgpSession,
      routerId,
      gracefulRestart: gr,
      restartState: restarting,
      rib: new AdjRibOut(),
      desired: [],
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
    const session = new BgpSession(options, {
      clock: this.clock,
      random: this.random,
      ...(needsNative ? { connect: (o: net.TcpNetConnectOpts) => this.dialNative(entry, o) } : {}),
    });
    (entry as { session: BgpSession }).session = session;
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
      this.scheduleFlush(p);
    });
    s.on('drained', () => this.scheduleFlush(p));
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
      this.log.info('sessionFailed', { peer: p.key, fsmEvent: le.event, state: le.state, ...(n ? { notification: notificationName(n.code, n.subcode), direction: n.direction } : {}) });
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
    this.scheduleFlush(p);
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
      this.updateCounts(p);
    }
    const n = reason.notification;
    if (n !== undefined && n.direction === 'received') {
      this.log.warn('peerNotification', { peer: p.key, code: n.code, subcode: n.subcode, name: notificationName(n.code, n.subcode), message: shutdownMessage(n) });
    }
    this.log.warn('sessionDown', { peer: p.key, fsmEvent: reason.event, state: reason.state, ...(n ? { notification: notificationName(n.code, n.subcode), direction: n.direction } : {}) });
  }

  // ---- flushing -------------------------------------------------------------------------------------

  private scheduleFlush(p: PeerEntry): void {
    if (p.flushScheduled) return;
    p.flushScheduled = true;
    this.defer(() => {
      p.flushScheduled = false;
      if (this.peers.get(p.key) === p && !p.removed) this.flush(p);
    });
  }

  /** Sends what the peer lacks (packed), then End-of-RIB once per session after the initial table. */
  private flush(p: PeerEntry): void {
    const s = p.session;
    if (s.state !== 'Established' || p.policy === null || !p.initialized) {
      this.updateCounts(p);
      return;
    }
    // Back-pressure: while earlier UPDATEs still queue in the session, changes accumulate in the
    // Adj-RIB-Out ('drained' flushes again). The session writes KEEPALIVEs ahead of its queue.
    if (s.pendingBytes > 0) return;
    const ctx = s.context;
    const r = p.rib.flush(ctx, p.policy);
    const slices: Uint8Array[] = [];
    for (const c of r.chunks) for (const sl of sliceMessages(c, SLICE_BYTES)) slices.push(sl);
    let updates = r.updates;
    if (!p.eorSent) {
      // RFC 4724 §2: End-of-RIB for every negotiated family once the initial UPDATEs are out. Sent even
      // without GR (harmless, and FRR/BIRD use it to end their update-delay early).
      for (const f of ctx.families) slices.push(encodeMessage(endOfRib(f), ctx));
      updates += ctx.families.length;
      p.eorSent = true;
    }
    if (slices.length > 0 && s.sendUpdates(slices)) {
      p.updatesSent += updates;
      this.metrics?.addUpdatesSent(p.key, updates);
      if (r.announced + r.withdrawn > 0) {
        this.log.debug('updatedAdvertisements', { peer: p.key, announced: r.announced, withdrawn: r.withdrawn, updates: r.updates });
      }
    }
    this.updateCounts(p);
  }

  private updateCounts(p: PeerEntry): void {
    if (this.peers.get(p.key) !== p) return;
    const up = p.session.state === 'Established';
    this.metrics?.setPrefixCounts(p.key, up ? p.rib.sentCount : 0, p.rib.pendingCount());
  }

  // ---- sockets --------------------------------------------------------------------------------------

  /** Outgoing connection with options Node lacks: the fd is configured before the first SYN (src/net). */
  private dialNative(p: PeerEntry, o: net.TcpNetConnectOpts): net.Socket {
    const c = p.config;
    const addon = this.addonForTtlOnly(p);
    if (addon === null) return net.connect(o);
    try {
      const ttl = ttlFor(c);
      const sock = createBgpSocket(
        {
          family: familyOfText(c.peerAddress),
          ...(c.sourceAddress !== null ? { localAddress: c.sourceAddress } : {}),
          ...(c.password !== null ? { md5: { peer: c.peerAddress, key: c.password } } : {}),
          ...(ttl !== undefined ? { ttl } : {}),
          ...(c.gtsm ? { minTtl: GTSM_TTL } : {}),
        },
        addon,
      );
      p.socketError = null;
      return sock.connect({ host: o.host!, port: o.port });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (p.socketError !== msg) this.log.error('socketOptions', { peer: p.key, error: msg });
      p.socketError = msg;
      throw e;
    }
  }

  /**
   * The addon, or null when it cannot be loaded and the peer only wanted the eBGP TTL of 1: that TTL is a
   * safety default, not something the user asked for, so the session goes ahead with the system TTL (and a
   * warning) rather than not at all. A password or GTSM without the addon stays an error (thrown).
   */
  private addonForTtlOnly(p: PeerEntry): NativeAddon | null {
    try {
      return this.nativeLoader();
    } catch (e) {
      const c = p.config;
      if (c.password !== null || c.gtsm || c.ebgpMultihop) {
        const msg = e instanceof Error ? e.message : String(e);
        if (p.socketError !== msg) this.log.error('socketOptions', { peer: p.key, error: msg });
        p.socketError = msg;
        throw e;
      }
      if (p.socketError === null) this.log.warn('ttlNotSet', { peer: p.key, why: e instanceof Error ? e.message : String(e) });
      p.socketError = 'eBGP TTL 1 not set: native addon unavailable';
      return null;
    }
  }

  private onInbound(socket: net.Socket): void {
    const remote = unmapAddress(socket.remoteAddress ?? '');
    socket.on('error', () => {});
    const key = addressKey(remote);
    const p = [...this.peers.values()].find((e) => !e.removed && addressKey(e.config.peerAddress) === key);
    if (p === undefined || this.stopped) {
      // RFC 4271 §8.2.1.1: only configured peers. Closed without a NOTIFICATION: an unknown host gets no BGP.
      this.log.warn('connectionRefused', { remote, remotePort: socket.remotePort, why: this.stopped ? 'shutting down' : 'not a configured peer' });
      socket.destroy();
      return;
    }
    try {
      const ttl = ttlFor(p.config);
      const addon = ttl !== undefined || p.config.gtsm ? this.addonForTtlOnly(p) : null;
      if (addon !== null && ttl !== undefined) setTtl(socket, ttl, addon);
      if (addon !== null && p.config.gtsm) setMinTtl(socket, GTSM_TTL, addon);
    } catch (e) {
      this.log.error('socketOptions', { peer: p.key, error: e });
      socket.destroy();
      return;
    }
    if (!p.session.acceptInbound(socket)) this.log.debug('inboundRejected', { peer: p.key, state: p.session.state });
  }

  /** Keeps each listener's TCP-MD5 keys equal to the configured passwords of its family's peers (RFC 2385). */
  private syncListenerKeys(): void {
    for (const l of this.listeners) {
      const want = this.listenerMd5Keys(l.family);
      try {
        for (const [peer] of l.keys) if (!want.has(peer)) setMd5Key(l.server, peer, null, this.nativeLoader());
        for (const [peer, key] of want) if (l.keys.get(peer) !== key) setMd5Key(l.server, peer, key, this.nativeLoader());
        l.keys = want;
      } catch (e) {
        this.log.error('listenerMd5', { error: e });
      }
    }
  }

  // ---- /status --------------------------------------------------------------------------------------

  status(): SpeakerStatus {
    const now = this.clock.now();
    const sessions: SessionStatus[] = [...this.peers.values()].map((p) => this.sessionStatus(p, now));
    const sentTo = new Map<string, string[]>();
    for (const p of this.peers.values()) {
      if (p.session.state !== 'Established' || p.policy === null) continue;
      const bad = new Set(p.rib.unsendable(p.session.context, p.policy).map((u) => u.prefix));
      for (const r of p.desired) {
        if (bad.has(r.prefix)) continue;
        let l = sentTo.get(r.prefix);
        if (l === undefined) sentTo.set(r.prefix, (l = []));
        l.push(p.key);
      }
    }
    const announcements = this.services.map((s) => ({
      service: s.service,
      ips: [...s.ips],
      prefixes: [...s.prefixes],
      peers: s.reason === null ? [...new Set(s.prefixes.flatMap((x) => sentTo.get(x) ?? []))].sort() : [],
      reason: s.reason,
    }));
    const listen = this.listenAddresses;
    return { node: this.nodeName, uptimeSeconds: Math.floor((now - this.started) / 1000), listen: listen[0] ?? null, listeners: listen, sessions, announcements };
  }

  private sessionStatus(p: PeerEntry, now: number): SessionStatus {
    const s = p.session;
    const neg = s.negotiated;
    const up = s.state === 'Established' && neg !== undefined;
    const ctx = s.context;
    const unsendable: UnsendableRoute[] = up && p.policy !== null ? p.rib.unsendable(ctx, p.policy) : [];
    const le = p.lastError;
    return {
      peer: p.key,
      peerAddress: p.config.peerAddress,
      peerPort: p.config.peerPort,
      myASN: p.config.myASN,
      peerASN: p.config.peerASN,
      routerID: p.routerId.text,
      routerIDSource: p.routerId.source,
      state: s.state,
      direction: up ? s.direction : null,
      localAddress: up ? p.localAddress : null,
      uptimeSeconds: up && p.upSince !== null ? Math.floor((now - p.upSince) / 1000) : null,
      establishedTransitions: p.establishedCount,
      dials: s.dials,
      negotiated: up
        ? {
            holdTime: neg.holdTime,
            keepaliveTime: neg.keepaliveTime,
            peerBgpId: formatIPv4(neg.peerBgpId),
            peerAs: neg.peerAs,
            fourOctetAs: ctx.as4,
            extendedMessage: ctx.extendedMessage,
            families: ctx.families.map(familyName),
            peerCapabilities: neg.open.capabilities.map((c) => capabilityCodeName(c.code)),
            routeRefresh: neg.open.capabilities.some((c) => c.code === CapabilityCode.RouteRefresh),
            gracefulRestart: p.gracefulRestart ? peerGracefulRestart(neg) : null,
          }
        : null,
      nextHops: up ? { ipv4: p.nextHopText.v4, ipv6: p.nextHopText.v6 } : null,
      gracefulRestart: p.gracefulRestart ? { restartTime: p.config.gracefulRestartTime } : null,
      prefixes: {
        desired: p.rib.desiredCount,
        sent: up ? p.rib.sentCount : 0,
        pending: p.rib.pendingCount(),
        unsendable,
      },
      endOfRibSent: up && p.eorSent,
      messages: { sent: messageCounts(s.sent), received: messageCounts(s.received) },
      updatesSent: p.updatesSent,
      updatesReceived: p.updatesReceived,
      treatAsWithdraw: p.treatAsWithdraw,
      routeRefreshesReceived: p.routeRefreshes,
      lastError: le === null ? null : describeLastError(le),
      lastDown: p.lastDown === null ? null : describeLastError(p.lastDown),
      socketError: p.socketError,
    };
  }
}

export interface SessionStatus {
  peer: string;
  peerAddress: string;
  peerPort: number;
  myASN: number;
  peerASN: number;
  routerID: string;
  routerIDSource: RouterIdChoice['source'];
  state: string;
  direction: 'inbound' | 'outbound' | null;
  localAddress: string | null;
  uptimeSeconds: number | null;
  establishedTransitions: number;
  dials: number;
  negotiated: {
    holdTime: number;
    keepaliveTime: number;
    peerBgpId: string;
    peerAs: number;
    fourOctetAs: boolean;
    extendedMessage: boolean;
    families: string[];
    peerCapabilities: string[];
    routeRefresh: boolean;
    gracefulRestart: { restartTime: number; restartState: boolean } | null;
  } | null;
  nextHops: { ipv4: string | null; ipv6: string | null } | null;
  gracefulRestart: { restartTime: number } | null;
  prefixes: { desired: number; sent: number; pending: number; unsendable: UnsendableRoute[] };
  endOfRibSent: boolean;
  messages: { sent: Record<string, number>; received: Record<string, number> };
  updatesSent: number;
  updatesReceived: number;
  treatAsWithdraw: number;
  routeRefreshesReceived: number;
  lastError: LastErrorStatus | null;
  lastDown: LastErrorStatus | null;
  socketError: string | null;
}

export interface LastErrorStatus {
  event: string;
  state: string;
  notification: { direction: 'sent' | 'received'; code: number; subcode: number; name: string; message: string | null } | null;
}

export interface SpeakerStatus {
  node: string;
  uptimeSeconds: number;
  /** The first listener (kept for scripts written against it); `listeners` has all of them. */
  listen: { address: string; port: number } | null;
  listeners: { address: string; port: number }[];
  sessions: SessionStatus[];
  announcements: { service: string; ips: string[]; prefixes: string[]; peers: string[]; reason: string | null }[];
}

// ---- helpers ------------------------------------------------------------------------------------------

/** Fields whose change needs a new session; everything of the peer entry (MetalLB: reflect.DeepEqual). */
function peerConfigKey(p: Peer): string {
  return JSON.stringify(p, (_k, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? sortKeys(v as Record<string, unknown>) : v));
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}

/**
 * Sending TTL: 255 for GTSM (RFC 5082 §3) and for ebgp-multihop; 1 for other eBGP sessions (the peer is
 * directly connected, as FRR and BIRD assume by default); the system default for iBGP.
 */
export function ttlFor(p: Pick<Peer, 'gtsm' | 'ebgpMultihop' | 'myASN' | 'peerASN'>): number | undefined {
  if (p.gtsm || p.ebgpMultihop) return GTSM_TTL;
  if (p.myASN !== p.peerASN) return 1;
  return undefined;
}

function familyName(f: Family): string {
  const afi = f.afi === Afi.Ipv4 ? 'ipv4' : f.afi === Afi.Ipv6 ? 'ipv6' : `afi${f.afi}`;
  const safi = f.safi === Safi.Unicast ? 'unicast' : f.safi === Safi.Multicast ? 'multicast' : `safi${f.safi}`;
  return `${afi}-${safi}`;
}

/**
 * Our OPEN's capabilities: MP IPv4 and IPv6 unicast (RFC 4760), route refresh (RFC 2918), and graceful restart
 * when configured (RFC 4724 §3). Forwarding State (F) is set for both families: the data plane (kube-proxy,
 * the kernel) does not depend on this process, so a restart of ingot loses no forwarding.
 */
function openCapabilities(config: Peer, restartState: boolean): Capability[] {
  const caps: Capability[] = [capability.multiprotocol(Afi.Ipv4, Safi.Unicast), capability.multiprotocol(Afi.Ipv6, Safi.Unicast), capability.routeRefresh()];
  if (config.gracefulRestart) {
    caps.push(
      capability.gracefulRestart(
        config.gracefulRestartTime,
        [
          { afi: Afi.Ipv4, safi: Safi.Unicast, flags: GR_FORWARDING_STATE },
          { afi: Afi.Ipv6, safi: Safi.Unicast, flags: GR_FORWARDING_STATE },
        ],
        restartState ? GracefulRestartFlag.RestartState : 0,
      ),
    );
  }
  return caps;
}

function peerGracefulRestart(neg: Negotiated): { restartTime: number; restartState: boolean } | null {
  const c = neg.open.capabilities.find((x) => x.kind === 'graceful-restart');
  if (c === undefined || c.kind !== 'graceful-restart') return null;
  return { restartTime: c.restartTime, restartState: (c.flags & GracefulRestartFlag.RestartState) !== 0 };
}

const MESSAGE_NAMES: Record<number, string> = { 1: 'open', 2: 'update', 3: 'notification', 4: 'keepalive', 5: 'routeRefresh' };

function messageCounts(c: Record<number, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(c)) out[MESSAGE_NAMES[Number(k)] ?? `type${k}`] = v;
  return out;
}

/** The RFC 9003 shutdown communication of a Cease/Administrative Shutdown or Reset, if it carries one. */
export function shutdownMessage(n: { code: number; subcode: number; data: Uint8Array }): string | null {
  if (n.code !== NotificationCode.Cease) return null;
  if (n.subcode !== CeaseSubcode.AdministrativeShutdown && n.subcode !== CeaseSubcode.AdministrativeReset) return null;
  const len = n.data[0];
  if (len === undefined || len === 0 || n.data.length < 1 + len) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(n.data.subarray(1, 1 + len));
  } catch {
    return null;
  }
}

function describeLastError(le: LastError): LastErrorStatus {
  const n = le.notification;
  return {
    event: le.event,
    state: le.state,
    notification:
      n === undefined
        ? null
        : { direction: n.direction, code: n.code, subcode: n.subcode, name: notificationName(n.code, n.subcode), message: shutdownMessage(n) },
  };
}

/** Splits a buffer of whole BGP messages into slices of at most ~max octets, at message boundaries. */
export function sliceMessages(buf: Uint8Array, max: number): Uint8Array[] {
  if (buf.length <= max) return buf.length === 0 ? [] : [buf];
  const out: Uint8Array[] = [];
  let start = 0;
  let p = 0;
  while (p < buf.length) {
    const len = (buf[p + 16]! << 8) | buf[p + 17]!; // RFC 4271 §4.1 Length field
    if (len < 19) throw new RangeError(`corrupt message length ${len} at offset ${p}`);
    if (p + len - start > max && p > start) {
      out.push(buf.subarray(start, p));
      start = p;
    }
    p += len;
  }
  if (start < buf.length) out.push(buf.subarray(start));
  return out;
}
