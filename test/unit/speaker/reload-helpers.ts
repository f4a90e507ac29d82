// Shared by reload.test.ts and reload-fuzz.test.ts: a small valid config and cluster file, and a recording
// fake of the BgpSpeaker (what Standalone hands it, one entry per apply).
import type { Peer } from '../../../src/config/index.js';
import type { Route } from '../../../src/bgp/adj-rib-out.js';
import type { BgpSpeaker, ServiceAnnouncement } from '../../../src/speaker/bgp-speaker.js';

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

/** Records what Standalone hands the speaker: one entry per apply. */
export function recordingSpeaker() {
  const calls: { peers: readonly Peer[]; routes: readonly Route[]; services: readonly ServiceAnnouncement[] }[] = [];
  let cur: { peers: readonly Peer[]; routes: readonly Route[] } = { peers: [], routes: [] };
  const sp = {
    setPeers(p: readonly Peer[]) {
      cur = { peers: p, routes: [] };
    },
    setAdvertisementsAll(r: readonly Route[]) {
      cur.routes = r;
    },
    setServices(s: readonly ServiceAnnouncement[]) {
      calls.push({ ...cur, services: s });
    },
  };
  const announced = () => (calls.at(-1)?.routes ?? []).map((r) => r.prefix).sort();
  return { speaker: sp as unknown as BgpSpeaker, calls, announced };
}

