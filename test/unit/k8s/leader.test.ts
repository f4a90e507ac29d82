// Two LeaderElectors against the fake API server on the real clock, with short timings (1 s lease, 600 ms
// renew deadline, 150 ms retry period): one leads; a leader that stops renewing (as after kill -9) stops
// considering itself leader before the other takes over, which happens within the lease duration (plus a poll);
// a clean stop releases the Lease so the other leads within a retry period.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderElector } from '../../../src/k8s/leader.js';
import { systemClock } from '../../../src/k8s/primitives.js';
import type { KubeApi } from '../../../src/k8s/resources.js';
import type { StopReason } from '../../../src/k8s/leader-fsm.js';
import { captureLogger, fakeEnv, recordingMetrics, until } from './support.js';

const env = fakeEnv();
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/ingot-system/leases';
const TIMING = { leaseDurationMs: 1_000, renewDeadlineMs: 600, retryPeriodMs: 150 };

type LeaseApi = Pick<KubeApi, 'getLease' | 'createLease' | 'updateLease'>;

/** The real API, or — once killed — requests that never answer and never reach the server (kill -9). */
function killable(api: LeaseApi): { api: LeaseApi; kill(): void } {
  let dead = false;
  const hang = <T>(): Promise<T> => new Promise<T>(() => undefined);
  return {
    kill: () => {
      dead = true;
    },
    api: {
      getLease: (ns, n, t) => (dead ? hang() : api.getLease(ns, n, t)),
      createLease: (ns, n, s, t) => (dead ? hang() : api.createLease(ns, n, s, t)),
      updateLease: (ns, n, rv, s, t) => (dead ? hang() : api.updateLease(ns, n, rv, s, t)),
    },
  };
}

function elector(api: LeaseApi, identity: string) {
  const log: Array<{ at: number; what: string }> = [];
  const metrics = recordingMetrics();
  const e = new LeaderElector({
    api,
    namespace: 'ingot-system',
    identity,
    ...TIMING,
    clock: systemClock(),
    logger: captureLogger().logger,
    metrics,
    onStartedLeading: () => log.push({ at: Date.now(), what: 'started' }),
    onStoppedLeading: (r: StopReason) => log.push({ at: Date.now(), what: `stopped ${r}` }),
  });
  return { e, log, metrics };
}

describe('LeaderElector against the API server', () => {
  it('exactly one of two replicas leads, and the Lease says so in MetalLB-compatible fields', async () => {
    const { server, client } = await env();
    const a = elector(client.leaseApi, 'a');
    const b = elector(client.leaseApi, 'b');
    a.e.start();
    b.e.start();
    await until(() => a.e.isLeader() || b.e.isLeader(), 'a leader');
    for (let i = 0; i < 20; i++) {
      assert.ok(!(a.e.isLeader() && b.e.isLeader()), 'never two leaders');
      await new Promise((r) => setTimeout(r, 50));
    }
    const leader = a.e.isLeader() ? 'a' : 'b';
    const lease = server.get(LEASES, 'ingot-controller');
    const spec = lease?.spec as Record<string, unknown>;
    assert.equal(spec.holderIdentity, leader);
    assert.equal(spec.leaseDurationSeconds, 1);
    assert.match(String(spec.renewTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.match(String(spec.acquireTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal((leader === 'a' ? a : b).metrics.leader.at(-1), true);
    assert.equal((leader === 'a' ? b : a).metrics.leader.at(-1), false);
    assert.deepEqual((leader === 'a' ? b : a).e.status(), { identity: leader === 'a' ? 'b' : 'a', leader: false, holder: leader, phase: 'candidate' });
    await Promise.all([a.e.stop(), b.e.stop()]);
  });

  it('killed leader (no more requests, no release): it stops leading first, the other takes over within the lease duration', async () => {
    const { server, client } = await env();
    const ka = killable(client.leaseApi);
    const a = elector(ka.api, 'a');
    a.e.start();
    await until(() => a.e.isLeader(), 'a leads');
    const b = elector(client.leaseApi, 'b');
    b.e.start();
    await new Promise((r) => setTimeout(r, 400)); // b observes a renewing
    assert.equal(b.e.isLeader(), false);
    const killedAt = Date.now();
    ka.kill();
    await until(() => b.e.isLeader(), 'b takes over', 5_000);
    const tookOver = Date.now() - killedAt;
    const aStopped = a.log.find((x) => x.what === 'stopped renewDeadline');
    const bStarted = b.log.find((x) => x.what === 'started');
    assert.ok(aStopped && bStarted, `a was told it stopped; b was told it started: ${JSON.stringify({ a: a.log, b: b.log, killedAt })}`);
    assert.ok(aStopped.at < bStarted.at, `a stopped ${bStarted.at - aStopped.at} ms before b started`);
    assert.ok(aStopped.at - killedAt <= TIMING.renewDeadlineMs + 50, `a stopped ${aStopped.at - killedAt} ms after its last chance to renew`);
    // b saw a's last renewal at most a retry period (+ a request) before the kill; the lease runs from there.
    assert.ok(tookOver <= TIMING.leaseDurationMs + TIMING.retryPeriodMs + 250, `b took over ${tookOver} ms after the kill`);
    const spec = server.get(LEASES, 'ingot-controller')?.spec as Record<string, unknown>;
    assert.equal(spec.holderIdentity, 'b');
    assert.equal(spec.leaseTransitions, 1);
    assert.equal(a.e.isLeader(), false);
    await b.e.stop();
  });

  it('a clean stop releases the Lease: the standby leads within about a retry period', async () => {
    const { server, client } = await env();
    const a = elector(client.leaseApi, 'a');
    a.e.start();
    await until(() => a.e.isLeader(), 'a leads');
    const b = elector(client.leaseApi, 'b');
    b.e.start();
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    await a.e.stop();
    assert.equal(a.e.isLeader(), false);
    assert.deepEqual(
      a.log.map((x) => x.what),
      ['started', 'stopped shutdown'],
    );
    const released = server.get(LEASES, 'ingot-controller')?.spec as Record<string, unknown>;
    assert.ok(released.holderIdentity === '' || released.holderIdentity === 'b', `released: ${JSON.stringify(released)}`);
    await until(() => b.e.isLeader(), 'b leads', 2_000);
    assert.ok(Date.now() - t0 < TIMING.leaseDurationMs, `b led ${Date.now() - t0} ms after the release, sooner than a lease duration`);
    await b.e.stop();
    assert.equal((server.get(LEASES, 'ingot-controller')?.spec as Record<string, unknown>).holderIdentity, '');
  });

  it('an API server that fails renewals makes the leader step down at the renew deadline, then lead again when it recovers', async () => {
    const { server, client } = await env();
    const a = elector(client.leaseApi, 'a');
    a.e.start();
    await until(() => a.e.isLeader(), 'a leads');
    server.injectFault({ path: '/leases', fault: { type: 'status', code: 500 }, times: 8 });
    await until(() => !a.e.isLeader(), 'a steps down', 2_000);
    await until(() => a.e.isLeader(), 'a leads again', 5_000);
    assert.deepEqual(
      a.log.map((x) => x.what),
      ['started', 'stopped renewDeadline', 'started'],
    );
    await a.e.stop();
  });
});
