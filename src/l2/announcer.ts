// Layer 2 behind the agent's announcer seam: decides, per Service, whether this node answers for its IPs
// (MetalLB's ShouldAnnounce, metallb-compat §3.1/§3.5), keeps this node's claims in the liveness protocol, and
// tells the frame engine which IPs to answer for. Ownership is ownership.ts's pure rule, re-evaluated whenever
// the membership view changes; a speaker that loses an IP stops answering at once (before the agent re-syncs),
// and the agent is told to re-decide its Services through onInvalidate.
import { EXCLUDE_LABEL, poolOfService, type EndpointView, type NodeView, type ServiceView } from '../announce/index.js';
import type { Announcer, AnnouncementDetail } from '../agent/types.js';
import type { Config, Pool } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Layer2MemberMetrics } from '../metrics/registry.js';
import type { Layer2Engine as FrameEngine } from './engine.js';
import type { Membership, MembershipView } from './member-driver.js';
import type { MemberInput } from './membership.js';
import { canonicalKey, claimsOn, decideOwner, demandOf, eligibleFor, type Layer2Demand, type LiveMember, type OwnerBasis } from './ownership.js';

/**
 * The frame engine as the announcer uses it: src/l2/engine.ts's `Layer2Engine` (reannounce optional, so a
 * recording engine in tests may leave it out; without it the announcer drops and re-adds the IPs in one
 * synchronous pair of setOwned calls, "new IPs get a gratuitous burst").
 */
export type Layer2Engine = Omit<FrameEngine, 'reannounce' | 'status'> & {
  reannounce?(ips: readonly string[]): void;
  status(): unknown;
};

/** What the Kubernetes adapter turns into an Event on the Services (type Warning, reason "Layer2Conflict"). */
export interface Layer2ConflictEvent {
  readonly ip: string;
  readonly otherMac: string;
  readonly iface: string;
  /** Services announced on that IP from this node. */
  readonly services: readonly string[];
  /** The owner by the ownership rule after the conflict (this node, another member, or null). */
  readonly owner: string | null;
  readonly message: string;
}

export interface Layer2AnnouncerOptions {
  readonly nodeName: string;
  readonly engine: Layer2Engine;
  readonly membership: Membership;
  readonly metrics?: Layer2MemberMetrics;
  readonly log?: Logger;
  /** Wall clock for claim times (ms since the epoch). */
  readonly wall?: () => number;
  /** Split-brain hook: Kubernetes mode posts an Event. */
  readonly onConflict?: (event: Layer2ConflictEvent) => void;
}

const NO_DETAIL: AnnouncementDetail = Object.freeze({ prefixes: [], peers: [] });

interface ServiceRecord {
  readonly keyIp: string;
  readonly demand: Layer2Demand;
}

interface OwnerRecord {
  readonly owner: string | null;
  readonly basis: OwnerBasis;
  readonly eligible: readonly string[];
  readonly claimants: ReadonlyMap<string, number>;
}

interface ConflictRecord {
  readonly ip: string;
  readonly otherMac: string;
  readonly iface: string;
  readonly at: string;
  count: number;
}

export class Layer2Announcer implements Announcer {
  readonly protocol = 'layer2' as const;
  private config: Config | null = null;
  private node: NodeView;
  private readonly engine: Layer2Engine;
  private readonly membership: Membership;
  private readonly log: Logger | undefined;
  private readonly wall: () => number;
  /** Services seen by shouldAnnounce in a layer2 pool: their election key and demand. */
  private readonly services = new Map<string, ServiceRecord>();
  /** The last decision per Service (to tell a withdrawal from a deletion in deleteBalancer). */
  private readonly decisions = new Map<string, string | null>();
  /** What the agent asked us to announce: key → IPs. */
  private readonly balancers = new Map<string, { keyIp: string; ips: readonly string[] }>();
  /** This node's claims: key IP → wall ms since. */
  private claims = new Map<string, number>();
  private owners = new Map<string, OwnerRecord>();
  private readonly invalidators: (() => void)[] = [];
  private readonly conflicts = new Map<string, ConflictRecord>();
  private ownedSent: string[] = [];
  /** Key IPs we currently win against another claimant (re-announced once when the contest starts). */
  private readonly contested = new Set<string>();
  private stopped = false;
  /** Members heard alive at the last recompute (to notice one coming back). */
  private aliveBefore = new Set<string>();

  constructor(private readonly opts: Layer2AnnouncerOptions) {
    this.engine = opts.engine;
    this.membership = opts.membership;
    this.log = opts.log;
    this.wall = opts.wall ?? Date.now;
    this.node = { name: opts.nodeName, labels: {} };
    this.membership.on({
      onChange: (view) => this.guard('membershipChange', () => this.recompute(view)),
      onDrop: (reason) => opts.metrics?.packetDropped(reason),
      onMemberDown: (name, reason) => opts.metrics?.memberDown(name, reason),
    });
    this.engine.onConflict((ip, otherMac, iface) => this.guard('conflict', () => this.conflict(ip, otherMac, iface)));
  }

  setConfig(config: Config): void {
    this.config = config;
  }

  setNode(node: NodeView): void {
    this.node = node;
    this.pushLocal();
    this.guard('setNode', () => this.recompute(this.membership.view()));
  }

  shouldAnnounce(svc: ServiceView, endpoints: readonly EndpointView[]): string | null {
    const reason = this.decide(svc, endpoints);
    this.decisions.set(svc.key, reason);
    return reason;
  }

  private decide(svc: ServiceView, endpoints: readonly EndpointView[]): string | null {
    if (this.config === null) return 'noConfig';
    const pool = poolOfService(this.config, svc);
    if (!pool.ok) {
      this.services.delete(svc.key);
      return pool.reason;
    }
    if (pool.pool.protocol !== 'layer2') {
      this.services.delete(svc.key);
      return 'notLayer2';
    }
    const keyIp = canonicalKey(svc.ips[0] ?? '');
    const demand = demandOf(svc, endpoints);
    this.services.set(svc.key, { keyIp, demand });
    // MetalLB's order: endpoints first, then the election (metallb-compat §3.5).
    if (Object.hasOwn(this.node.labels, EXCLUDE_LABEL)) return 'nodeExcluded';
    if (demand.readyNodes.size === 0) return 'noEndpoints';
    if (demand.policy === 'Local' && !demand.readyNodes.has(this.node.name)) return 'noLocalEndpoints';
    const view = this.membership.view();
    if (!view.ready) return 'membershipNotReady';
    const rec = this.ownerOf(keyIp, view);
    this.owners.set(keyIp, rec);
    if (rec.owner !== this.node.name) {
      if (this.claims.delete(keyIp)) this.pushLocal();
      return 'notOwner';
    }
    if (!this.claims.has(keyIp)) {
      this.claims.set(keyIp, this.wall());
      this.pushLocal();
    }
    return null;
  }

  setBalancer(key: string, ips: readonly string[], _pool: Pool): void {
    const keyIp = canonicalKey(ips[0] ?? '');
    this.balancers.set(key, { keyIp, ips: [...ips] });
    this.pushOwned();
  }

  deleteBalancer(key: string): void {
    const had = this.balancers.get(key);
    this.balancers.delete(key);
    // A delete after we said "announce" (or without any decision) is the Service going away; after a refusal the
    // Service still exists and its demand still counts for shared IPs.
    const last = this.decisions.get(key);
    if (last === undefined || last === null) {
      this.services.delete(key);
      this.decisions.delete(key);
    }
    if (had !== undefined && ![...this.balancers.values()].some((b) => b.keyIp === had.keyIp)) {
      if (this.claims.delete(had.keyIp)) this.pushLocal();
    }
    this.pushOwned();
  }

  onInvalidate(cb: () => void): void {
    this.invalidators.push(cb);
  }

  /** Layer 2 has no End-of-RIB: nothing is held back until the first full state. */
  synced(): void {}

  detail(_key: string): AnnouncementDetail {
    return NO_DETAIL;
  }

  /** The cluster's nodes changed (standalone: the cluster file's Nodes; Kubernetes: the Node informer). */
  setMembers(members: readonly MemberInput[]): void {
    this.membership.setMembers(members);
  }

  status(): unknown {
    const view = this.membership.view();
    const now = this.wall();
    const keyIps = new Set<string>([...this.owners.keys(), ...this.claims.keys()]);
    const ips = [...keyIps].sort().map((ip) => {
      const o = this.owners.get(ip);
      const services = [...new Set([...this.balancers.entries()].filter(([, b]) => b.keyIp === ip).map(([k]) => k).concat([...this.services.entries()].filter(([, r]) => r.keyIp === ip).map(([k]) => k)))].sort();
      return {
        ip,
        owner: o?.owner ?? null,
        basis: o?.basis ?? 'none',
        eligible: o?.eligible ?? [],
        claimants: Object.fromEntries([...(o?.claimants ?? new Map<string, number>())].map(([n, s]) => [n, new Date(s).toISOString()])),
        announcing: this.claims.has(ip),
        services,
        service: services.join(','),
        lastConflict: this.conflicts.get(ip) ?? null,
      };
    });
    return {
      node: this.node.name,
      ready: view.ready,
      members: view.members.map((m) => ({
        name: m.name,
        address: m.address,
        status: m.status,
        alive: m.status === 'alive' || m.status === 'self',
        lastHeardMs: m.status === 'self' ? 0 : m.lastHeard === null ? null : Math.max(0, now - m.lastHeard),
        lastHeard: m.lastHeard === null ? null : new Date(m.lastHeard).toISOString(),
        silentMs: m.lastHeard === null ? null : Math.max(0, now - m.lastHeard),
        excluded: m.excluded,
        lag: m.lag,
        hears: m.hears,
        claims: m.claims.size,
      })),
      packetsDropped: view.drops,
      ips,
      owned: this.ownedSent,
      engine: this.engineStatus(),
    };
  }

  private engineStatus(): unknown {
    try {
      return this.engine.status();
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Leave first: the others take over at once instead of after the dead timeout.
    this.claims.clear();
    await this.membership.stop().catch((err: unknown) => this.log?.error('memberStopFailed', { error: err }));
    await this.engine.stop().catch((err: unknown) => this.log?.error('engineStopFailed', { error: err }));
  }

  /** Members this node hears, with their claims (self included with ours). */
  private live(view: MembershipView): LiveMember[] {
    const out: LiveMember[] = [];
    for (const m of view.members) {
      if (m.status === 'self') out.push({ name: this.node.name, excluded: Object.hasOwn(this.node.labels, EXCLUDE_LABEL), claims: this.claims });
      else if (m.status === 'alive') out.push({ name: m.name, excluded: m.excluded, claims: m.claims });
    }
    if (!out.some((m) => m.name === this.node.name)) {
      out.push({ name: this.node.name, excluded: Object.hasOwn(this.node.labels, EXCLUDE_LABEL), claims: this.claims });
    }
    return out;
  }

  private ownerOf(keyIp: string, view: MembershipView): OwnerRecord {
    const live = this.live(view);
    const demands = [...this.services.values()].filter((s) => s.keyIp === keyIp).map((s) => s.demand);
    const eligible = eligibleFor(demands, live);
    const claimants = claimsOn(keyIp, live);
    const d = decideOwner({ ip: keyIp, eligible, claims: claimants });
    if (d.basis === 'conflict') this.log?.info('claimConflict', { ip: keyIp, owner: d.owner, losers: d.losers });
    return { owner: d.owner, basis: d.basis, eligible: [...eligible].sort(), claimants };
  }

  /** Re-evaluates every known IP after the membership view changed. */
  private recompute(view: MembershipView): void {
    if (this.stopped) return;
    let invalidate = false;
    let lost = false;
    const reclaim: string[] = [];
    const keyIps = new Set<string>([...[...this.services.values()].map((s) => s.keyIp), ...this.claims.keys()]);
    const owners = new Map<string, OwnerRecord>();
    for (const ip of keyIps) {
      const rec = view.ready ? this.ownerOf(ip, view) : { owner: null, basis: 'none' as const, eligible: [], claimants: new Map<string, number>() };
      owners.set(ip, rec);
      const prev = this.owners.get(ip);
      if (prev?.owner !== rec.owner) {
        invalidate = true;
        if (prev !== undefined && prev.owner !== null) this.opts.metrics?.ownershipChanged();
        this.log?.info('layer2OwnerChanged', { ip, from: prev?.owner ?? null, to: rec.owner, basis: rec.basis });
      }
      if (rec.basis === 'conflict' && rec.owner === this.node.name) {
        if (!this.contested.has(ip)) {
          this.contested.add(ip);
          reclaim.push(ip);
        }
      } else this.contested.delete(ip);
      if (rec.owner !== this.node.name && this.claims.has(ip)) {
        // The loser withdraws at once: stop answering now, not after the agent's re-sync.
        this.claims.delete(ip);
        lost = true;
        invalidate = true;
      } else if (rec.owner === this.node.name && !this.claims.has(ip)) {
        invalidate = true;
      }
    }
    this.owners = owners;
    // A member we did not hear a moment ago is back (a healed partition, a restart): while we could not hear
    // each other it may have taken our IPs and moved clients' neighbour entries to its MAC, and it may already
    // have withdrawn before its claim reached us (so no contest is ever seen here). Re-announce what we keep.
    const alive = new Set(view.members.filter((m) => m.status === 'alive').map((m) => m.name));
    const returned = [...alive].some((n) => !this.aliveBefore.has(n));
    this.aliveBefore = alive;
    if (returned && view.ready) {
      for (const [ip, rec] of owners) if (rec.owner === this.node.name && this.claims.has(ip) && !reclaim.includes(ip)) reclaim.push(ip);
    }
    this.opts.metrics?.setMembersAlive(view.members.filter((m) => m.status === 'alive').length);
    if (lost) {
      this.pushLocal();
      this.pushOwned();
    }
    for (const ip of [...this.contested]) if (!keyIps.has(ip)) this.contested.delete(ip);
    if (reclaim.length > 0) this.reannounce(reclaim);
    if (invalidate) this.fireInvalidate();
  }

  private conflict(ip: string, otherMac: string, iface: string): void {
    const keyIp = canonicalKey(ip);
    this.opts.metrics?.conflict(keyIp);
    const prev = this.conflicts.get(keyIp);
    this.conflicts.set(keyIp, { ip: keyIp, otherMac, iface, at: new Date(this.wall()).toISOString(), count: (prev?.count ?? 0) + 1 });
    const view = this.membership.view();
    const rec = this.owners.get(keyIp) ?? this.ownerOf(keyIp, view);
    const services = [...this.balancers.entries()].filter(([, b]) => b.ips.some((x) => canonicalKey(x) === keyIp)).map(([k]) => k).sort();
    const message =
      `another MAC ${otherMac} answers for ${keyIp} on ${iface}; ` +
      (rec.owner === this.node.name ? 'the ownership rule keeps it on this node' : `the ownership rule gives it to ${rec.owner ?? 'nobody'}`);
    this.log?.warn('layer2Conflict', { ip: keyIp, otherMac, iface, owner: rec.owner, services });
    try {
      this.opts.onConflict?.({ ip: keyIp, otherMac, iface, services, owner: rec.owner, message });
    } catch (err) {
      this.log?.error('conflictHookFailed', { error: err });
    }
    // If the other MAC is a speaker we cannot hear, our claims reach it with the next heartbeat; send them now.
    this.membership.sendNow();
    this.recompute(view);
    // Clients may have learned the other MAC: when the IP stays here, tell them again.
    if (this.owners.get(keyIp)?.owner === this.node.name && this.claims.has(keyIp)) this.reannounce([keyIp]);
  }

  private pushLocal(): void {
    this.membership.setLocal({ claims: new Map(this.claims), excluded: Object.hasOwn(this.node.labels, EXCLUDE_LABEL) });
  }

  /** The IPs the engine answers for: those of Services we announce whose election key we still hold. */
  private pushOwned(): void {
    const ips = new Set<string>();
    for (const b of this.balancers.values()) if (this.claims.has(b.keyIp)) for (const ip of b.ips) ips.add(canonicalKey(ip));
    const next = [...ips].sort();
    if (next.length === this.ownedSent.length && next.every((x, i) => x === this.ownedSent[i])) return;
    this.ownedSent = next;
    try {
      this.engine.setOwned(next);
    } catch (err) {
      this.log?.error('engineSetOwnedFailed', { error: err });
    }
  }

  /** A gratuitous burst for the announced IPs of these election keys. */
  private reannounce(keyIps: readonly string[]): void {
    const keys = new Set(keyIps);
    const ips = new Set<string>();
    for (const b of this.balancers.values()) if (keys.has(b.keyIp) && this.claims.has(b.keyIp)) for (const ip of b.ips) ips.add(canonicalKey(ip));
    const list = [...ips].filter((ip) => this.ownedSent.includes(ip)).sort();
    if (list.length === 0) return;
    this.log?.info('layer2Reannounce', { ips: list });
    try {
      if (this.engine.reannounce !== undefined) this.engine.reannounce(list);
      else {
        this.engine.setOwned(this.ownedSent.filter((ip) => !ips.has(ip)));
        this.engine.setOwned(this.ownedSent);
      }
    } catch (err) {
      this.log?.error('engineReannounceFailed', { error: err });
    }
  }

  private fireInvalidate(): void {
    for (const cb of this.invalidators) {
      try {
        cb();
      } catch (err) {
        this.log?.error('invalidateFailed', { error: err });
      }
    }
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log?.error('layer2AnnouncerError', { in: what, error: err });
    }
  }
}
