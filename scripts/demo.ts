// `npm run demo` (root): the preview of the one-command lab (`ingot lab up`, a later issue). It builds a
// router namespace running a real FRR 8.4 (bgpd + zebra, `maximum-paths 32`) and three node namespaces on
// one bridge, starts `ingot speaker` in standalone mode on every node with the same MetalLB config and
// cluster file, then prints what the router learned: one /32 per Service with every announcing node as an
// ECMP next hop, the `externalTrafficPolicy: Local` Service from its endpoint's node only, the IPv6 /128 over
// MP-BGP, and the multipath route zebra installed in the router's kernel. Everything is torn down at the end
// (or on Ctrl-C). It reuses the interop suite's topology (src/lab/topology.ts).
import { waitFor } from '../src/lab/netns.js';
import { interopMissing } from '../test/helpers/interop.js';
import { Topology, nexthopsOf, type ServiceSpec } from '../src/lab/topology.js';

const why = interopMissing({ binaries: ['/usr/lib/frr/bgpd', '/usr/lib/frr/zebra', 'vtysh', 'curl'] });
if (why !== null) {
  process.stderr.write(`demo: cannot run: ${why}\n`);
  process.exit(2);
}

const topo = new Topology('igdemo', { router: 'frr' });
const services: ServiceSpec[] = [
  { name: 'web', ips: ['10.100.0.1'] },
  { name: 'api', ips: ['10.100.0.2'] },
  { name: 'checkout', ips: ['10.100.0.3'], externalTrafficPolicy: 'Local', endpoints: [{ node: 'node-2' }] },
  { name: 'web6', ips: ['fd00:100::1'], pool: 'v6' },
];

let stopping = false;
const stop = async (code: number): Promise<never> => {
  if (!stopping) {
    stopping = true;
    await topo.teardown().catch(() => undefined);
  }
  process.exit(code);
};
process.on('SIGINT', () => void stop(130));
process.on('SIGTERM', () => void stop(143));

try {
  const say = (s: string): boolean => process.stdout.write(`${s}\n`);
  say('== building namespaces: router "rtr" (FRR, AS 65000) and node-1..3 (ingot, AS 65001) on one bridge');
  topo.writeConfig({
    peers: [topo.routerPeer({ holdTime: '9s' })],
    communities: { vip: '65001:100' },
    pools: [
      { name: 'web', addresses: ['10.100.0.0/28'], advertisements: [{ communities: ['vip', 'large:65001:7:8'] }] },
      { name: 'v6', addresses: ['fd00:100::/120'], autoAssign: false },
    ],
  });
  topo.writeCluster(services);
  Topology.prebuild();
  await topo.up();
  say('== starting `ingot speaker` on every node (standalone mode: config + cluster file)');
  for (const n of topo.nodes) topo.startSpeaker(n);
  await topo.waitEstablished(topo.nodes, 60_000);
  say('== all three BGP sessions Established at FRR');
  await waitFor('routes at FRR', async () => nexthopsOf(await topo.routes(4), '10.100.0.1/32').length === 3, { timeoutMs: 30_000 });
  await waitFor('IPv6 route at FRR', async () => nexthopsOf(await topo.routes(6), 'fd00:100::1/128').length === 3, { timeoutMs: 30_000 });
  const v4 = await topo.routes(4);
  const v6 = await topo.routes(6);
  say('\n== what the router learned (prefix → next hops)');
  for (const [map, prefixes] of [[v4, Object.keys(v4)], [v6, Object.keys(v6)]] as const) {
    for (const prefix of prefixes.sort()) say(`  ${prefix.padEnd(18)} ${nexthopsOf(map, prefix).join(', ')}`);
  }
  say('\n== the router kernel FIB (zebra installed the ECMP routes)');
  say(topo.exec('rtr', 'ip', ['route', 'show', '10.100.0.1/32']).trimEnd());
  say(topo.exec('rtr', 'ip', ['-6', 'route', 'show', 'fd00:100::1/128']).trimEnd());
  say('\n== node-1 /status (sessions)');
  const status = topo.status(topo.nodes[0]!) as { sessions?: Array<{ peer: string; state: string }> } | undefined;
  for (const s of status?.sessions ?? []) say(`  ${s.peer}  ${s.state}`);
  say('\n== tearing down');
  await stop(0);
} catch (e) {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n${topo.logs(10)}\n`);
  await stop(1);
}
