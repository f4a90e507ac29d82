// The light half of Layer 2's wiring, loaded by both speaker modes whether or not Layer 2 runs: the announcer
// used when it cannot (`Layer2Unavailable`) and the liveness member list from the cluster's Nodes. create.ts
// (frames, the AF_PACKET transport, the liveness worker) is imported only when Layer 2 is configured, so a
// BGP-only speaker does not carry its code (memory at 10,000 Services: bench/README.md).
import { isIP } from 'node:net';
import { endpointReason } from '../announce/index.js';
import type { Announcer, AnnouncementDetail, EndpointView, NodeView, ServiceView } from '../agent/types.js';
import type { MemberInput } from './membership.js';

/** Reason of a layer2 Service on a node where Layer 2 cannot run (the error is in /status `layer2.error`). */
export const LAYER2_UNAVAILABLE = 'layer2Unavailable';

/** What the speaker holds: the agent's Announcer plus the member list input. */
export interface Layer2Handle extends Announcer {
  readonly protocol: 'layer2';
  setMembers(members: readonly MemberInput[]): void;
}

const NO_DETAIL: AnnouncementDetail = Object.freeze({ prefixes: [], peers: [] });

/**
 * Layer 2 cannot run here: layer2 Services get the shared checks' reason (exclusion label, endpoints), else
 * `layer2Unavailable`; /status shows the error.
 */
export class Layer2Unavailable implements Layer2Handle {
  readonly protocol = 'layer2' as const;
  private node: NodeView;

  constructor(
    nodeName: string,
    readonly error: string,
  ) {
    this.node = { name: nodeName, labels: {} };
  }

  setConfig(): void {}
  setNode(node: NodeView): void {
    this.node = node;
  }
  shouldAnnounce(svc: ServiceView, endpoints: readonly EndpointView[]): string | null {
    return endpointReason(svc, endpoints, this.node) ?? LAYER2_UNAVAILABLE;
  }
  setBalancer(): void {}
  deleteBalancer(): void {}
  onInvalidate(): void {}
  synced(): void {}
  setMembers(): void {}
  detail(): AnnouncementDetail {
    return NO_DETAIL;
  }
  status(): unknown {
    return { node: this.node.name, ready: false, error: this.error, ips: [], members: [] };
  }
  async stop(): Promise<void> {}
}

/** A node as both modes know it: its name and its status addresses (type + address). */
export interface NodeAddresses {
  readonly name: string;
  readonly addresses: readonly { readonly type: string; readonly address: string }[];
}

/** The node's first InternalIP of `family` (IPv4 first when no family is asked), or null. */
export function internalIp(node: NodeAddresses, family?: 4 | 6): string | null {
  const internal = node.addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address);
  const v4 = internal.find((a) => isIP(a) === 4);
  const v6 = internal.find((a) => isIP(a) === 6);
  if (family === 4) return v4 ?? null;
  if (family === 6) return v6 ?? null;
  return v4 ?? v6 ?? null;
}

/**
 * The liveness members from the cluster's Nodes: name + InternalIP of the liveness socket's family, sorted by
 * name. Nodes without one are listed in `skipped` (they cannot take part; the caller logs them).
 */
export function membersFromNodes(nodes: readonly NodeAddresses[], family: 4 | 6): { members: MemberInput[]; skipped: string[] } {
  const members: MemberInput[] = [];
  const skipped: string[] = [];
  for (const n of [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const ip = internalIp(n, family);
    if (ip === null) skipped.push(n.name);
    else members.push({ name: n.name, address: ip });
  }
  return { members, skipped };
}
