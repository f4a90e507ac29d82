// Real `ingot controller` processes (bin/ingot) against the fake API server: kill -9 in the middle of a burst
// and a restart, two replicas behind the Lease with a kill -9 of the leader, SIGTERM, and an API server that
// drops every watch or answers 410 to each one.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeApiServer, type FakeApiServer } from '../../helpers/fake-apiserver.js';
import { runIngot } from '../../helpers/cli.js';
import { statusCommand } from '../../../src/cli/status.js';
import {
  CONFIGMAPS,
  LEASES,
  SERVICES,
  configMap,
  getJson,
  recordStatuses,
  service,
  sleep,
  spawnController,
  statusOf,
  tmpDir,
  until,
  writeKubeconfig,
} from './support.js';

const CONFIG = `
address-pools:
- name: lan
  protocol: bgp
  addresses: [10.20.0.0/24]
`;

/** Short election timing so failover fits a unit test: lease 2 s, renew deadline 1.5 s, retry 250 ms. */
const FAST = ['--lease-duration', '2s', '--renew-deadline', '1500ms', '--retry-period', '250ms'];

before(() => {
  // Build dist/ once here, so no process start below pays for the compile.
  const r = runIngot(['--version']);
  assert.equal(r.status, 0, r.stderr);
});

function holder(server: FakeApiServer): string | undefined {
  const lease = server.get(LEASES, 'ingot-controller') as unknown as { spec?: { holderIdentity?: string } } | undefined;
  return lease?.spec?.holderIdentity;
}

function allIPs(server: FakeApiServer): string[] {
  return server.list(SERVICES).flatMap((s) => statusOf(server, s.metadata.name, s.metadata.namespace));
}

async function env(): Promise<{ server: FakeApiServer; kubeconfig: string }> {
  const server = await startFakeApiServer({ historyLimit: 100_000 });
  server.set(CONFIGMAPS, configMap(CONFIG));
  const kubeconfig = writeKubeconfig(tmpDir(), server.url);
  return { server, kubeconfig };
}

describe('ingot controller processes', () => {
  test('kill -9 in the middle of a burst of creations, then a restart: no IP twice, no written IP ever changes', async (t) => {
    const { server, kubeconfig } = await env();
    t.after(() => server.close());
    const rec = await recordStatuses(server);
    t.after(() => rec.close());
    const first = spawnController(kubeconfig, 'ctl-a', FAST);
    await first.metricsPort();
    await until(() => holder(server) === 'ctl-a', 'ctl-a to lead', 15_000);
    const N = 200;
    let created = 0;
    const burst = (async () => {
      for (; created < N; created++) {
        server.set(SERVICES, service(`svc-${created}`, { ns: `ns-${created % 3}` }));
        if (created % 10 === 9) await sleep(5);
      }
    })();
    await until(() => allIPs(server).length >= 40, 'some Services to get IPs before the kill', 15_000);
    await first.kill9();
    const writtenAtKill = allIPs(server).length;
    await burst;
    assert.ok(writtenAtKill < N, `the kill came in the middle of the burst (${writtenAtKill} of ${N} written)`);
    // The Lease is still held by the dead process: the restart takes over after the lease duration.
    const second = spawnController(kubeconfig, 'ctl-b', FAST);
    t.after(() => second.terminate());
    await until(() => allIPs(server).length === N, () => `all ${N} Services to get IPs (have ${allIPs(server).length})`, 30_000);
    const ips = allIPs(server);
    assert.equal(new Set(ips).size, N, 'no IP twice');
    await until(() => rec.history.size === N, () => `the status watch to see all ${N} (has ${rec.history.size})`);
    for (const [key, h] of rec.history) assert.equal(h.length, 1, `${key}'s status changed: ${JSON.stringify(h)}`);
    assert.equal(await second.terminate(), 0);
  });

  test('two replicas: only the Lease holder writes; kill -9 of the leader and the other takes over within the lease duration; SIGTERM releases the Lease', async (t) => {
    const { server, kubeconfig } = await env();
    t.after(() => server.close());
    const a = spawnController(kubeconfig, 'replica-a', FAST);
    const b = spawnController(kubeconfig, 'replica-b', FAST);
    const [pa, pb] = await Promise.all([a.metricsPort(), b.metricsPort()]);
    await until(() => holder(server) === 'replica-a' || holder(server) === 'replica-b', 'a leader', 15_000);
    const leader = holder(server) === 'replica-a' ? a : b;
    const standby = leader === a ? b : a;
    const [lp, sp] = leader === a ? [pa, pb] : [pb, pa];
    for (let i = 0; i < 20; i++) server.set(SERVICES, service(`web-${i}`));
    await until(() => allIPs(server).length === 20, 'twenty IPs', 15_000);
    // Both are ready (caches synced, config loaded); only one leads.
    assert.equal((await getJson(lp, '/readyz')).status, 200);
    await until(() => standby.logs().some((l) => l.event === 'configLoaded'), 'the standby to load the config');
    assert.equal((await getJson(sp, '/readyz')).status, 200);
    const ls = (await getJson(lp, '/status')).body as { leader: { isLeader: boolean; holder: string }; component: string; services: number; pools: Array<{ pool: string; inUse: number }> };
    const ss = (await getJson(sp, '/status')).body as { leader: { isLeader: boolean; holder: string } };
    assert.equal(ls.component, 'controller');
    assert.equal(ls.leader.isLeader, true);
    assert.equal(ss.leader.isLeader, false);
    assert.equal(ss.leader.holder, leader.identity);
    assert.equal(ls.pools.find((p) => p.pool === 'lan')?.inUse, 20);
    // `ingot status` reads both replicas (in process: a spawnSync would stall this process's fake server).
    const lt = await statusCommand(`127.0.0.1:${lp}`, 'text');
    assert.equal(lt.code, 0, lt.stderr);
    assert.match(lt.stdout, new RegExp(`Leader: ${leader.identity} \\(this replica\\)`));
    assert.match(lt.stdout, /lan\s+ipv4\s+20\s+256/);
    const st = await statusCommand(`127.0.0.1:${sp}`, 'text');
    assert.match(st.stdout, new RegExp(`Leader: ${leader.identity} \\(this replica is ${standby.identity}\\)`));
    // The standby keeps its caches warm and tracks the pool usage, but never wrote.
    const standbyStatus = (await getJson(sp, '/status')).body as { pools: Array<{ pool: string; inUse: number }> };
    assert.equal(standbyStatus.pools.find((p) => p.pool === 'lan')?.inUse, 20, 'the standby claims what the leader wrote');
    assert.equal(standby.logs().filter((l) => l.event === 'serviceUpdated').length, 0, 'the standby wrote no status');
    assert.equal(leader.logs().filter((l) => l.event === 'serviceUpdated').length, 20);
    const patches = server.requests.filter((r) => r.method === 'PATCH' && r.path.includes('/status')).length;
    assert.equal(patches, 20, 'exactly one status write per Service');
    assert.match(String((await getJson(sp, '/metrics')).body), /ingot_leader 0/);
    const lm = String((await getJson(lp, '/metrics')).body);
    assert.match(lm, /ingot_leader 1/);
    assert.match(lm, /process_resident_memory_bytes \d+/, "Node's default process metrics are on");
    assert.match(lm, /metallb_allocator_addresses_in_use_total\{pool="lan"\} 20/);
    assert.match(lm, /metallb_k8s_client_updates_total \d+/);

    // kill -9 the leader: the standby takes over within the lease duration (2 s) plus one retry period.
    const killedAt = Date.now();
    await leader.kill9();
    await until(() => holder(server) === standby.identity, 'the standby to take the Lease', 10_000);
    const takeover = Date.now() - killedAt;
    assert.ok(takeover <= 2000 + 250 + 1500, `takeover took ${takeover} ms`);
    server.set(SERVICES, service('after-failover'));
    await until(() => statusOf(server, 'after-failover').length > 0, 'the new leader to allocate', 10_000);
    const ips = allIPs(server);
    assert.equal(new Set(ips).size, 21, 'no IP twice across the failover');

    // SIGTERM: exit 0 and the Lease is released.
    assert.equal(await standby.terminate(), 0);
    assert.equal(holder(server), '');
  });

  test('every watch dropped as soon as it is established: converges without a request storm', async (t) => {
    const { server, kubeconfig } = await env();
    t.after(() => server.close());
    for (let i = 0; i < 10; i++) server.set(SERVICES, service(`pre-${i}`));
    const ctl = spawnController(kubeconfig, 'storm', FAST);
    t.after(() => ctl.terminate());
    await ctl.metricsPort();
    await until(() => allIPs(server).length === 10, 'the first ten IPs', 15_000);
    const writesBefore = server.requests.filter((r) => r.method === 'PATCH').length;

    const phase = async (fault: 'abort', prefix: string): Promise<void> => {
      server.injectFault({ fault: { type: fault }, watch: true, times: 1_000_000 });
      server.closeWatches();
      const from = server.requests.length;
      const startedAt = Date.now();
      for (let i = 0; i < 5; i++) server.set(SERVICES, service(`${prefix}-${i}`));
      // Relists bring the new Services in even though no watch survives.
      await until(() => [0, 1, 2, 3, 4].every((i) => statusOf(server, `${prefix}-${i}`).length > 0), `${prefix} Services to converge`, 20_000);
      await sleep(Math.max(0, 6000 - (Date.now() - startedAt)));
      const reqs = server.requests.slice(from);
      const seconds = (Date.now() - startedAt) / 1000;
      const reads = reqs.filter((r) => r.method === 'GET' && !r.path.includes('/leases/')).length; // the election polls on its own
      // Two informers with a 250 ms doubling backoff: a handful of requests a second, never hundreds.
      assert.ok(reads / seconds < 5, `${fault}: ${reads} list/watch requests in ${seconds.toFixed(1)} s`);
      assert.ok(reads >= 4, `${fault}: the informers kept trying (${reads} requests)`);
    };
    await phase('abort', 'dropped');
    assert.equal(server.requests.filter((r) => r.method === 'PATCH').length - writesBefore, 5, 'one write per new Service, none repeated by relists');
  });

  test('410 Expired on every watch: relists converge without a storm and without repeated writes', async (t) => {
    const { server, kubeconfig } = await env();
    t.after(() => server.close());
    for (let i = 0; i < 10; i++) server.set(SERVICES, service(`pre-${i}`));
    const ctl = spawnController(kubeconfig, 'expired', FAST);
    t.after(() => ctl.terminate());
    await ctl.metricsPort();
    await until(() => allIPs(server).length === 10, 'the first ten IPs', 15_000);
    const writesBefore = server.requests.filter((r) => r.method === 'PATCH').length;
    server.injectFault({ fault: { type: 'watchExpired' }, watch: true, times: 1_000_000 });
    server.compact();
    server.closeWatches();
    const from = server.requests.length;
    const startedAt = Date.now();
    for (let i = 0; i < 5; i++) server.set(SERVICES, service(`late-${i}`));
    await until(() => [0, 1, 2, 3, 4].every((i) => statusOf(server, `late-${i}`).length > 0), 'late Services to converge', 20_000);
    await sleep(Math.max(0, 6000 - (Date.now() - startedAt)));
    const reqs = server.requests.slice(from);
    const seconds = (Date.now() - startedAt) / 1000;
    const reads = reqs.filter((r) => r.method === 'GET' && !r.path.includes('/leases/')).length; // the election polls on its own
    assert.ok(reads / seconds < 5, `${reads} list/watch requests in ${seconds.toFixed(1)} s`);
    assert.equal(server.requests.filter((r) => r.method === 'PATCH').length - writesBefore, 5);
    const m = String((await getJson(await ctl.metricsPort(), '/metrics')).body);
    assert.match(m, /ingot_k8s_informer_restarts_total\{resource="services",reason="expired"\} [1-9]/);
    assert.equal(new Set(allIPs(server)).size, 15);
  });
});
