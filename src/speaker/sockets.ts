// The speaker's TCP sockets: outgoing connections with the options Node lacks (TCP-MD5 RFC 2385, TTL for
// eBGP and multihop, GTSM RFC 5082, set on the fd before the first SYN through src/net), and inbound
// connections from the listener (configured peers only, by source address, RFC 4271 §8.2.1.1).
import * as net from 'node:net';
import type { Peer } from '../config/types.js';
import { familyOfText } from '../ip/index.js';
import type { NativeAddon } from '../net/native.js';
import { createBgpSocket, setMinTtl, setTtl, GTSM_TTL } from '../net/sockopt.js';
import { addressKey, unmapAddress } from './addresses.js';
import type { Listener } from './listeners.js';
import type { PeerEntry, SpeakerCore } from './peer.js';

/** Outgoing connection with options Node lacks: the fd is configured before the first SYN (src/net). */
export function dialNative(sp: SpeakerCore, p: PeerEntry, o: net.TcpNetConnectOpts): net.Socket {
  const c = p.config;
  const addon = addonForTtlOnly(sp, p);
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
    if (p.socketError !== msg) sp.log.error('socketOptions', { peer: p.key, error: msg });
    p.socketError = msg;
    throw e;
  }
}

/**
 * The addon, or null when it cannot be loaded and the peer only wanted the eBGP TTL of 1: that TTL is a
 * safety default, not something the user asked for, so the session goes ahead with the system TTL (and a
 * warning) rather than not at all. A password or GTSM without the addon stays an error (thrown).
 */
export function addonForTtlOnly(sp: SpeakerCore, p: PeerEntry): NativeAddon | null {
  try {
    return sp.nativeLoader();
  } catch (e) {
    const c = p.config;
    if (c.password !== null || c.gtsm || c.ebgpMultihop) {
      const msg = e instanceof Error ? e.message : String(e);
      if (p.socketError !== msg) sp.log.error('socketOptions', { peer: p.key, error: msg });
      p.socketError = msg;
      throw e;
    }
    if (p.socketError === null) sp.log.warn('ttlNotSet', { peer: p.key, why: e instanceof Error ? e.message : String(e) });
    p.socketError = 'eBGP TTL 1 not set: native addon unavailable';
    return null;
  }
}

/** An accepted connection: handed to its peer's session, or closed. */
export function onInbound(sp: SpeakerCore, socket: net.Socket, listener?: Listener): void {
  const remote = unmapAddress(socket.remoteAddress ?? '');
  socket.on('error', () => {});
  const key = addressKey(remote);
  const p = [...sp.peers.values()].find((e) => !e.removed && addressKey(e.config.peerAddress) === key);
  if (p === undefined || sp.stopped) {
    // RFC 4271 §8.2.1.1: only configured peers. Closed without a NOTIFICATION: an unknown host gets no BGP.
    socket.destroy();
    sp.refused(remote, socket.remotePort, sp.stopped);
    return;
  }
  if (listener !== undefined && p.config.password !== null && listener.keys.get(p.config.peerAddress) !== p.config.password) {
    // Its key is not on this listener (it failed, socketError says why): accepting would be unsigned.
    sp.log.debug('inboundRejected', { peer: p.key, why: 'TCP-MD5 key not set on the listener' });
    socket.destroy();
    return;
  }
  try {
    const ttl = ttlFor(p.config);
    const addon = ttl !== undefined || p.config.gtsm ? addonForTtlOnly(sp, p) : null;
    if (addon !== null && ttl !== undefined) setTtl(socket, ttl, addon);
    if (addon !== null && p.config.gtsm) setMinTtl(socket, GTSM_TTL, addon);
  } catch (e) {
    sp.log.error('socketOptions', { peer: p.key, error: e });
    socket.destroy();
    return;
  }
  if (!p.session.acceptInbound(socket)) sp.log.debug('inboundRejected', { peer: p.key, state: p.session.state });
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
