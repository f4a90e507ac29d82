// Layer 2 put together: the frame engine on the addon's AF_PACKET transport, the liveness protocol in its
// worker thread, and the announcer that joins them behind the agent's Announcer seam. One function for both
// speaker modes: standalone mode passes the cluster file's Nodes and `--ml-secret-key-file`, Kubernetes mode the
// Node informer's InternalIPs and the mounted Secret `ingot-memberlist`, and posts conflicts as Events.
//
// When Layer 2 cannot run on this node (no CAP_NET_RAW, an unusable key, the UDP port taken) the speaker keeps
// running BGP: the result is then a `Layer2Unavailable` announcer that refuses every layer2 Service with the
// reason `layer2Unavailable` and shows the error in /status. Such a node is no member of the liveness protocol
// (it sends nothing), so the others never count it as a live owner and take its IPs.
import { readFileSync } from 'node:fs';
import { systemClock, type Clock } from '../clock.js';
import { nullLogger, type Logger } from '../log.js';
import { Layer2MemberMetrics, Layer2Metrics, type Registry } from '../metrics/registry.js';
import { Layer2Announcer, type Layer2ConflictEvent } from './announcer.js';
import { createLayer2Engine, type Layer2Engine } from './engine.js';
import type { Membership } from './member-driver.js';
import { WorkerMembership } from './member-thread.js';
import { MEMBERSHIP_DEFAULTS, type MemberInput } from './membership.js';
import { nativeTransport, type L2Transport } from './transport.js';
import { keyProblem } from './wire.js';
import { Layer2Unavailable, type Layer2Handle } from './members.js';

export { LAYER2_UNAVAILABLE, Layer2Unavailable, internalIp, membersFromNodes, type Layer2Handle, type NodeAddresses } from './members.js';


export interface CreateLayer2Options {
  /** This node's name (the Node object's name; also its name in the liveness protocol). */
  readonly nodeName: string;
  /** The cluster's nodes: name + InternalIP (self may be included). Later changes: `announcer.setMembers`. */
  readonly members: readonly MemberInput[];
  /** The shared HMAC key (≥ 16 bytes): `--ml-secret-key-file`, or the Secret's `secretkey`. */
  readonly key: Buffer;
  /** Liveness socket address (this node's InternalIP; 0.0.0.0 / :: accepted). */
  readonly bindAddress: string;
  /** Liveness UDP port (default 7946, MetalLB's memberlist port). */
  readonly port?: number;
  /** `--l2-interfaces`: answer only on these (empty or absent: the subnet rule over every eligible one). */
  readonly interfaces?: readonly string[];
  /** Periodic gratuitous refresh (ms; 0 or absent: off). */
  readonly refreshMs?: number;
  /** The speaker's Prometheus registry (Layer2Metrics and Layer2MemberMetrics register there). */
  readonly registry?: Registry;
  readonly logger?: Logger;
  /** Split-brain hook (Kubernetes mode posts it as an Event on the Services). */
  readonly onConflict?: (event: Layer2ConflictEvent) => void;
  // For tests: the raw-frame transport (default: the addon), the clock, and the liveness timing.
  readonly transport?: L2Transport;
  readonly clock?: Clock;
  readonly intervalMs?: number;
  readonly deadAfterMs?: number;
  readonly startupGraceMs?: number;
  /** Liveness thread nice value (default -10; null: leave it). */
  readonly threadPriority?: number | null;
}


export interface CreatedLayer2 {
  readonly announcer: Layer2Handle;
  /** Why Layer 2 is not running on this node (null: it is). Logged already. */
  readonly error: string | null;
}

/**
 * Builds and starts Layer 2. Never throws: a failure gives a `Layer2Unavailable` announcer and the error.
 */
export async function createLayer2Announcer(o: CreateLayer2Options): Promise<CreatedLayer2> {
  const log = o.logger ?? nullLogger;
  const fail = (error: string): CreatedLayer2 => {
    log.error('layer2Unavailable', { error });
    return { announcer: new Layer2Unavailable(o.nodeName, error), error };
  };
  const kp = keyProblem(o.key);
  if (kp !== null) return fail(kp);
  let transport: L2Transport;
  try {
    transport = o.transport ?? nativeTransport();
  } catch (err) {
    return fail(`Layer 2 frames: ${errText(err)}`);
  }
  // Probe the capability now rather than at the first owned IP: a node that cannot answer must not become
  // a member (the others would count it as a live owner).
  const probe = probeRawSocket(transport);
  if (probe !== null) return fail(probe);
  const clock = o.clock ?? systemClock();
  const engine: Layer2Engine = createLayer2Engine({
    transport,
    clock,
    metrics: o.registry ? new Layer2Metrics({ registry: o.registry }) : undefined,
    onlyInterfaces: o.interfaces && o.interfaces.length > 0 ? o.interfaces : undefined,
    gratuitous: { refreshMs: o.refreshMs ?? 0 },
    log: log.with({ part: 'l2frames' }),
  });
  let membership: Membership;
  try {
    membership = new WorkerMembership({
      self: o.nodeName,
      members: o.members,
      key: o.key,
      bindAddress: o.bindAddress,
      port: o.port ?? MEMBERSHIP_DEFAULTS.port,
      ...(o.intervalMs !== undefined ? { intervalMs: o.intervalMs } : {}),
      ...(o.deadAfterMs !== undefined ? { deadAfterMs: o.deadAfterMs } : {}),
      ...(o.startupGraceMs !== undefined ? { startupGraceMs: o.startupGraceMs } : {}),
      ...(o.threadPriority !== undefined ? { threadPriority: o.threadPriority } : {}),
      // The view (with each member's last-heard time) reaches /status this often; 100 ms keeps "last heard"
      // well under the 300 ms dead timeout for a live member, at 10 small postMessages a second.
      refreshMs: 100,
      log: log.with({ part: 'l2members' }),
    });
  } catch (err) {
    await engine.stop();
    return fail(errText(err));
  }
  const announcer = new Layer2Announcer({
    nodeName: o.nodeName,
    engine,
    membership,
    metrics: o.registry ? new Layer2MemberMetrics({ registry: o.registry }) : undefined,
    log: log.with({ part: 'l2' }),
    ...(o.onConflict ? { onConflict: o.onConflict } : {}),
  });
  try {
    await membership.start();
  } catch (err) {
    await announcer.stop();
    return fail(`Layer 2 liveness on ${o.bindAddress}:${o.port ?? MEMBERSHIP_DEFAULTS.port}: ${errText(err)}`);
  }
  log.info('layer2Started', { bind: o.bindAddress, port: o.port ?? MEMBERSHIP_DEFAULTS.port, members: o.members.map((m) => m.name) });
  return { announcer, error: null };
}

/** Opens and closes one ARP socket on the loopback: null when raw frames work, else the error. */
export function probeRawSocket(transport: L2Transport): string | null {
  let ifindex = 1;
  try {
    ifindex = Number(readFileSync('/sys/class/net/lo/ifindex', 'utf8').trim()) || 1;
  } catch {
    // no sysfs: lo is ifindex 1 on Linux
  }
  try {
    const s = transport.open(ifindex, 'arp', () => {}, () => {});
    s.close();
    return null;
  } catch (err) {
    return errText(err);
  }
}



function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

