// Layer2Announcer against a scripted membership view and a recording frame engine: MetalLB's ShouldAnnounce
// answers, claims pushed into the heartbeats, the loser withdrawing before the agent re-syncs, the split-brain
// guard (metric, event hook, immediate heartbeat) and the /status shape.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Layer2Announcer, type Layer2ConflictEvent, type Layer2Engine } from '../../../src/l2/announcer.js';
import { emptyDrops, type MemberInfo, type Membership, type MembershipHooks, type MembershipView } from '../../../src/l2/member-driver.js';
import type { LocalView, MemberAddress } from '../../../src/l2/membership.js';
import { Layer2MemberMetrics } from '../../../src/metrics/registry.js';
import { ok, pool } from '../config/helpers.js';
import type { EndpointView, ServiceView } from '../../../src/announce/index.js';

const IP = '192.0.2.10'; // rendezvous order n2, n3, n1
const T0 = 1_765_000_000_000;

class FakeMembership implements Membership {
  hooks: MembershipHooks[] = [];
  locals: LocalView[] = [];
  sent = 0;
  stopped = false;
  v: MembershipView;
  constructor(self: string) {
    this.v = { self, ready: true, members: [member(self, 'self')], drops: emptyDrops() };
  }
  async start(): Promise<void> {}
  view(): MembershipView {
    return this.v;
  }
  setLocal(local: LocalView): void {
    this.locals.push(local);
  }
  setMembers(_m: readonly MemberAddress[]): void {}
  sendNow(): void {
    this.sent++;
  }
  on(h: MembershipHooks): void {
    this.hooks.push(h);
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
  /** Replaces the others and fires onChange. */
  set(others: MemberInfo[], ready = true): void {
    const self = this.v.members[0] as MemberInfo;
    this.v = { ...this.v, ready, members: [self, ...others] };
    for (const h of this.hooks) h.onChange?.(this.v);
  }
  lastClaims(): string[] {
    return [...(this.locals.at(-1)?.claims.keys() ?? [])];
  }
}

function member(name: string, status: MemberInfo['status'], claims: Record<string, number> = {}, excluded = false): MemberInfo {
  return { name, address: '', port: 7946, status, lastHeard: T0, excluded, lag: 0, incarnation: '1', hears: [], claims: new Map(Object.entries(claims)) };
}

class RecordingEngine implements Layer2Engine {
  owned: string[][] = [];
  cb: ((ip: string, mac: string, iface: string) => void) | null = null;
  setOwned(ips: readonly string[]): void {
    this.owned.push([...ips]);
  }
  onConflict(cb: (ip: string, otherMac: string, iface: string) => void): void {
    this.cb = cb;
  }
  status(): unknown {
    return { fake: true };
  }
  async stop(): Promise<void> {}
  last(): string[] {
    return this.owned.at(-1) ?? [];
  }
}

const CONFIG = ok(`${pool('layer2', ['192.0.2.0/24'])}\n- name: b\n  protocol: bgp\n  addresses:\n  - 198.51.100.0/24\n`);
const svc = (ips: string[] = [IP], policy: 'Cluster' | 'Local' = 'Cluster', key = 'default/web'): ServiceView => ({ key, type: 'LoadBalancer', ips, externalTrafficPolicy: policy });
const EPS: EndpointView[] = [{ nodeName: 'n1', ready: true }];

function setup(self = 'n1', config = CONFIG) {
  const m = new FakeMembership(self);
  const e = new RecordingEngine();
  const metrics = new Layer2MemberMetrics();
  const events: Layer2ConflictEvent[] = [];
  let invalidations = 0;
  const a = new Layer2Announcer({ nodeName: self, engine: e, membership: m, metrics, wall: () => T0, onConflict: (ev) => events.push(ev) });
  a.setConfig(config);
  a.setNode({ name: self, labels: {} });
  a.onInvalidate(() => invalidations++);
  /** The agent's loop for one Service: ShouldAnnounce, then SetBalancer or DeleteBalancer. */
  const sync = (s: ServiceView = svc(), eps: EndpointView[] = EPS): string | null => {
    const r = a.shouldAnnounce(s, eps);
    const pl = config.pools[0];
    assert.ok(pl);
    if (r === null) a.setBalancer(s.key, s.ips, pl);
    else a.deleteBalancer(s.key);
    return r;
  };
  return { m, e, a, metrics, events, sync, inv: () => invalidations };
}

describe('Layer2Announcer', () => {
  it('ShouldAnnounce reasons in MetalLB order', () => {
    const { a, m } = setup();
    assert.equal(a.protocol, 'layer2');
    assert.equal(a.shouldAnnounce({ ...svc(), type: 'ClusterIP' }, EPS), 'notLoadBalancer');
    assert.equal(a.shouldAnnounce(svc([]), EPS), 'noIPAllocated');
    assert.equal(a.shouldAnnounce(svc(['203.0.113.1']), EPS), 'ipNotAllowed');
    assert.equal(a.shouldAnnounce(svc(['198.51.100.1']), EPS), 'notLayer2');
    assert.equal(a.shouldAnnounce(svc(), [{ nodeName: 'n1', ready: false }]), 'noEndpoints');
    assert.equal(a.shouldAnnounce(svc([IP], 'Local'), [{ nodeName: 'n2', ready: true }]), 'noLocalEndpoints');
    m.set([], false);
    assert.equal(a.shouldAnnounce(svc(), EPS), 'membershipNotReady');
  });

  it('excluded node: nodeExcluded, and its heartbeats say so', () => {
    const { a, m } = setup();
    a.setNode({ name: 'n1', labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' } });
    assert.equal(a.shouldAnnounce(svc(), EPS), 'nodeExcluded');
    assert.equal(m.locals.at(-1)?.excluded, true);
  });

  it('alone: announces, claims the IP in its heartbeats, the engine answers for it', () => {
    const { sync, m, e } = setup();
    assert.equal(sync(), null);
    assert.deepEqual(m.lastClaims(), [IP]);
    assert.equal(m.locals.at(-1)?.claims.get(IP), T0);
    assert.deepEqual(e.last(), [IP]);
  });

  it('no claims anywhere: the rendezvous winner among live eligible members takes it (n2 for this IP)', () => {
    const { sync, m, e } = setup('n1');
    m.set([member('n2', 'alive'), member('n3', 'alive')]);
    assert.equal(sync(), 'notOwner');
    assert.deepEqual(e.last(), []);
    // n2 dies: n3 is next in order, n1 still not.
    m.set([member('n2', 'dead'), member('n3', 'alive')]);
    assert.equal(sync(), 'notOwner');
    // both die: n1 takes it.
    m.set([member('n2', 'dead'), member('n3', 'dead')]);
    assert.equal(sync(), null);
  });

  it('sticky: a member joining with a better hash does not take the IP', () => {
    const { sync, m, e, inv } = setup('n1');
    assert.equal(sync(), null);
    const before = inv();
    m.set([member('n2', 'alive'), member('n3', 'alive')]);
    assert.equal(inv(), before, 'nothing to re-decide');
    assert.equal(sync(), null);
    assert.deepEqual(e.last(), [IP]);
  });

  it('failover: when the claimant dies, the agent is told to re-decide and the next owner takes over', () => {
    const { sync, m, e, inv } = setup('n1');
    m.set([member('n2', 'alive', { [IP]: T0 - 5000 }), member('n3', 'alive')]);
    assert.equal(sync(), 'notOwner');
    const before = inv();
    m.set([member('n2', 'dead'), member('n3', 'dead')]);
    assert.ok(inv() > before, 'onInvalidate fired');
    assert.equal(sync(), null);
    assert.deepEqual(e.last(), [IP]);
  });

  it('partition healed: the later claimant withdraws at once, before the agent re-syncs', () => {
    const { sync, m, e, inv, metrics } = setup('n1');
    assert.equal(sync(), null);
    assert.deepEqual(e.last(), [IP]);
    const before = inv();
    m.set([member('n3', 'alive', { [IP]: T0 - 1 })]); // n3's claim is older
    assert.deepEqual(e.last(), [], 'the engine stops answering immediately');
    assert.deepEqual(m.lastClaims(), [], 'the withdrawal goes into the next heartbeat');
    assert.ok(inv() > before);
    assert.equal(sync(), 'notOwner');
    return metrics.metrics().then((text) => assert.match(text, /ingot_layer2_ownership_changes_total 1/));
  });

  it('partition healed the other way: our older claim wins, we keep answering and re-announce once', () => {
    const { sync, m, e } = setup('n1');
    assert.equal(sync(), null);
    const n = e.owned.length;
    m.set([member('n3', 'alive', { [IP]: T0 + 1 }), member('n2', 'alive')]);
    assert.deepEqual(e.owned.slice(n), [[], [IP]], 'dropped and re-added in one go: a gratuitous burst');
    assert.deepEqual(e.last(), [IP]);
    m.set([member('n3', 'alive', { [IP]: T0 + 1 }), member('n2', 'alive')]);
    assert.equal(e.owned.length, n + 2, 'once per contest, not on every view');
    assert.equal(sync(), null);
  });

  it('a member heard again (healed partition) makes the owner re-announce, even if it withdrew unseen', () => {
    const { sync, m, e } = setup('n1');
    assert.equal(sync(), null);
    m.set([member('n2', 'alive'), member('n3', 'alive')]);
    const n = e.owned.length;
    m.set([member('n2', 'alive')]); // n3 cut off
    assert.equal(e.owned.length, n, 'a member going away changes nothing here');
    m.set([member('n2', 'alive'), member('n3', 'alive')]); // healed; n3 already withdrew its claim
    assert.deepEqual(e.owned.slice(n), [[], [IP]], 'a gratuitous burst for the IP kept');
    m.set([member('n2', 'alive'), member('n3', 'alive')]);
    assert.equal(e.owned.length, n + 2, 'once per return');
  });

  it('re-announces through engine.reannounce when the engine has it', () => {
    const { sync, m, e } = setup('n1');
    const re: string[][] = [];
    (e as RecordingEngine & { reannounce(ips: readonly string[]): void }).reannounce = (ips) => void re.push([...ips]);
    assert.equal(sync(), null);
    m.set([member('n3', 'alive', { [IP]: T0 + 1 })]);
    assert.deepEqual(re, [[IP]]);
    assert.ok(e.cb);
    e.cb(IP, '02:00:00:00:00:99', 'eth0');
    assert.deepEqual(re, [[IP], [IP]], 'a foreign MAC for an IP we keep: tell the clients again');
  });

  it('Local policy: the owner loses its endpoint → not eligible → another node with an endpoint', () => {
    const { sync, m } = setup('n1');
    m.set([member('n3', 'alive', { [IP]: T0 - 10 })]);
    const both: EndpointView[] = [{ nodeName: 'n1', ready: true }, { nodeName: 'n3', ready: true }];
    assert.equal(sync(svc([IP], 'Local'), both), 'notOwner');
    assert.equal(sync(svc([IP], 'Local'), [{ nodeName: 'n1', ready: true }]), null, 'n3 has no endpoint any more');
  });

  it('Services sharing an IP go to one owner; deleting one keeps the claim for the other', () => {
    const { sync, a, m, e } = setup('n1');
    assert.equal(sync(svc([IP], 'Cluster', 'default/a')), null);
    assert.equal(sync(svc([IP], 'Cluster', 'default/b')), null);
    a.deleteBalancer('default/a');
    assert.deepEqual(m.lastClaims(), [IP]);
    assert.deepEqual(e.last(), [IP]);
    a.deleteBalancer('default/b');
    assert.deepEqual(m.lastClaims(), []);
    assert.deepEqual(e.last(), []);
  });

  it('dual-stack: the election key is the first IP; both IPs go to the engine', () => {
    const { sync, e, m } = setup('n1', ok(pool('layer2', ['192.0.2.0/24', '2001:db8::/64'])));
    assert.equal(sync(svc([IP, '2001:DB8::10'])), null);
    assert.deepEqual(e.last(), ['192.0.2.10', '2001:db8::10']);
    assert.deepEqual(m.lastClaims(), [IP], 'one claim per election key');
  });

  it('split-brain guard: a foreign MAC for an owned IP is logged, counted, raised as an event, and claims are re-sent', async () => {
    const { sync, m, e, events, metrics } = setup('n1');
    assert.equal(sync(), null);
    const sent = m.sent;
    assert.ok(e.cb);
    e.cb(IP, '02:00:00:00:00:99', 'eth0');
    assert.equal(m.sent, sent + 1);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.ip, IP);
    assert.equal(events[0]?.owner, 'n1');
    assert.deepEqual(events[0]?.services, ['default/web']);
    assert.match(events[0]?.message ?? '', /02:00:00:00:00:99.*keeps it on this node/);
    assert.match(await metrics.metrics(), /ingot_layer2_conflicts_total\{ip="192.0.2.10"\} 1/);
  });

  it('/status: per IP the owner, eligible members, claimants; per member the last-heard time', () => {
    const { sync, m, a } = setup('n1');
    m.set([member('n2', 'dead'), member('n3', 'alive')]);
    assert.equal(sync(svc([IP])), 'notOwner'); // n3 before n1 in the order
    const st = a.status() as { ips: { ip: string; owner: string; eligible: string[] }[]; members: { name: string; lastHeard: string | null; status: string }[] };
    assert.deepEqual(st.ips.map((x) => [x.ip, x.owner, x.eligible]), [[IP, 'n3', ['n1', 'n3']]]);
    assert.deepEqual(st.members.map((x) => [x.name, x.status, x.lastHeard]), [['n1', 'self', new Date(T0).toISOString()], ['n2', 'dead', new Date(T0).toISOString()], ['n3', 'alive', new Date(T0).toISOString()]]);
  });

  it('a throwing engine or listener does not break the announcer', () => {
    const { a, m, sync } = setup('n1');
    a.onInvalidate(() => {
      throw new Error('boom');
    });
    assert.equal(sync(), null);
    m.set([member('n3', 'alive', { [IP]: T0 - 1 })]);
    assert.equal(sync(), 'notOwner');
  });

  it('stop leaves the membership and stops the engine', async () => {
    const { a, m } = setup('n1');
    await a.stop();
    assert.equal(m.stopped, true);
  });
});
