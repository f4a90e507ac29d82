// The controller adapter against the fake API server over real HTTP: allocation and status, sharing, pool
// annotation, requested IPs, exhaustion, recycling, type change, --lb-class, refused configs, metrics.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { microTime } from '../../../src/k8s/index.js';
import { CONFIGMAPS, LEASES, NS, SECRETS, SERVICES, configMap, events, inProcess, service, sleep, statusOf, until } from './support.js';

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

describe('controller (in process, fake API server over HTTP)', () => {
  test('allocates, writes one ingress entry per IP through the status subresource, one IPAllocated event', async () => {
    const env = await inProcess({ config: CONFIG, seed: [service('web')] });
    await until(() => statusOf(env.server, 'web').length > 0, 'web to get an IP');
    assert.deepEqual(statusOf(env.server, 'web'), ['10.0.0.0']);
    const patches = env.server.requests.filter((r) => r.method === 'PATCH');
    assert.ok(patches.length >= 1);
    for (const p of patches) {
      assert.match(p.path, /^\/api\/v1\/namespaces\/default\/services\/web\/status/);
      assert.equal(p.contentType, 'application/merge-patch+json');
    }
    // Nothing else is written: no PUT on Services, no PATCH of the main resource.
    assert.equal(env.server.requests.filter((r) => r.method === 'PUT' && r.path.includes('/services/')).length, 0);
    await until(() => events(env.server).some((e) => e.reason === 'IPAllocated'), 'the IPAllocated event');
    await env.controller.idle();
    await sleep(200);
    const ev = events(env.server).filter((e) => e.object === 'default/web');
    assert.deepEqual(ev.map((e) => [e.type, e.reason, e.message]), [['Normal', 'IPAllocated', 'Assigned IP ["10.0.0.0"]']]);
    // The memberlist Secret exists with 32 random bytes.
    await until(() => env.server.get(SECRETS, 'ingot-memberlist') !== undefined, 'the memberlist Secret');
    const secret = env.server.get(SECRETS, 'ingot-memberlist') as unknown as { data: Record<string, string> };
    assert.equal(Buffer.from(secret.data.secretkey ?? '', 'base64').length, 32);
    // Metrics.
    const text = await env.metrics.metrics();
    assert.match(text, /metallb_allocator_addresses_in_use_total\{pool="small"\} 1/);
    assert.match(text, /metallb_allocator_addresses_total\{pool="small"\} 4/);
    assert.match(text, /metallb_k8s_client_config_loaded_bool 1/);
    assert.match(text, /metallb_k8s_client_config_stale_bool 0/);
    assert.match(text, /ingot_leader 1/);
    const st = env.controller.status();
    assert.equal(st.leader.isLeader, true);
    assert.equal(st.config.loaded, true);
    assert.deepEqual(st.pools.find((p) => p.pool === 'small'), { pool: 'small', family: 'ipv4', inUse: 1, capacity: 4 });
    assert.equal(env.controller.ready(), true);
  });

  test('sharing, pool annotation and requested IPs', async () => {
    const shared = { 'metallb.universe.tf/allow-shared-ip': 'dns' };
    const env = await inProcess({
      config: CONFIG,
      seed: [
        service('dns-tcp', { annotations: shared, loadBalancerIP: '10.0.0.3', ports: [{ port: 53, protocol: 'TCP' }] }),
        service('dns-udp', { annotations: shared, loadBalancerIP: '10.0.0.3', ports: [{ port: 53, protocol: 'UDP' }] }),
        service('l2', { annotations: { 'metallb.universe.tf/address-pool': 'other' } }),
        service('pinned', { annotations: { 'metallb.universe.tf/loadBalancerIPs': '10.1.0.5' } }),
      ],
    });
    await until(() => ['dns-tcp', 'dns-udp', 'l2', 'pinned'].every((n) => statusOf(env.server, n).length > 0), 'all four to get IPs');
    assert.deepEqual(statusOf(env.server, 'dns-tcp'), ['10.0.0.3']);
    assert.deepEqual(statusOf(env.server, 'dns-udp'), ['10.0.0.3']);
    assert.deepEqual(statusOf(env.server, 'l2'), ['10.1.0.0']);
    assert.deepEqual(statusOf(env.server, 'pinned'), ['10.1.0.5']);
  });

  test('exhaustion: AllocationFailed once (not on every resync); deletion gives the IP to the pending Service', async () => {
    const env = await inProcess({ config: CONFIG, seed: ['a', 'b', 'c', 'd'].map((n) => service(n)) });
    await until(() => ['a', 'b', 'c', 'd'].every((n) => statusOf(env.server, n).length > 0), 'four allocations');
    env.server.set(SERVICES, service('e'));
    await until(() => events(env.server).some((e) => e.reason === 'AllocationFailed'), 'AllocationFailed');
    const failed = events(env.server).filter((e) => e.reason === 'AllocationFailed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.type, 'Warning');
    assert.match(failed[0]!.message, /^Failed to allocate IP for "default\/e": no available IPs/);
    // Resyncs: touch e (a label change) and reload the same config: no second event.
    const e = env.server.get(SERVICES, 'e', 'default')!;
    env.server.set(SERVICES, { ...e, metadata: { ...e.metadata, labels: { touched: 'yes' } } });
    env.server.set(CONFIGMAPS, { ...configMap(CONFIG), metadata: { name: 'config', namespace: NS, labels: { x: 'y' } } });
    await sleep(300);
    await env.controller.idle();
    assert.equal(events(env.server).filter((x) => x.reason === 'AllocationFailed').length, 1);
    assert.deepEqual(statusOf(env.server, 'e'), []);
    const bIP = statusOf(env.server, 'b');
    env.server.remove(SERVICES, 'b', 'default');
    await until(() => statusOf(env.server, 'e').length > 0, 'e to get the freed IP');
    assert.deepEqual(statusOf(env.server, 'e'), bIP);
  });

  test('a status write that fails is retried with backoff and writes the same IP; the error is counted', async () => {
    const env = await inProcess({ config: CONFIG });
    env.server.injectFault({ fault: { type: 'status', code: 500 }, method: 'PATCH', times: 2 });
    env.server.injectFault({ fault: { type: 'status', code: 409, reason: 'Conflict' }, method: 'PATCH', times: 1 });
    env.server.set(SERVICES, service('flaky'));
    env.server.set(SERVICES, service('next'));
    await until(() => statusOf(env.server, 'flaky').length > 0 && statusOf(env.server, 'next').length > 0, 'both written');
    assert.deepEqual(statusOf(env.server, 'flaky'), ['10.0.0.0']);
    assert.deepEqual(statusOf(env.server, 'next'), ['10.0.0.1']);
    assert.match(await env.metrics.metrics(), /metallb_k8s_client_update_errors_total [3-9]/);
    // The event of the decision whose write failed is posted once the retry succeeds.
    await until(() => events(env.server).filter((e) => e.reason === 'IPAllocated').length === 2, 'both IPAllocated events');
    assert.deepEqual(events(env.server).filter((e) => e.object === 'default/flaky').map((e) => e.message), ['Assigned IP ["10.0.0.0"]']);
  });

  test('a malformed Service object is reported and skipped; the others are served', async () => {
    const bad = service('bad');
    (bad.spec as { ports: unknown[] }).ports = [{ port: 'http' }];
    const env = await inProcess({ config: CONFIG, seed: [bad, service('good')] });
    await until(() => statusOf(env.server, 'good').length > 0, 'good to get an IP');
    assert.deepEqual(statusOf(env.server, 'bad'), []);
    const line = env.logs.find((l) => l.event === 'serviceUnreadable');
    assert.equal(line?.error, 'Service default/bad: spec.ports[0].port: want an integer 1-65535, got "http"');
  });

  test('type change away from LoadBalancer clears the status and frees the IP', async () => {
    const env = await inProcess({ config: CONFIG, seed: [service('a')] });
    await until(() => statusOf(env.server, 'a').length > 0, 'a to get an IP');
    const a = env.server.get(SERVICES, 'a', 'default')!;
    env.server.set(SERVICES, { ...a, spec: { ...(a.spec as object), type: 'ClusterIP' } });
    await until(() => statusOf(env.server, 'a').length === 0, 'a to be cleared');
    await until(() => env.controller.status().pools.find((p) => p.pool === 'small')?.inUse === 0, 'the IP to be freed');
  });

  test('--lb-class: Services of another class get nothing and consume nothing; their status is never touched', async () => {
    const env = await inProcess({
      config: CONFIG,
      lbClass: 'ingot.io/lb',
      seed: [
        service('classless'),
        service('foreign', { loadBalancerClass: 'other.io/lb', status: ['10.0.0.0'] }),
        service('mine', { loadBalancerClass: 'ingot.io/lb' }),
      ],
    });
    await until(() => statusOf(env.server, 'mine').length > 0, 'mine to get an IP');
    assert.deepEqual(statusOf(env.server, 'mine'), ['10.0.0.0'], 'the foreign status IP consumed nothing');
    await env.controller.idle();
    assert.deepEqual(statusOf(env.server, 'classless'), []);
    assert.deepEqual(statusOf(env.server, 'foreign'), ['10.0.0.0']);
    assert.equal(env.server.requests.filter((r) => r.method === 'PATCH' && !r.path.includes('/services/mine/')).length, 0);
  });

  test('a ConfigMap that does not parse, and one that would orphan an IP: refused, old config kept, Warning on the ConfigMap', async () => {
    const env = await inProcess({ config: CONFIG, seed: [service('a'), service('b')] });
    await until(() => statusOf(env.server, 'a').length > 0 && statusOf(env.server, 'b').length > 0, 'two allocations');
    const before = { a: statusOf(env.server, 'a'), b: statusOf(env.server, 'b') };
    env.server.set(CONFIGMAPS, configMap('address-pools:\n- name: x\n  protocol: bgp\n  addresses: [nonsense]\n'));
    await until(() => env.controller.status().config.stale, 'stale after the bad config');
    await until(() => events(env.server).some((e) => e.kind === 'ConfigMap'), 'a Warning on the ConfigMap');
    const bad = events(env.server).filter((e) => e.kind === 'ConfigMap');
    assert.equal(bad[0]!.type, 'Warning');
    assert.equal(bad[0]!.object, `${NS}/config`);
    assert.match(bad[0]!.message, /nonsense/);
    assert.match(await env.metrics.metrics(), /metallb_k8s_client_config_stale_bool 1/);
    // The old config still allocates.
    env.server.set(SERVICES, service('c'));
    await until(() => statusOf(env.server, 'c').length > 0, 'c allocated under the old config');

    // Shrinking the pool below a's address orphans it.
    const shrink = 'address-pools:\n- name: small\n  protocol: bgp\n  addresses: [10.0.0.3/32]\n';
    env.server.set(CONFIGMAPS, configMap(shrink));
    await until(() => events(env.server).filter((e) => e.kind === 'ConfigMap').length >= 2, 'a second Warning');
    const orphan = events(env.server).filter((e) => e.kind === 'ConfigMap')[1]!;
    assert.match(orphan.message, /service "default\/a" cannot own \["10\.0\.0\.0"\]/);
    await sleep(300);
    assert.deepEqual({ a: statusOf(env.server, 'a'), b: statusOf(env.server, 'b') }, before, 'allocations unchanged');
    assert.equal(env.controller.status().config.stale, true);
    assert.equal(events(env.server).filter((e) => e.kind === 'ConfigMap').length, 2, 'the retried refusal is not re-posted');
    // Once the offending Services go away, the pending config applies.
    for (const n of ['a', 'b', 'c']) env.server.remove(SERVICES, n, 'default');
    await until(() => !env.controller.status().config.stale, 'the shrunk config to apply');
    assert.deepEqual(env.controller.status().pools.map((p) => p.pool), ['small']);
    const text = await env.metrics.metrics();
    assert.doesNotMatch(text, /pool="other"/, 'series of a removed pool are deleted');
  });

  test('a replica that loses the Lease stops writing at once, and one that cannot renew stops before it could expire', async () => {
    const env = await inProcess({ config: CONFIG, seed: [service('a')] });
    await until(() => statusOf(env.server, 'a').length > 0, 'a to get an IP');
    // Another replica takes the Lease (as after a partition): the next renewal finds it and stops leading.
    const lease = env.server.get(LEASES, 'ingot-controller')!;
    env.server.set(LEASES, { ...lease, spec: { ...(lease.spec as object), holderIdentity: 'intruder', leaseDurationSeconds: 60, renewTime: microTime(Date.now()) } });
    await until(() => !env.controller.isLeader(), 'leadership to be lost', 3000);
    const patches = env.server.requests.filter((r) => r.method === 'PATCH').length;
    env.server.set(SERVICES, service('b'));
    await sleep(500);
    await env.controller.idle();
    assert.deepEqual(statusOf(env.server, 'b'), []);
    assert.equal(env.server.requests.filter((r) => r.method === 'PATCH').length, patches, 'no write after losing the Lease');
    assert.equal(env.controller.status().leader.holder, 'intruder');
    // The standby still tracks the state: a (never written) pending Service and the claimed address.
    assert.equal(env.controller.status().pending, 1);
    assert.equal(env.controller.status().allocated, 1);
    // The intruder releases it; this replica leads again, re-processes everything and writes b.
    const now = env.server.get(LEASES, 'ingot-controller')!;
    env.server.set(LEASES, { ...now, spec: { ...(now.spec as object), holderIdentity: '', leaseDurationSeconds: 1 } });
    await until(() => statusOf(env.server, 'b').length > 0, 'b to be written by the new term', 8000);
    assert.deepEqual(statusOf(env.server, 'b'), ['10.0.0.1']);

    // Renewals fail (the API server answers 500 to every Lease write): leadership ends at the renew deadline
    // (2 s here), before the 3 s lease could expire for anyone else, and nothing is written after.
    env.server.injectFault({ fault: { type: 'status', code: 500 }, path: '/leases/', times: 1_000_000 });
    const t0 = Date.now();
    await until(() => !env.controller.isLeader(), 'leadership to end at the renew deadline', 5000);
    assert.ok(Date.now() - t0 < 3000, `stopped after ${Date.now() - t0} ms`);
    const before = env.server.requests.filter((r) => r.method === 'PATCH').length;
    env.server.set(SERVICES, service('c'));
    await sleep(500);
    assert.equal(env.server.requests.filter((r) => r.method === 'PATCH').length, before);
  });

  test('a config refused on a standby stays refused when it becomes leader: claims first, then the ConfigMap', async () => {
    const env = await inProcess({ config: CONFIG, seed: [service('a')] });
    await until(() => statusOf(env.server, 'a').length > 0, 'a to get an IP');
    const lease = env.server.get(LEASES, 'ingot-controller')!;
    env.server.set(LEASES, { ...lease, spec: { ...(lease.spec as object), holderIdentity: 'intruder', leaseDurationSeconds: 60, renewTime: microTime(Date.now()) } });
    await until(() => !env.controller.isLeader(), 'leadership to be lost', 3000);
    env.server.set(CONFIGMAPS, configMap('address-pools:\n- name: small\n  protocol: bgp\n  addresses: [10.0.0.3/32]\n'));
    await until(() => env.controller.status().config.stale, 'the standby to refuse the orphaning config');
    assert.equal(events(env.server).filter((e) => e.kind === 'ConfigMap').length, 0, 'a standby posts no Event');
    const now = env.server.get(LEASES, 'ingot-controller')!;
    env.server.set(LEASES, { ...now, spec: { ...(now.spec as object), holderIdentity: '', leaseDurationSeconds: 1 } });
    await until(() => env.controller.isLeader(), 'leading again', 8000);
    await until(() => events(env.server).some((e) => e.kind === 'ConfigMap'), 'the new leader posts the Warning', 5000);
    await sleep(300);
    assert.equal(env.controller.status().config.stale, true);
    assert.deepEqual(statusOf(env.server, 'a'), ['10.0.0.0'], 'the claim kept its address');
  });

  test('the ConfigMap deleted: stale, the last good config keeps allocating', async () => {
    const env = await inProcess({ config: CONFIG, seed: [service('a')] });
    await until(() => statusOf(env.server, 'a').length > 0, 'a to get an IP');
    env.server.remove(CONFIGMAPS, 'config', NS);
    await until(() => env.controller.status().config.stale, 'stale after the delete');
    assert.equal(env.controller.status().config.loaded, true);
    env.server.set(SERVICES, service('b'));
    await until(() => statusOf(env.server, 'b').length > 0, 'b allocated under the last good config');
    assert.deepEqual(statusOf(env.server, 'b'), ['10.0.0.1']);
    assert.match(await env.metrics.metrics(), /metallb_k8s_client_config_stale_bool 1/);
    // Back: no longer stale.
    env.server.set(CONFIGMAPS, configMap(CONFIG));
    await until(() => !env.controller.status().config.stale, 'not stale once it is back');
  });

  test('a Service created before the config gets an IP once the config arrives; claims come first', async () => {
    const env = await inProcess({ seed: [service('new'), service('holder', { status: ['10.0.0.0'] })] });
    await sleep(200);
    assert.deepEqual(statusOf(env.server, 'new'), []);
    assert.equal(env.controller.ready(), false, 'not ready without a config');
    env.server.set(CONFIGMAPS, configMap(CONFIG));
    await until(() => statusOf(env.server, 'new').length > 0, 'new to get an IP');
    assert.deepEqual(statusOf(env.server, 'new'), ['10.0.0.1']);
    assert.deepEqual(statusOf(env.server, 'holder'), ['10.0.0.0']);
    assert.equal(env.controller.ready(), true);
  });
});
