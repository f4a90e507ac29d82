// The BGP Announcer (src/agent/types.ts) over a BgpSpeaker: MetalLB's bgpController in ingot terms. The
// config and the node's labels give the peers (node-selectors, §3.2); each announced Service's IPs become
// advertisements (aggregation, communities, LOCAL_PREF) in an AdvertisementTable, and only the prefixes a
// Service's change touches go to the speaker (announceRoute / withdrawRoute), so one EndpointSlice change
// among 10,000 Services costs that Service's prefixes, not the table. A prefix stays while any Service
// still produces it (ECMP from every node, shared IPs).
import { AdvertisementTable, endpointReason, peersForNode } from '../announce/index.js';
import type { Announcer, AnnouncementDetail, EndpointView, NodeView, ServiceView } from '../agent/types.js';
import type { Config, Pool } from '../config/index.js';
import type { Route } from '../bgp/adj-rib-out.js';
import type { BgpSpeaker } from './bgp-speaker.js';

export class BgpAnnouncer implements Announcer {
  readonly protocol = 'bgp' as const;
  private readonly table = new AdvertisementTable();
  private config: Config | null = null;
  private node: NodeView;
  private peerCount = 0;
  private readonly invalidate: (() => void)[] = [];

  constructor(readonly speaker: BgpSpeaker) {
    this.node = { name: speaker.nodeName, labels: {} };
  }

  setConfig(config: Config): void {
    this.config = config;
    this.syncPeers();
  }

  setNode(node: NodeView): void {
    this.node = node;
    if (this.config !== null) this.syncPeers();
  }

  /** MetalLB's BGP ShouldAnnounce (§3.2) plus ingot's exclusion label and "no peer selects this node". */
  shouldAnnounce(svc: ServiceView, endpoints: readonly EndpointView[]): string | null {
    const why = endpointReason(svc, endpoints, this.node);
    if (why !== null) return why;
    return this.peerCount === 0 ? 'noPeers' : null;
  }

  setBalancer(key: string, ips: readonly string[], pool: Pool): void {
    this.apply(this.table.set(key, ips, pool));
  }

  deleteBalancer(key: string): void {
    this.apply(this.table.delete(key));
  }

  onInvalidate(cb: () => void): void {
    this.invalidate.push(cb);
  }

  /**
   * The first full state is in: the whole table once more, sorted, as one desired set (the same initial
   * UPDATEs, in the same order, as a whole-table speaker sends), and the table is complete (End-of-RIB may
   * follow it, RFC 4724 §2).
   */
  synced(): void {
    this.speaker.setAdvertisementsAll(this.table.routes());
  }

  detail(key: string): AnnouncementDetail {
    const prefixes = this.table.prefixesOf(key);
    if (prefixes.length === 0) return { prefixes: [], peers: [] };
    return { prefixes: [...prefixes], peers: this.speaker.peersCarrying(prefixes) };
  }

  status(): ReturnType<BgpSpeaker['status']> {
    return this.speaker.status();
  }

  stop(opts: { message?: string; timeoutMs?: number } = {}): Promise<void> {
    return this.speaker.stop(opts);
  }

  /** Every advertisement, sorted (tests, `ingot plan`-style views). */
  advertisements(): ReturnType<AdvertisementTable['all']> {
    return this.table.all();
  }

  private syncPeers(): void {
    if (this.config === null) return;
    const peers = peersForNode(this.config, this.node);
    this.speaker.setPeers(peers);
    // "noPeers" depends on this count; peers change only with setConfig/setNode, after which the agent
    // re-decides every Service anyway, so no invalidation is needed here.
    this.peerCount = peers.length;
  }

  private apply(r: { changed: readonly Route[]; removed: readonly string[] }): void {
    for (const a of r.changed) this.speaker.announceRoute(a);
    for (const p of r.removed) this.speaker.withdrawRoute(p);
  }
}
