// Graceful restart (RFC 4724) between `ingot speaker` and FRR 8.4, both ways round:
// - enabled (FRR `bgp graceful-restart`, speaker `graceful-restart: true`): the speaker process is killed with
//   SIGKILL and started again. FRR must keep node-1's path the whole time, marked stale while the speaker is
//   away, and fresh again after it is back and has sent End-of-RIB. A poller asks FRR every 100 ms from before
//   the kill until the path is fresh again: one poll without the path fails the test.
// - disabled (the default): a frozen speaker (SIGSTOP: TCP stays up, nothing is sent) loses its path at FRR when
//   FRR's hold timer (3 s) expires, not before; after SIGCONT the session and the path come back.
//
// Namespaces: igi3-* (GR on), igi3n-* (GR off). Two nodes each, so the other node's path shows the router kept
// working throughout.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { interopSkip } from '../helpers/interop.js';
import { waitFor } from '../../src/lab/netns.js';
import { Topology, nexthopsOf, type RouterPath } from '../../src/lab/topology.js';

const BINS = ['/usr/lib/frr/bgpd', '/usr/lib/frr/zebra', 'vtysh', 'curl'];
const WEB = '10.100.0.1';
const N1 = '10.77.0.11';
const N2 = '10.77.0.12';

async function startPair(topo: Topology, peerExtra: Record<string, unknown>): Promise<void> {
  Topology.prebuild();
  topo.writeConfig({ peers: [topo.routerPeer({ holdTime: '3s', ...peerExtra })], pools: [{ name: 'web', addresses: ['10.100.0.0/28'] }] });
  topo.writeCluster([{ name: 'web', ips: [WEB] }]);
  await topo.up();
  for (const n of topo.nodes) topo.startSpeaker(n);
  await topo.waitEstablished(topo.nodes, 45_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${topo.logs()}`);
  });
  await waitFor(`${WEB}/32 via both nodes`, async () => nexthopsOf(await topo.routes(4), `${WEB}/32`).length === 2, { timeoutMs: 20_000, intervalMs: 100 });
}

describe('graceful restart enabled: FRR keeps a restarting speaker\'s routes', { skip: interopSkip({ binaries: BINS }) }, () => {
  const topo = new Topology('igi3', { router: 'frr', nodes: 2, ipv6: false, gracefulRestart: true });

  before(() => startPair(topo, { gracefulRestart: true, gracefulRestartTime: '60s' }));
  after(() => topo.teardown());

  it('the session negotiated graceful restart (FRR sees the speaker\'s GR capability with its restart time)', async () => {
    const j = await topo.frrJson<Record<string, { gracefulRestartInfo?: { remoteGrMode?: string; timers?: { receivedRestartTimer?: number } } }>>(
      `show bgp neighbors ${N1} json`,
    );
    const gr = j[N1]?.gracefulRestartInfo;
    assert.match(String(gr?.remoteGrMode), /Restart/i, JSON.stringify(gr));
    assert.equal(gr?.timers?.receivedRestartTimer, 60);
  });

  it('kill -9 and restart of node-1\'s speaker: its path never leaves FRR\'s RIB, is stale meanwhile, fresh after', async () => {
    const n1 = topo.node('node-1');
    const polls: Array<{ t: number; n1?: RouterPath; n2?: RouterPath }> = [];
    let stop = false;
    let restartedAt = 0;
    const poller = (async () => {
      while (!stop) {
        const t = Date.now();
        // A failed query (vty busy) is no evidence either way: skip it rather than count the path as missing.
        const paths = await topo.route(`${WEB}/32`).catch(() => undefined);
        if (paths === undefined) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        const p1 = paths.find((p) => p.nexthop === N1);
        const p2 = paths.find((p) => p.nexthop === N2);
        polls.push({ t, ...(p1 ? { n1: p1 } : {}), ...(p2 ? { n2: p2 } : {}) });
        await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - t))));
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 300));
      await topo.stopSpeaker(n1, 'SIGKILL');
      const killedAt = Date.now();
      await waitFor('FRR to mark node-1\'s path stale', () => polls.some((p) => p.t > killedAt && p.n1?.stale === true), { timeoutMs: 10_000, intervalMs: 50 });
      topo.startSpeaker(n1);
      restartedAt = Date.now();
      await waitFor(
        'node-1\'s path fresh again (session back, End-of-RIB received)',
        () => polls.some((p) => p.t > restartedAt && p.n1 !== undefined && p.n1.stale !== true),
        { timeoutMs: 30_000, intervalMs: 50 },
      ).catch((e: Error) => {
        throw new Error(`${e.message}\n${topo.logs(10)}`);
      });
      // A few more polls after recovery.
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      stop = true;
      await poller;
    }
    const missing = polls.filter((p) => p.n1 === undefined);
    assert.equal(missing.length, 0, `node-1's path missing in ${missing.length} of ${polls.length} polls (first at +${(missing[0]?.t ?? 0) - polls[0]!.t} ms)`);
    assert.ok(polls.every((p) => p.n2 !== undefined && p.n2.stale !== true), 'node-2\'s path stayed, fresh');
    const stale = polls.filter((p) => p.n1?.stale === true).length;
    assert.ok(stale >= 1, 'FRR marked the path stale at least once');
    assert.ok(polls.length >= 10, `only ${polls.length} polls`);
    const last = polls[polls.length - 1]!;
    assert.equal(last.n1?.stale ?? false, false);
    // Both paths are back in the multipath set.
    await waitFor('kernel ECMP via both nodes again', () => topo.kernelNexthops(`${WEB}/32`).length === 2, { timeoutMs: 10_000, intervalMs: 100 });
  });
});

describe('graceful restart disabled: a frozen speaker\'s routes leave at hold-timer expiry', { skip: interopSkip({ binaries: BINS }) }, () => {
  const topo = new Topology('igi3n', { router: 'frr', nodes: 2, ipv6: false });

  before(() => startPair(topo, {}));
  after(() => topo.teardown());

  it('SIGSTOP node-1\'s speaker: FRR drops its path after the 3 s hold time (not before), SIGCONT brings it back', async () => {
    const n1 = topo.node('node-1');
    await topo.stopSpeaker(n1, 'SIGSTOP');
    const frozenAt = Date.now();
    let goneAt = 0;
    try {
      await waitFor(
        'node-1\'s path to leave FRR',
        async () => {
          const hops = nexthopsOf(await topo.routes(4), `${WEB}/32`);
          return hops.length === 1 && hops[0] === N2;
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      goneAt = Date.now();
      const j = await topo.frrJson<Record<string, { lastResetDueTo?: string; lastNotificationReason?: string }>>(`show bgp neighbors ${N1} json`);
      assert.match(String(j[N1]?.lastNotificationReason), /Hold Timer Expired/i, JSON.stringify(j[N1]));
    } finally {
      await topo.stopSpeaker(n1, 'SIGCONT');
    }
    const after = goneAt - frozenAt;
    // Up to one keepalive interval (1 s) of the 3 s can have passed at the freeze; FRR's work queue adds ~50 ms.
    assert.ok(after >= 1800, `path left ${after} ms after the freeze: too early for hold-timer expiry`);
    assert.ok(after <= 6000, `path left ${after} ms after the freeze`);
    await topo.waitEstablished(topo.nodes, 30_000);
    await waitFor(`${WEB}/32 via both nodes again`, async () => nexthopsOf(await topo.routes(4), `${WEB}/32`).length === 2, { timeoutMs: 20_000, intervalMs: 100 });
  });
});
