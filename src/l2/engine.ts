// The Layer 2 engine: the I/O edge that turns "this node answers for these IPs" into AF_PACKET sockets on the
// right interfaces, answers ARP requests and Neighbor Solicitations through the pure responder, sends
// gratuitous bursts when an IP arrives here, and reports another MAC claiming one of our IPs. Ownership (who
// answers for what) is decided elsewhere (the Layer 2 announcer) and given to `setOwned`.
//
// Robust edges: a socket that cannot be opened (no CAP_NET_RAW, interface gone) is reported in status() and
// the log and retried at the next interface scan; a frame that cannot be decoded is counted by reason; a send
// that fails is counted; a conflict callback that throws is logged. Nothing here throws into the event loop.
import type { Clock, TimerHandle } from '../clock.js';
import { formatIPv4, formatIPv6Bytes, ipv4Number, ipv6Bytes } from '../ip/index.js';
import { nullLogger, type Logger } from '../log.js';
import { gratuitousArpFrames, parseMac, unsolicitedNaFrame, ipv6MulticastMac, solicitedNodeMulticast } from './frames.js';
import { chooseInterfaces, readInterfaceFacts, type InterfaceFacts } from './interfaces.js';
import { respond, responderContext, type ResponderContext } from './responder.js';
import { PacketType, type L2Protocol, type L2Socket, type L2Transport, type ReceivedFrame } from './transport.js';

export interface Layer2Engine {
  /**
   * The IPs this node answers for now (replaces the previous set). An IP that is new here gets a gratuitous
   * burst (GARP request + reply forms for IPv4, unsolicited NA with O flag to all-nodes for IPv6) on each chosen
   * interface. Throws a RangeError, changing nothing, when an entry is not an IP address.
   */
  setOwned(ips: readonly string[]): void;
  /** Another MAC answered (ARP reply / NA, or its own gratuitous ARP) for an IP we own: split-brain guard input. */
  onConflict(cb: (ip: string, otherMac: string, iface: string) => void): void;
  /**
   * A gratuitous burst now for IPs already owned (others are ignored): the announcer calls it when this node
   * wins a conflict, because the loser's takeover burst may have moved clients' entries to its MAC.
   */
  reannounce(ips: readonly string[]): void;
  /** Per IP: interfaces, rule, frames; per interface: sockets and errors; counters. */
  status(): Layer2Status;
  stop(): Promise<void>;
}

/** What the engine reports to metrics; `Layer2Metrics` of src/metrics/registry.ts has this shape. */
export interface Layer2MetricsSink {
  addIp(ip: string): void;
  forgetIp(ip: string): void;
  requestReceived(ip: string): void;
  responseSent(ip: string): void;
  gratuitousSent(ip: string, frames: number): void;
  malformedFrame(reason: string): void;
}

export interface GratuitousOptions {
  /** Rounds in the burst when an IP arrives (default 3). Each round: 2 ARP frames or 1 NA per interface. */
  rounds?: number;
  /** Gap between rounds (default 100 ms, so 3 rounds span 200 ms). */
  intervalMs?: number;
  /** Re-send one round for every owned IP this often; 0 or absent: off (the default). */
  refreshMs?: number;
}

export interface Layer2EngineOptions {
  transport: L2Transport;
  clock: Clock;
  /** The interface table (default: os.networkInterfaces() and /sys/class/net). Read at each setOwned and scan. */
  interfaces?: () => InterfaceFacts[];
  /** `--l2-interfaces`: answer only on these (still by the subnet rule among them). */
  onlyInterfaces?: readonly string[];
  gratuitous?: GratuitousOptions;
  /** Interface rescan period (default 10 s, as MetalLB); picks up new addresses, links and ifindex changes. */
  rescanMs?: number;
  metrics?: Layer2MetricsSink;
  log?: Logger;
}

export interface Layer2IpStatus {
  interfaces: string[];
  rule: 'subnet' | 'fallback';
  /** Clock time (ms) the IP became owned here. */
  since: number;
  requestsReceived: number;
  responsesSent: number;
  gratuitousSent: number;
}

export interface Layer2InterfaceStatus {
  ifindex: number;
  mac: string;
  arp: boolean;
  ndp: boolean;
  ips: string[];
  /** Last socket error (open, receive or send) on this interface, if any. */
  error: string | null;
}

export interface Layer2Status {
  ips: Record<string, Layer2IpStatus>;
  interfaces: Record<string, Layer2InterfaceStatus>;
  counters: {
    framesReceived: number;
    malformed: Record<string, number>;
    ignored: Record<string, number>;
    sendErrors: number;
    conflicts: number;
  };
}

interface IpState {
  readonly ip: string;
  readonly v6: boolean;
  /** IPv4 as a number, IPv6 as octets. */
  readonly v4n: number;
  readonly v6b: Uint8Array;
  readonly since: number;
  interfaces: string[];
  rule: 'subnet' | 'fallback';
  requests: number;
  responses: number;
  gratuitous: number;
  timers: Set<TimerHandle>;
}

interface IfaceState {
  facts: InterfaceFacts;
  mac: Uint8Array;
  arp: L2Socket | null;
  ndp: L2Socket | null;
  /** Solicited-node group MACs joined on the ndp socket (hex). */
  groups: Set<string>;
  /** Solicited-node groups joined at the IP level (text), for MLD-snooping switches. */
  mld: Set<string>;
  ips: string[];
  ctx: ResponderContext;
  error: string | null;
}

const DEFAULT_ROUNDS = 3;
const DEFAULT_INTERVAL_MS = 100;
const DEFAULT_RESCAN_MS = 10_000;

/** Canonical text of an IP (RFC 5952 for IPv6), or a RangeError naming the bad entry. */
function canonical(ip: string): string {
  if (typeof ip !== 'string') throw new RangeError(`Layer 2 owned IP ${String(ip)} is not a string`);
  try {
    return ip.includes(':') ? formatIPv6Bytes(ipv6Bytes(ip), 0) : formatIPv4(ipv4Number(ip));
  } catch {
    throw new RangeError(`Layer 2 owned IP '${ip}' is not an IPv4 or IPv6 address`);
  }
}

export function createLayer2Engine(opts: Layer2EngineOptions): Layer2Engine {
  const { transport, clock } = opts;
  const log = opts.log ?? nullLogger;
  const metrics = opts.metrics;
  const readFacts = opts.interfaces ?? (() => readInterfaceFacts());
  const rounds = Math.max(1, Math.floor(opts.gratuitous?.rounds ?? DEFAULT_ROUNDS));
  const intervalMs = Math.max(0, opts.gratuitous?.intervalMs ?? DEFAULT_INTERVAL_MS);
  const refreshMs = opts.gratuitous?.refreshMs ?? 0;
  const rescanMs = opts.rescanMs ?? DEFAULT_RESCAN_MS;

  const owned = new Map<string, IpState>();
  const ifaces = new Map<string, IfaceState>();
  const conflictCbs: Array<(ip: string, otherMac: string, iface: string) => void> = [];
  const counters = { framesReceived: 0, malformed: {} as Record<string, number>, ignored: {} as Record<string, number>, sendErrors: 0, conflicts: 0 };
  let facts: InterfaceFacts[] = [];
  let factsKey = '';
  let stopped = false;
  let rescanTimer: TimerHandle | null = null;
  let refreshTimer: TimerHandle | null = null;

  const bump = (rec: Record<string, number>, k: string): void => {
    rec[k] = (rec[k] ?? 0) + 1;
  };

  function setError(st: IfaceState, name: string, err: unknown, event: string): void {
    const msg = err instanceof Error ? err.message : String(err);
    if (st.error !== msg) log.error(event, { iface: name, error: msg });
    st.error = msg;
  }

  function scan(): boolean {
    try {
      const next = readFacts();
      const key = JSON.stringify(next);
      if (key === factsKey) return false;
      facts = next;
      factsKey = key;
      return true;
    } catch (err) {
      // Keep the last good table: answering on yesterday's interfaces beats answering on none.
      log.error('layer2InterfaceScanFailed', { error: err });
      return false;
    }
  }

  function send(st: IfaceState, name: string, sock: L2Socket | null, frame: Buffer): boolean {
    if (sock === null) return false;
    try {
      sock.send(frame);
      return true;
    } catch (err) {
      counters.sendErrors++;
      setError(st, name, err, 'layer2SendFailed');
      return false;
    }
  }

  function onFrame(name: string, proto: L2Protocol, rf: ReceivedFrame): void {
    const st = ifaces.get(name);
    if (st === undefined || stopped) return;
    counters.framesReceived++;
    // A promiscuous NIC (tcpdump, a bridge) delivers frames for other stations too: never ours to answer.
    if (rf.pkttype === PacketType.OtherHost) {
      bump(counters.ignored, 'other-host');
      return;
    }
    const out = respond(rf.frame, st.ctx);
    if (out.drop !== undefined) {
      if (out.malformed) {
        bump(counters.malformed, out.drop);
        metrics?.malformedFrame(out.drop);
      } else {
        bump(counters.ignored, out.drop);
      }
    }
    if (out.requestFor !== undefined) {
      const ip = owned.get(out.requestFor);
      if (ip) ip.requests++;
      metrics?.requestReceived(out.requestFor);
    }
    if (out.reply !== undefined && send(st, name, proto === 'arp' ? st.arp : st.ndp, out.reply) && out.requestFor !== undefined) {
      const ip = owned.get(out.requestFor);
      if (ip) ip.responses++;
      metrics?.responseSent(out.requestFor);
    }
    // Our own frames from another of our interfaces on the same segment (the fallback rule can pick several)
    // claim our IPs with our own MACs: not a conflict.
    if (out.conflict !== undefined && facts.some((f) => f.mac === out.conflict!.mac)) {
      bump(counters.ignored, 'own-interface');
    } else if (out.conflict !== undefined) {
      counters.conflicts++;
      log.debug('layer2ConflictSeen', { ip: out.conflict.ip, mac: out.conflict.mac, iface: name });
      for (const cb of conflictCbs) {
        try {
          cb(out.conflict.ip, out.conflict.mac, name);
        } catch (err) {
          log.error('layer2ConflictHandlerFailed', { ip: out.conflict.ip, error: err });
        }
      }
    }
  }

  function openSocket(st: IfaceState, name: string, proto: L2Protocol): L2Socket | null {
    try {
      const s = transport.open(
        st.facts.ifindex,
        proto,
        (rf) => onFrame(name, proto, rf),
        (err) => {
          const cur = ifaces.get(name);
          if (cur) setError(cur, name, err, 'layer2ReceiveError');
        },
      );
      // Sockets that failed earlier are retried at every setOwned and scan; success clears the error shown.
      if (st.error !== null) log.info('layer2SocketOpened', { iface: name, protocol: proto, previousError: st.error });
      st.error = null;
      return s;
    } catch (err) {
      setError(st, name, err, 'layer2SocketOpenFailed');
      return null;
    }
  }

  function closeIface(st: IfaceState): void {
    for (const s of [st.arp, st.ndp]) {
      try {
        s?.close();
      } catch {
        // closing is best effort: the fd is gone either way once the addon's close ran
      }
    }
    st.arp = null;
    st.ndp = null;
    st.groups.clear();
    leaveGroups(st, new Set());
  }

  /** IP-level memberships: join what `want` has, leave the rest. Failures are reported, not thrown. */
  function syncGroups(st: IfaceState, want: ReadonlySet<string>): void {
    for (const g of want) {
      if (st.mld.has(g)) continue;
      try {
        transport.joinIpv6Group(st.facts.name, g);
        st.mld.add(g);
      } catch (err) {
        setError(st, st.facts.name, err, 'layer2MulticastJoinFailed');
      }
    }
    leaveGroups(st, want);
  }

  function leaveGroups(st: IfaceState, keep: ReadonlySet<string>): void {
    for (const g of [...st.mld]) {
      if (keep.has(g)) continue;
      try {
        transport.leaveIpv6Group(st.facts.name, g);
      } catch {
        // the membership dies with the interface anyway
      }
      st.mld.delete(g);
    }
  }

  /**
   * Brings sockets, memberships and responder contexts in line with `owned` and `facts`. Returns, per IP, the
   * interfaces it did not have before (where a gratuitous burst is due).
   */
  function reconcile(): Map<string, string[]> {
    const byName = new Map(facts.map((f) => [f.name, f]));
    const want = new Map<string, string[]>();
    const added = new Map<string, string[]>();
    for (const s of owned.values()) {
      const choice = chooseInterfaces(s.ip, facts, opts.onlyInterfaces);
      const fresh = choice.interfaces.filter((n) => !s.interfaces.includes(n));
      if (fresh.length > 0) added.set(s.ip, fresh);
      if (choice.interfaces.join() !== s.interfaces.join() || choice.rule !== s.rule) {
        if (choice.interfaces.length === 0) log.warn('layer2NoInterface', { ip: s.ip, only: opts.onlyInterfaces ?? null });
        else log.info('layer2Interfaces', { ip: s.ip, interfaces: choice.interfaces, rule: choice.rule });
      }
      s.interfaces = choice.interfaces;
      s.rule = choice.rule;
      for (const n of choice.interfaces) {
        const l = want.get(n) ?? [];
        l.push(s.ip);
        want.set(n, l);
      }
    }
    for (const [name, st] of ifaces) {
      const f = byName.get(name);
      if (!want.has(name) || f === undefined) {
        closeIface(st);
        ifaces.delete(name);
      } else if (f.ifindex !== st.facts.ifindex || f.mac !== st.facts.mac) {
        // Same name, new link (re-created) or new MAC: sockets are bound to the old index, answers carry the old MAC.
        closeIface(st);
        ifaces.delete(name);
        for (const ip of want.get(name) ?? []) {
          const l = added.get(ip) ?? [];
          if (!l.includes(name)) l.push(name);
          added.set(ip, l);
        }
      }
    }
    for (const [name, ips] of want) {
      const f = byName.get(name)!;
      let st = ifaces.get(name);
      const existed = st !== undefined;
      const mac = parseMac(f.mac) ?? new Uint8Array(6);
      if (st === undefined) {
        st = { facts: f, mac, arp: null, ndp: null, groups: new Set(), mld: new Set(), ips: [], ctx: responderContext(mac, []), error: null };
        ifaces.set(name, st);
      }
      st.facts = f;
      st.ips = [...ips].sort();
      st.ctx = responderContext(mac, ips);
      const need4 = ips.some((ip) => !owned.get(ip)!.v6);
      const need6 = ips.some((ip) => owned.get(ip)!.v6);
      // A socket that opens only now on an interface we already served (an earlier open failed) means its
      // IPs' bursts never went out there: they are due now.
      const lateOpen = (v6: boolean): void => {
        if (!existed) return;
        for (const ip of ips) {
          if (owned.get(ip)!.v6 !== v6) continue;
          const l = added.get(ip) ?? [];
          if (!l.includes(name)) l.push(name);
          added.set(ip, l);
        }
      };
      if (need4 && st.arp === null) {
        st.arp = openSocket(st, name, 'arp');
        if (st.arp !== null) lateOpen(false);
      }
      if (!need4 && st.arp !== null) {
        st.arp.close();
        st.arp = null;
      }
      if (need6 && st.ndp === null) {
        st.ndp = openSocket(st, name, 'ndp');
        if (st.ndp !== null) lateOpen(true);
      }
      if (!need6 && st.ndp !== null) {
        st.ndp.close();
        st.ndp = null;
        st.groups.clear();
      }
      // Join the solicited-node group of each IPv6 VIP (RFC 4861 §7.2.1): at the IP level, so the kernel sends
      // MLD reports and snooping switches forward the NSs here, and on the packet socket (the NIC filter).
      syncGroups(st, new Set(ips.filter((ip) => owned.get(ip)!.v6).map((ip) => formatIPv6Bytes(solicitedNodeMulticast(owned.get(ip)!.v6b), 0))));
      if (st.ndp !== null) {
        const groups = new Set(ips.filter((ip) => owned.get(ip)!.v6).map((ip) => Buffer.from(ipv6MulticastMac(solicitedNodeMulticast(owned.get(ip)!.v6b))).toString('hex')));
        for (const g of groups) {
          if (st.groups.has(g)) continue;
          try {
            st.ndp.addMembership(Buffer.from(g, 'hex'));
            st.groups.add(g);
          } catch (err) {
            setError(st, name, err, 'layer2MulticastJoinFailed');
          }
        }
        for (const g of [...st.groups]) {
          if (groups.has(g)) continue;
          try {
            st.ndp.dropMembership(Buffer.from(g, 'hex'));
          } catch {
            // the group goes with the socket anyway
          }
          st.groups.delete(g);
        }
      }
    }
    return added;
  }

  /** One gratuitous round for `s` on `names` (those still chosen for it). */
  function gratuitousRound(s: IpState, names: readonly string[]): void {
    let sent = 0;
    for (const name of names) {
      const st = ifaces.get(name);
      if (st === undefined || !s.interfaces.includes(name)) continue;
      if (s.v6) {
        // From the VIP itself, as Linux sends its own unsolicited NAs (ndisc_send_unsol_na).
        if (send(st, name, st.ndp, unsolicitedNaFrame(st.mac, s.v6b, s.v6b))) sent++;
      } else {
        for (const f of gratuitousArpFrames(st.mac, s.v4n)) if (send(st, name, st.arp, f)) sent++;
      }
    }
    if (sent > 0) {
      s.gratuitous += sent;
      metrics?.gratuitousSent(s.ip, sent);
    }
  }

  function burst(s: IpState, names: readonly string[]): void {
    gratuitousRound(s, names);
    for (let r = 1; r < rounds; r++) {
      const t = clock.setTimeout(() => {
        s.timers.delete(t);
        if (stopped || owned.get(s.ip) !== s) return;
        try {
          gratuitousRound(s, names);
        } catch (err) {
          log.error('layer2GratuitousFailed', { ip: s.ip, error: err });
        }
      }, r * intervalMs);
      s.timers.add(t);
    }
  }

  function apply(newIps: Iterable<IpState>): void {
    const added = reconcile();
    const isNew = new Set<IpState>(newIps);
    for (const s of owned.values()) {
      const names = isNew.has(s) ? s.interfaces : (added.get(s.ip) ?? []);
      if (names.length > 0) burst(s, names);
    }
  }

  function scheduleRescan(): void {
    if (stopped || rescanMs <= 0) return;
    rescanTimer = clock.setTimeout(() => {
      rescanTimer = null;
      try {
        scan();
        // Also when nothing changed: sockets that failed to open are retried, and bursts owed are sent.
        if (owned.size > 0) apply([]);
      } catch (err) {
        log.error('layer2RescanFailed', { error: err });
      }
      scheduleRescan();
    }, rescanMs);
  }

  function scheduleRefresh(): void {
    if (stopped || !(refreshMs > 0)) return;
    refreshTimer = clock.setTimeout(() => {
      refreshTimer = null;
      try {
        for (const s of owned.values()) gratuitousRound(s, s.interfaces);
      } catch (err) {
        log.error('layer2GratuitousFailed', { error: err });
      }
      scheduleRefresh();
    }, refreshMs);
  }

  scan();
  scheduleRescan();
  scheduleRefresh();

  return {
    setOwned(ips) {
      if (stopped) {
        log.warn('layer2EngineStopped', { ips: [...ips] });
        return;
      }
      const next = new Set(ips.map(canonical));
      const now = clock.now();
      const fresh: IpState[] = [];
      for (const [ip, s] of owned) {
        if (next.has(ip)) continue;
        for (const t of s.timers) clock.clearTimeout(t);
        owned.delete(ip);
        metrics?.forgetIp(ip);
      }
      for (const ip of next) {
        if (owned.has(ip)) continue;
        const v6 = ip.includes(':');
        const s: IpState = {
          ip,
          v6,
          v4n: v6 ? 0 : ipv4Number(ip),
          v6b: v6 ? ipv6Bytes(ip) : new Uint8Array(16),
          since: now,
          interfaces: [],
          rule: 'fallback',
          requests: 0,
          responses: 0,
          gratuitous: 0,
          timers: new Set(),
        };
        owned.set(ip, s);
        metrics?.addIp(ip);
        fresh.push(s);
      }
      scan();
      apply(fresh);
    },

    onConflict(cb) {
      conflictCbs.push(cb);
    },

    reannounce(ips) {
      if (stopped) return;
      for (const ip of ips) {
        let key: string;
        try {
          key = canonical(ip);
        } catch {
          continue;
        }
        const s = owned.get(key);
        if (s === undefined) continue;
        // The burst of a takeover again; an earlier burst's remaining rounds are superseded.
        for (const t of s.timers) clock.clearTimeout(t);
        s.timers.clear();
        burst(s, s.interfaces);
      }
    },

    status() {
      const ipsOut: Record<string, Layer2IpStatus> = {};
      for (const s of owned.values()) {
        ipsOut[s.ip] = { interfaces: [...s.interfaces], rule: s.rule, since: s.since, requestsReceived: s.requests, responsesSent: s.responses, gratuitousSent: s.gratuitous };
      }
      const ifOut: Record<string, Layer2InterfaceStatus> = {};
      for (const [name, st] of ifaces) {
        ifOut[name] = { ifindex: st.facts.ifindex, mac: st.facts.mac, arp: st.arp !== null, ndp: st.ndp !== null, ips: [...st.ips], error: st.error };
      }
      return { ips: ipsOut, interfaces: ifOut, counters: { ...counters, malformed: { ...counters.malformed }, ignored: { ...counters.ignored } } };
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      if (rescanTimer) clock.clearTimeout(rescanTimer);
      if (refreshTimer) clock.clearTimeout(refreshTimer);
      for (const s of owned.values()) {
        for (const t of s.timers) clock.clearTimeout(t);
        metrics?.forgetIp(s.ip);
      }
      owned.clear();
      for (const st of ifaces.values()) closeIface(st);
      ifaces.clear();
    },
  };
}
