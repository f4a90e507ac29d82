// Kubernetes-mode latency budget (issue 9 §4): with 10,000 announced Services, one EndpointSlice change must
// reach the wire as an UPDATE in under 10 ms. One op = one endpoint change of one Service (alternately
// withdrawn and re-announced) from NodeAgent.setEndpoints to the UPDATE bytes handed to the session's
// sendUpdates, through the BGP announcer, the per-Service AdvertisementTable, the incremental Adj-RIB-Out and
// the flush — with a recording fake session (test/helpers/fake-session.ts), so no socket time is counted.
import { lazy, type Register } from './case.js';
import { NodeAgent } from '../src/agent/agent.js';
import { parseConfig } from '../src/config/index.js';
import { BgpAnnouncer } from '../src/speaker/bgp-announcer.js';
import { BgpSpeaker } from '../src/speaker/bgp-speaker.js';
import { fakeSessionFactory } from '../test/helpers/fake-session.js';

/** The speaker benches' config: one peer, a /16 pool announced as /32s with a community and as /24 aggregates. */
export const CONFIG = `
peers:
- {peer-address: 10.255.0.1, peer-asn: 64500, my-asn: 64512}
address-pools:
- name: vips
  protocol: bgp
  addresses: [10.0.0.0/16]
  bgp-advertisements: [{aggregation-length: 32, communities: ["64512:7"]}, {aggregation-length: 24}]
`;

export function register(bench: Register): void {
  bench('agent.10000svc.endpoint_change_to_update', lazy(() => {
    const cfg = parseConfig(CONFIG);
    if (!cfg.ok) throw new Error(cfg.error);
    const queue: (() => void)[] = [];
    const drain = () => {
      while (queue.length > 0) queue.shift()!();
    };
    const { factory, sessions } = fakeSessionFactory();
    const speaker = new BgpSpeaker({ nodeName: 'n1' }, { sessionFactory: factory, interfaces: () => ({ eth0: [{ address: '10.255.0.2', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '00:00:00:00:00:01', cidr: '10.255.0.2/24' }] }), defer: (fn) => void queue.push(fn) });
    const agent = new NodeAgent({ nodeName: 'n1', announcers: [new BgpAnnouncer(speaker)] });
    const N = 10_000;
    const keys: string[] = [];
    agent.batch(() => {
      agent.setNode({ name: 'n1', labels: {} });
      agent.setConfig(cfg.config);
      for (let i = 0; i < N; i++) {
        const key = `bench/svc-${i}`;
        keys.push(key);
        agent.setEndpoints(key, [{ nodeName: 'n1', ready: true }]);
        agent.upsertService({ key, type: 'LoadBalancer', ips: [`10.0.${i >> 8}.${i & 255}`], externalTrafficPolicy: 'Local' });
      }
    });
    agent.synced();
    const session = sessions[0]!;
    session.establish({ local: '10.255.0.2' });
    drain();
    if (agent.counts().announced !== N) throw new Error(`sanity: ${agent.counts().announced} announced`);
    let i = 0;
    let ready = false;
    return () => {
      const key = keys[i % N]!;
      session.updates.length = 0;
      agent.setEndpoints(key, [{ nodeName: 'n1', ready }]);
      drain();
      if (session.updates.length !== 1) throw new Error('no UPDATE reached the session');
      i++;
      if (i % N === 0) ready = !ready;
      return session.updates[0]!;
    };
  }));
}
