// The speaker's /status view: one entry per session (state, negotiated values, prefixes, last error with
// RFC names and the RFC 9003 shutdown message), the listeners, and which peers carry each prefix. Read-only.
import type { UnsendableRoute } from '../bgp/adj-rib-out.js';
import { Afi, CapabilityCode, CeaseSubcode, NotificationCode, Safi, capabilityCodeName, notificationName } from '../bgp/index.js';
import type { LastError } from '../bgp/fsm.js';
import type { Family } from '../bgp/types.js';
import { formatIPv4 } from '../ip/index.js';
import type { RouterIdChoice } from './addresses.js';
import { peerGracefulRestart, type PeerEntry, type SpeakerCore } from './peer.js';

/** The speaker's status (sessions and listeners); the per-Service list is the node agent's. */
export function speakerStatus(sp: SpeakerCore, listen: { address: string; port: number }[]): SpeakerStatus {
  const now = sp.clock.now();
  const sessions: SessionStatus[] = [...sp.peers.values()].map((p) => sessionStatus(sp, p, now));
  return { node: sp.nodeName, uptimeSeconds: Math.floor((now - sp.started) / 1000), listen: listen[0] ?? null, listeners: listen, sessions };
}

/** Prefix → keys of the Established peers that carry it (sendable desired routes). */
export function prefixPeers(sp: SpeakerCore): Map<string, string[]> {
  const sentTo = new Map<string, string[]>();
  for (const p of sp.peers.values()) {
    if (p.session.state !== 'Established' || p.policy === null) continue;
    const bad = new Set(p.rib.unsendable(p.session.context, p.policy).map((u) => u.prefix));
    for (const r of p.rib.desiredRoutes()) {
      if (bad.has(r.prefix)) continue;
      let l = sentTo.get(r.prefix);
      if (l === undefined) sentTo.set(r.prefix, (l = []));
      l.push(p.key);
    }
  }
  return sentTo;
}

export function sessionStatus(sp: SpeakerCore, p: PeerEntry, now: number): SessionStatus {
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
  /** Present when an unexpected exception forced the session down: where and why. */
  error?: string;
}

export interface SpeakerStatus {
  node: string;
  uptimeSeconds: number;
  /** The first listener (kept for scripts written against it); `listeners` has all of them. */
  listen: { address: string; port: number } | null;
  listeners: { address: string; port: number }[];
  sessions: SessionStatus[];
}

export function familyName(f: Family): string {
  const afi = f.afi === Afi.Ipv4 ? 'ipv4' : f.afi === Afi.Ipv6 ? 'ipv6' : `afi${f.afi}`;
  const safi = f.safi === Safi.Unicast ? 'unicast' : f.safi === Safi.Multicast ? 'multicast' : `safi${f.safi}`;
  return `${afi}-${safi}`;
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

export function describeLastError(le: LastError): LastErrorStatus {
  const n = le.notification;
  return {
    event: le.event,
    state: le.state,
    notification:
      n === undefined
        ? null
        : { direction: n.direction, code: n.code, subcode: n.subcode, name: notificationName(n.code, n.subcode), message: shutdownMessage(n) },
    ...(le.error !== undefined ? { error: le.error } : {}),
  };
}
