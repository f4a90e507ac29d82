// One configured peer of the speaker: its session, Adj-RIB-Out, export policy and counters, and the pure
// helpers that build a peer's session (OPEN capabilities) and compare peer configs (MetalLB §3.2).
import { AdjRibOut, type ExportPolicy } from '../bgp/adj-rib-out.js';
import { Afi, GR_FORWARDING_STATE, GracefulRestartFlag, Safi, capability } from '../bgp/index.js';
import type { LastError, Negotiated } from '../bgp/fsm.js';
import type { Capability } from '../bgp/types.js';
import type { Clock } from '../clock.js';
import type { Peer } from '../config/types.js';
import type { Logger } from '../log.js';
import type { SpeakerMetrics } from '../metrics/registry.js';
import type { NativeAddon } from '../net/native.js';
import type { InterfaceTable, RouterIdChoice } from './addresses.js';
import type { SpeakerSession } from './session-factory.js';

export { AdjRibOut };

/** What the speaker's parts (flush.ts, sockets.ts, listeners.ts, status.ts) share of it. */
export interface SpeakerCore {
  readonly nodeName: string;
  readonly log: Logger;
  readonly metrics: SpeakerMetrics | undefined;
  readonly clock: Clock;
  readonly interfaces: () => InterfaceTable;
  readonly nativeLoader: () => NativeAddon;
  /** Runs fn once the current burst of calls is over (flush coalescing). */
  readonly defer: (fn: () => void) => void;
  /** The current peers, by key, in config order. */
  readonly peers: ReadonlyMap<string, PeerEntry>;
  /** stop() was called. */
  readonly stopped: boolean;
  /** When the speaker started (clock ms), for uptime. */
  readonly started: number;
  /** Counts a refused inbound connection and logs it, rate-limited (sockets.ts onInbound). */
  refused(remote: string, remotePort: number | undefined, stopping: boolean): void;
}

export interface PeerEntry {
  readonly key: string;
  readonly config: Peer;
  readonly configKey: string;
  readonly session: SpeakerSession;
  readonly routerId: RouterIdChoice;
  readonly gracefulRestart: boolean;
  /** Our OPENs carry the graceful-restart Restart State bit (until the first session after start is up). */
  restartState: boolean;
  rib: AdjRibOut;
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

/** Metric/status label of a peer: "ip:port", "[v6]:port" (MetalLB §3.3). */
export function peerKey(p: Pick<Peer, 'peerAddress' | 'peerPort'>): string {
  return p.peerAddress.includes(':') ? `[${p.peerAddress}]:${p.peerPort}` : `${p.peerAddress}:${p.peerPort}`;
}

/** Fields whose change needs a new session; everything of the peer entry (MetalLB: reflect.DeepEqual). */
export function peerConfigKey(p: Peer): string {
  return JSON.stringify(p, (_k, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? sortKeys(v as Record<string, unknown>) : v));
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}

/**
 * Our OPEN's capabilities: MP IPv4 and IPv6 unicast (RFC 4760), route refresh (RFC 2918), and graceful restart
 * when configured (RFC 4724 §3). Forwarding State (F) is set for both families: the data plane (kube-proxy,
 * the kernel) does not depend on this process, so a restart of ingot loses no forwarding.
 */
export function openCapabilities(config: Peer, restartState: boolean): Capability[] {
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

export function peerGracefulRestart(neg: Negotiated): { restartTime: number; restartState: boolean } | null {
  const c = neg.open.capabilities.find((x) => x.kind === 'graceful-restart');
  if (c === undefined || c.kind !== 'graceful-restart') return null;
  return { restartTime: c.restartTime, restartState: (c.flags & GracefulRestartFlag.RestartState) !== 0 };
}
