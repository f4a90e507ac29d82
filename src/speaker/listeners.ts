// The passive listener(s) of the speaker (`--bgp-listen`): one socket per address family, each holding the
// TCP-MD5 keys of its family's peers (RFC 2385), kept equal to the configured passwords as peers change.
import * as net from 'node:net';
import { familyOfText, type IPFamily } from '../ip/index.js';
import type { NativeAddon } from '../net/native.js';
import { createBgpListener, setMd5Key } from '../net/sockopt.js';
import type { SpeakerCore } from './peer.js';

export interface Listener {
  readonly family: IPFamily;
  readonly server: net.Server;
  /** The TCP-MD5 keys set on it: peer address → key. */
  keys: Map<string, string>;
}

export class BgpListeners {
  private listeners: Listener[] = [];

  constructor(
    private readonly sp: SpeakerCore,
    private readonly listenAt: { readonly host: string; readonly port: number } | null,
    private readonly onConnection: (socket: net.Socket, listener: Listener) => void,
  ) {}

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
    let md5 = this.md5Keys(family);
    let server: net.Server | undefined;
    let addon: NativeAddon | undefined;
    if (md5.size > 0) {
      try {
        addon = this.sp.nativeLoader();
      } catch (e) {
        // No addon, no keys: only the keyed peers are affected (their /status socketError says why).
        for (const peer of md5.keys()) this.keyFailed(peer, e);
        md5 = new Map();
      }
    }
    if (md5.size > 0 && addon !== undefined) {
      // Keys set before listen(): no handshake from a keyed peer is ever accepted unsigned (RFC 2385).
      const keys = [...md5].map(([peer, key]) => ({ peer, key }));
      try {
        server = await createBgpListener({ family, localAddress: host, port, md5: keys }, addon);
      } catch {
        // One peer's key must not keep the listener from the others: open it without keys (a bind problem
        // fails again here and is the listener's own error), then add the keys one by one. Until its key is
        // on, a keyed peer's connection is refused (onInbound), so none is ever accepted unsigned.
        server = await createBgpListener({ family, localAddress: host, port }, addon);
        const installed = new Map<string, string>();
        for (const [peer, key] of md5) {
          try {
            setMd5Key(server, peer, key, addon);
            installed.set(peer, key);
          } catch (e) {
            this.keyFailed(peer, e);
          }
        }
        md5 = installed;
      }
    }
    if (server === undefined) {
      const plain = net.createServer();
      await new Promise<void>((resolve, reject) => {
        plain.once('error', reject);
        // ipv6Only: a key added later (setPeers) goes on this socket for IPv6 peers only; IPv4 peers must
        // arrive on the IPv4 socket, which holds their keys.
        plain.listen({ host, port, exclusive: true, ...(family === 6 ? { ipv6Only: true } : {}) }, () => {
          plain.off('error', reject);
          resolve();
        });
      });
      server = plain;
    }
    const listener: Listener = { family, server, keys: md5 };
    server.on('connection', (s) => {
      // A socket handler: whatever it throws is logged and the connection dropped, never an uncaught exception.
      try {
        this.onConnection(s, listener);
      } catch (e) {
        this.sp.log.error('inboundError', { remote: s.remoteAddress, error: e });
        s.destroy();
      }
    });
    server.on('error', (e) => this.sp.log.error('listenerError', { error: e }));
    const a = server.address() as net.AddressInfo;
    this.sp.log.info('bgpListening', { address: a.address, port: a.port });
    return listener;
  }

  /** A peer's TCP-MD5 key could not be put on the listener: that peer (only) reports it. */
  private keyFailed(peerAddress: string, e: unknown): void {
    const msg = `listener TCP-MD5 key: ${e instanceof Error ? e.message : String(e)}`;
    for (const p of this.sp.peers.values()) {
      if (p.config.peerAddress !== peerAddress || p.config.password === null) continue;
      if (p.socketError !== msg) this.sp.log.error('socketOptions', { peer: p.key, error: msg });
      p.socketError = msg;
    }
  }

  /** The configured passwords of the peers of one family: peer address → key. */
  private md5Keys(family: IPFamily): Map<string, string> {
    const want = new Map<string, string>();
    for (const p of this.sp.peers.values()) {
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

  /** Keeps each listener's TCP-MD5 keys equal to the configured passwords of its family's peers (RFC 2385). */
  syncKeys(): void {
    for (const l of this.listeners) {
      const want = this.md5Keys(l.family);
      // Peer by peer: one key that fails leaves the others (and their sessions) alone; l.keys records what
      // the kernel really holds, which onInbound checks.
      for (const [peer, key] of [...l.keys]) {
        if (want.has(peer)) continue;
        try {
          setMd5Key(l.server, peer, null, this.sp.nativeLoader());
          l.keys.delete(peer);
        } catch (e) {
          this.sp.log.error('listenerMd5', { peer, error: e });
          if (l.keys.get(peer) === key) l.keys.delete(peer); // unknown state: treat as not held
        }
      }
      for (const [peer, key] of want) {
        if (l.keys.get(peer) === key) continue;
        try {
          setMd5Key(l.server, peer, key, this.sp.nativeLoader());
          l.keys.set(peer, key);
        } catch (e) {
          l.keys.delete(peer);
          this.sp.log.error('listenerMd5', { peer, error: e });
          this.keyFailed(peer, e);
        }
      }
    }
  }

  /** Closes every listener; resolves when they are closed. */
  close(): Promise<void> {
    const listeners = this.listeners;
    this.listeners = [];
    return Promise.all(listeners.map((l) => new Promise<void>((r) => l.server.close(() => r())))).then(() => undefined);
  }
}
