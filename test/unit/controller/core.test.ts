import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerCore, isOurClass } from '../../../src/controller/core.js';
import type { ServiceObject } from '../../../src/plan/cluster.js';

const CONFIG = `
address-pools:
- name: small
  protocol: bgp
  addresses: [10.0.0.0/30]
- name: other
  protocol: layer2
  auto-assign: false
  addresses: [10.1.0.0/29]
`;

let clock = 0;
function svc(name: string, extra: Partial<ServiceObject> = {}): ServiceObject {
  clock += 1;
  return {
    key: `ns/${name}`,
    namespace: 'ns',
    name,
    labels: {},
    loadBalancerClass: null,
    type: 'LoadBalancer',
    clusterIPs: ['10.96.0.1'],
    creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString(),
    ports: [{ name: null, protocol: 'TCP', port: 80 }],
    ...extra,
  };
}

function core(lbClass: string | null = null): ControllerCore {
  const c = new ControllerCore({ lbClass });
  const r = c.setConfigText(CONFIG);
  assert.deepEqual(r, { ok: true, changed: true });
  return c;
}

/** Runs what the adapter would: process, then "write" the status back into the cache. */
function run(c: ControllerCore, s: ServiceObject): ReturnType<ControllerCore['process']> {
  c.observe(s);
  const o = c.process(s.key);
  if (o.writeStatus !== null) c.observe({ ...s, statusIPs: [...o.writeStatus] });
  return o;
}

describe('ControllerCore', () => {
  test('allocates the lowest free address after sync, with one IPAllocated event', () => {
    const c = core();
    c.markSynced();
    const o = run(c, svc('a'));
    assert.deepEqual(o.writeStatus, ['10.0.0.0']);
    assert.deepEqual(o.event, { type: 'Normal', reason: 'IPAllocated', message: 'Assigned IP ["10.0.0.0"]' });
    // The informer echoes the status back: nothing to write, no second event.
    const again = c.process('ns/a');
    assert.equal(again.writeStatus, null);
    assert.equal(again.event, null);
  });

  test('sync gate: before sync a Service without status IPs is retried, one with status claims it', () => {
    const c = core();
    const pending = run(c, svc('new'));
    assert.equal(pending.retry, true);
    assert.equal(pending.writeStatus, null);
    const holder = run(c, svc('old', { statusIPs: ['10.0.0.0'] }));
    assert.equal(holder.retry, false);
    assert.equal(holder.writeStatus, null);
    assert.deepEqual(c.markSynced(), ['ns/new', 'ns/old']);
    // The new Service does not get the address the old one holds.
    assert.deepEqual(c.process('ns/new').writeStatus, ['10.0.0.1']);
  });

  test('at sync, status claims are made before any allocation, older Service first', () => {
    const c = core();
    c.observe(svc('fresh'));
    c.observe(svc('holder-young', { statusIPs: ['10.0.0.2'] }));
    const keys = c.markSynced();
    for (const k of keys) c.process(k);
    assert.deepEqual(
      Object.fromEntries(c.allocations().map(([k, a]) => [k, a.ips])),
      { 'ns/fresh': ['10.0.0.0'], 'ns/holder-young': ['10.0.0.2'] },
    );
  });

  test('exhaustion: AllocationFailed once, then the freed address goes to the pending Service', () => {
    const c = core();
    c.markSynced();
    for (const n of ['a', 'b', 'c', 'd']) assert.ok(run(c, svc(n)).writeStatus);
    const e = run(c, svc('e'));
    assert.equal(e.writeStatus, null);
    assert.equal(e.event?.reason, 'AllocationFailed');
    assert.match(e.event?.message ?? '', /^Failed to allocate IP for "ns\/e": /);
    assert.equal(c.process('ns/e').event, null, 'no event spam on resync');
    c.forget('ns/b');
    const del = c.process('ns/b');
    assert.equal(del.freed, true);
    assert.deepEqual(c.pendingKeys(), ['ns/e']);
    const got = c.process('ns/e');
    assert.deepEqual(got.writeStatus, ['10.0.0.1']);
    assert.equal(got.event?.reason, 'IPAllocated');
  });

  test('type change away from LoadBalancer clears the status and frees the address', () => {
    const c = core();
    c.markSynced();
    run(c, svc('a'));
    const o = run(c, svc('a', { type: 'ClusterIP', statusIPs: ['10.0.0.0'] }));
    assert.deepEqual(o.writeStatus, []);
    assert.equal(o.freed, true);
  });

  test('a status IP outside every pool is cleared and a fresh one allocated', () => {
    const c = core();
    c.markSynced();
    const o = run(c, svc('a', { statusIPs: ['192.0.2.1'] }));
    assert.deepEqual(o.writeStatus, ['10.0.0.0']);
  });

  test('requested IP and pool annotation', () => {
    const c = core();
    c.markSynced();
    assert.deepEqual(run(c, svc('a', { loadBalancerIP: '10.1.0.3' })).writeStatus, ['10.1.0.3']);
    assert.deepEqual(run(c, svc('b', { annotations: { 'metallb.universe.tf/address-pool': 'other' } })).writeStatus, ['10.1.0.0']);
    const bad = run(c, svc('c', { loadBalancerIP: 'nonsense' }));
    assert.equal(bad.writeStatus, null);
    assert.equal(bad.event?.reason, 'LoadBalancerFailed');
  });

  test('sharing: two compatible Services share one address', () => {
    const c = core();
    c.markSynced();
    const ann = { 'metallb.universe.tf/allow-shared-ip': 'k' };
    const a = run(c, svc('dns-tcp', { annotations: ann, loadBalancerIP: '10.0.0.3', ports: [{ name: null, protocol: 'TCP', port: 53 }] }));
    const b = run(c, svc('dns-udp', { annotations: ann, loadBalancerIP: '10.0.0.3', ports: [{ name: null, protocol: 'UDP', port: 53 }] }));
    assert.deepEqual(a.writeStatus, ['10.0.0.3']);
    assert.deepEqual(b.writeStatus, ['10.0.0.3']);
  });

  test('--lb-class: a Service of another class gets nothing, consumes nothing, its status is untouched', () => {
    const c = core();
    c.markSynced();
    const foreign = run(c, svc('foreign', { loadBalancerClass: 'other.io/lb', statusIPs: ['10.0.0.0'] }));
    assert.equal(foreign.writeStatus, null);
    assert.equal(foreign.event, null);
    // 10.0.0.0 is free for us: the foreign status IP consumed nothing.
    assert.deepEqual(run(c, svc('mine')).writeStatus, ['10.0.0.0']);

    const withClass = core('ingot.io/lb');
    withClass.markSynced();
    assert.equal(run(withClass, svc('classless')).writeStatus, null);
    assert.deepEqual(run(withClass, svc('classed', { loadBalancerClass: 'ingot.io/lb' })).writeStatus, ['10.0.0.0']);
    assert.equal(isOurClass({ loadBalancerClass: null }, null), true);
    assert.equal(isOurClass({ loadBalancerClass: 'x' }, null), false);
    assert.equal(isOurClass({ loadBalancerClass: 'x' }, 'x'), true);
  });

  test('a config that fails to parse is refused; the last good one stays', () => {
    const c = core();
    c.markSynced();
    run(c, svc('a'));
    const r = c.setConfigText('address-pools:\n- name: x\n  protocol: bgp\n  addresses: [nonsense]\n');
    assert.equal(r.ok, false);
    assert.equal(r.ok === false && r.kind, 'invalid');
    assert.deepEqual(c.configState.stale, true);
    assert.equal(c.configState.loaded, true);
    assert.deepEqual(run(c, svc('b')).writeStatus, ['10.0.0.1']);
  });

  test('a config that would orphan an allocated address is refused, naming the Service and IP, and applies once it moves', () => {
    const c = core();
    c.markSynced();
    run(c, svc('a'));
    const shrink = 'address-pools:\n- name: small\n  protocol: bgp\n  addresses: [10.0.0.2/31]\n';
    const r = c.setConfigText(shrink);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.kind, 'orphans');
    assert.match(r.message, /ns\/a/);
    assert.match(r.message, /10\.0\.0\.0/);
    assert.equal(c.retryPendingConfig()?.ok, false);
    c.forget('ns/a');
    c.process('ns/a');
    assert.deepEqual(c.retryPendingConfig(), { ok: true, changed: true });
    assert.equal(c.configState.stale, false);
  });

  test('a config that arrives after sync claims every status address before any Service is processed', () => {
    const c = new ControllerCore();
    c.observe(svc('first-without-status'));
    c.observe(svc('holder', { statusIPs: ['10.0.0.0'] }));
    c.markSynced();
    assert.deepEqual(c.setConfigText(CONFIG), { ok: true, changed: true });
    // Processed in the order a re-queue would: the Service without status must not take the held address.
    assert.deepEqual(c.process('ns/first-without-status').writeStatus, ['10.0.0.1']);
    assert.equal(c.process('ns/holder').writeStatus, null);
    assert.equal(c.goodConfigText, CONFIG);
  });

  test('a refused config is kept pending and retried; a good one clears it', () => {
    const c = core();
    c.markSynced();
    run(c, svc('a'));
    assert.equal(c.setConfigText('address-pools: []\n').ok, false);
    assert.equal(c.hasPendingConfig, true);
    assert.deepEqual(c.setConfigText(CONFIG), { ok: true, changed: false });
    assert.equal(c.hasPendingConfig, false);
    assert.equal(c.configState.stale, false);
  });

  test('no config yet: nothing is allocated', () => {
    const c = new ControllerCore();
    c.markSynced();
    c.observe(svc('a'));
    const o = c.process('ns/a');
    assert.equal(o.writeStatus, null);
    assert.equal(c.configState.loaded, false);
    assert.deepEqual(c.setConfigText(null), { ok: false, kind: 'missing', message: 'configuration is missing, ingot will not allocate with a new config until it is back' });
  });
});
