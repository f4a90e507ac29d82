// Shared by reload.test.ts and reload-fuzz.test.ts: a small valid config and cluster file, and a recording
// node agent that records what Standalone hands it (one entry per apply).
import { parseConfig, type Peer } from '../../../src/config/index.js';
import type { Route } from '../../../src/bgp/adj-rib-out.js';
import type { AnnouncementStatus } from '../../../src/agent/types.js';
import { NodeAgent } from '../../../src/agent/agent.js';
import { Layer2Unavailable } from '../../../src/l2/create.js';
import { parseCluster } from '../../../src/plan/cluster.js';
import { BgpAnnouncer } from '../../../src/speaker/bgp-announcer.js';
import { BgpSpeaker } from '../../../src/speaker/bgp-speaker.js';
import { applySnapshot, snapshotOf } from '../../../src/speaker/standalone.js';
import { fakeSessionFactory } from '../../helpers/fake-session.js';

export const CONFIG = `peers:
- {peer-address: 10.0.0.1, peer-asn: 64500, my-asn: 64512}
address-pools:
- {name: vips, protocol: bgp, addresses: [10.1.0.0/24]}
`;
export function cluster(names: string[]): string {
  return `apiVersion: v1
kind: List
items:
${names
  .map(
    (n) => `- {apiVersion: v1, kind: Service, metadata: {name: ${n}, namespace: default}, spec: {type: LoadBalancer, ports: [{port: 80}]}}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: ${n}-1, namespace: default, labels: {kubernetes.io/service-name: ${n}}}
  addressType: IPv4
  endpoints: [{addresses: [10.244.0.9], nodeName: n1}]
`,
  )
  .join('')}- {apiVersion: v1, kind: Node, metadata: {name: n1}}
`;
}

/**
 * A real node agent (BGP announcer over a BgpSpeaker with recording fake sessions, and the Layer 2
 * placeholder) that records, after each batch Standalone hands it (one per apply), the peers and the routes
 * the speaker then carries and the agent's announcements.
 */
export function recordingSpeaker() {
  const calls: { peers: readonly Peer[]; routes: readonly Route[]; services: readonly AnnouncementStatus[] }[] = [];
  const speaker = new BgpSpeaker({ nodeName: 'n1' }, { sessionFactory: fakeSessionFactory().factory, defer: (fn) => fn() });
  let peers: readonly Peer[] = [];
  const routes = new Map<string, Route>();
  const setPeers = speaker.setPeers.bind(speaker);
  speaker.setPeers = (p: readonly Peer[]) => {
    peers = p;
    setPeers(p);
  };
  const announce = speaker.announceRoute.bind(speaker);
  speaker.announceRoute = (r: Route) => {
    routes.set(r.prefix, r);
    announce(r);
  };
  const withdraw = speaker.withdrawRoute.bind(speaker);
  speaker.withdrawRoute = (prefix: string) => {
    routes.delete(prefix);
    withdraw(prefix);
  };
  const setAll = speaker.setAdvertisementsAll.bind(speaker);
  speaker.setAdvertisementsAll = (rs: readonly Route[]) => {
    routes.clear();
    for (const r of rs) routes.set(r.prefix, r);
    setAll(rs);
  };
  const agent = new NodeAgent({ nodeName: 'n1', announcers: [new BgpAnnouncer(speaker), new Layer2Unavailable('n1', 'no Layer 2 in these tests')] });
  const batch = agent.batch.bind(agent);
  agent.batch = (fn: () => void) => {
    batch(fn);
    calls.push({ peers, routes: [...routes.values()], services: agent.announcements() });
  };
  const announced = () => (calls.at(-1)?.routes ?? []).map((r) => r.prefix).sort();
  return { agent, calls, announced };
}

/** The peers and prefixes node n1 carries for a valid config and cluster text (what a fresh agent gets). */
export function expectedState(configText: string, clusterText: string): { peers: string[]; prefixes: string[] } {
  const c = parseConfig(configText);
  const k = parseCluster(clusterText);
  if (!c.ok || !k.ok) throw new Error('expectedState needs valid texts');
  const rec = recordingSpeaker();
  applySnapshot(rec.agent, null, snapshotOf(c.config, k.cluster, 'n1'));
  const last = rec.calls.at(-1)!;
  return { peers: last.peers.map((p) => p.peerAddress), prefixes: last.routes.map((r) => r.prefix).sort() };
}
