// Test harness for the speaker: a BGP peer on loopback made of a BgpSession (dial: false, or dialling the
// speaker's listener), which records what it was sent as a little RIB, plus helpers to build routes and
// peer configs. Waiting is by yielding to the event loop, never by sleeping.
import * as net from 'node:net';
import type { Route } from '../../../src/bgp/adj-rib-out.js';
import { BgpSession, type SessionOptions } from '../../../src/bgp/session.js';
import type { Clock } from '../../../src/clock.js';
import type { LastError, Negotiated } from '../../../src/bgp/fsm.js';
import {
  Afi,
  announcedPrefixes,
  findAttribute,
  isEndOfRib,
  prefixStrings,
  withdrawnPrefixes,
} from '../../../src/bgp/index.js';
import { formatIPv4, formatIPv6Bytes, ipv4Number, ipv6Bytes } from '../../../src/ip/index.js';
import type { Peer } from '../../../src/config/types.js';
import { createBgpListener, createBgpSocket } from '../../../src/net/sockopt.js';

export interface PeerRoute {
  nextHop: string;
  localPref: number | null;
  communities: readonly number[];
  asPath: readonly number[];
}

/** Yields to the event loop until cond() holds (bounded by 5 s of wall time; not a sleep). */
export async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * Advances a fake clock a second at a time, letting I/O run in between, until `cond` holds (backoff timers
 * fire on the fake clock, the sockets they open are real); fails after `maxSeconds` of fake time.
 */
export async function advanceUntil(clock: Clock & { advance(ms: number): void }, cond: () => boolean, what: string, maxSeconds = 200): Promise<void> {
  for (let i = 0; i < maxSeconds && !cond(); i++) {
    clock.advance(1_000);
    await turns(5);
  }
  if (!cond()) throw new Error(`${what}: not within ${maxSeconds} s of fake time`);
}

/** A port nothing listens on at `address` (bound once, then closed): a peer there refuses our dial. */
export async function closedPort(address: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, address, r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Lets `n` event-loop turns pass (to show that something does NOT happen). */
export async function turns(n = 50): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

export class TestPeer {
  readonly routes = new Map<string, PeerRoute>();
  /** Every prefix announcement received, in order (re-sends show up twice). */
  readonly announcements: string[] = [];
  readonly withdrawals: string[] = [];
  readonly endOfRib: string[] = [];
  readonly downs: LastError[] = [];
  readonly ups: Negotiated[] = [];
  updates = 0;

  private constructor(
    readonly session: BgpSession,
    readonly server: net.Server | null,
    readonly port: number,
  ) {
    session.on('established', (n) => this.ups.push(n));
    session.on('down', (r) => {
      this.downs.push(r);
      this.routes.clear(); // RFC 4271 §9.2: the session's routes are gone
    });
    session.on('update', (u) => {
      this.updates++;
      const eor = isEndOfRib(u);
      if (eor !== undefined) {
        this.endOfRib.push(eor.afi === Afi.Ipv4 ? 'ipv4' : 'ipv6');
        return;
      }
      for (const l of withdrawnPrefixes(u)) for (const p of prefixStrings(l)) {
        this.withdrawals.push(p);
        this.routes.delete(p);
      }
      const nh = findAttribute(u, 'next-hop');
      const mp = findAttribute(u, 'mp-reach');
      const lp = findAttribute(u, 'local-pref');
      const comm = findAttribute(u, 'communities');
      const path = findAttribute(u, 'as-path');
      for (const l of announcedPrefixes(u)) for (const p of prefixStrings(l)) {
        this.announcements.push(p);
        this.routes.set(p, {
          nextHop: l.afi === Afi.Ipv4 ? formatIPv4(nh?.nextHop ?? 0) : formatIPv6Bytes(mp!.nextHop, 0),
          localPref: lp?.localPref ?? null,
          communities: comm?.communities ?? [],
          asPath: path?.segments.flatMap((s) => [...s.asns]) ?? [],
        });
      }
    });
  }

  /** A passive peer listening on `address`:ephemeral port; the speaker dials it. */
  static async listening(
    address: string,
    o: Partial<SessionOptions> & { localAs: number; peerAs: number; md5Key?: string },
    clock: Clock,
  ): Promise<TestPeer> {
    const { md5Key, ...so } = o;
    const session = new BgpSession({ peerAddress: '127.0.0.1', routerId: ipv4Number(address), holdTime: 90, dial: false, ...so }, { clock });
    const onSocket = (s: net.Socket) => {
      s.on('error', () => {});
      session.acceptInbound(s);
    };
    let server: net.Server;
    if (md5Key !== undefined) {
      server = await createBgpListener({ family: 4, localAddress: address, port: 0, md5: [{ peer: '127.0.0.1', key: md5Key }] });
      server.on('connection', onSocket);
    } else {
      server = net.createServer(onSocket);
      await new Promise<void>((r) => server.listen(0, address, r));
    }
    const peer = new TestPeer(session, server, (server.address() as net.AddressInfo).port);
    session.start();
    return peer;
  }

  /** An active peer: dials the speaker's listener from `localAddress`. */
  static dialling(
    localAddress: string,
    port: number,
    o: Partial<SessionOptions> & { localAs: number; peerAs: number; md5Key?: string },
    clock: Clock,
  ): TestPeer {
    const { md5Key, ...so } = o;
    const session = new BgpSession(
      { peerAddress: '127.0.0.1', peerPort: port, localAddress, routerId: ipv4Number(localAddress), holdTime: 90, ...so },
      {
        clock,
        ...(md5Key !== undefined
          ? { connect: (c: net.TcpNetConnectOpts) => createBgpSocket({ family: 4, localAddress, md5: { peer: '127.0.0.1', key: md5Key } }).connect({ host: c.host!, port: c.port }) }
          : {}),
      },
    );
    const peer = new TestPeer(session, null, 0);
    session.start();
    return peer;
  }

  async close(): Promise<void> {
    await this.session.stop();
    this.server?.close();
  }
}

export function peerConfig(over: Partial<Peer> & { peerAddress: string; peerPort: number }): Peer {
  return {
    myASN: 64512,
    peerASN: 64512,
    holdTime: 90,
    keepaliveTime: 30,
    routerID: '10.0.0.1',
    sourceAddress: null,
    ebgpMultihop: false,
    password: null,
    bfdProfile: null,
    nodeSelectors: [],
    gracefulRestart: false,
    gracefulRestartTime: 120,
    gtsm: false,
    ...over,
  };
}

export function route4(prefix: string, o: Partial<Pick<Route, 'localPref' | 'communities'>> = {}): Route {
  const [addr, len] = prefix.split('/');
  return {
    prefix,
    family: 4,
    addr4: ipv4Number(addr!),
    addr6: null,
    length: Number(len),
    localPref: o.localPref ?? 0,
    communities: o.communities ?? [],
    largeCommunities: [],
  };
}

export function route6(prefix: string): Route {
  const [addr, len] = prefix.split('/');
  return { prefix, family: 6, addr4: 0, addr6: ipv6Bytes(addr!), length: Number(len), localPref: 0, communities: [], largeCommunities: [] };
}

/** An os.networkInterfaces()-shaped table. */
export function ifaceTable(t: Record<string, string[]>): NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]> {
  const out: NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]> = {};
  for (const [name, addrs] of Object.entries(t)) {
    out[name] = addrs.map((a) => {
      const v6 = a.includes(':');
      return v6
        ? { address: a, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '00:00:00:00:00:00', internal: a === '::1', cidr: `${a}/64`, scopeid: 0 }
        : { address: a, netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: a.startsWith('127.'), cidr: `${a}/8` };
    });
  }
  return out;
}

/** A logger sink that keeps parsed lines. */
export function captureLog(): { lines: Record<string, unknown>[]; write: (l: string) => void } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) };
}
