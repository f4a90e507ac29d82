// Kubernetes mode's budget (issue 9 §4): with 10,000 Services, one EndpointSlice change must reach the wire as
// an UPDATE in under 10 ms (p99). One op = one EndpointSlice watch event as the informer hands it to
// KubernetesSource (src/speaker/kubernetes.ts): the wire-JSON object through the shared converter
// (endpointSliceFromObject), the Service's slices re-aggregated, NodeAgent.setEndpoints, the BGP announcer, the
// per-Service AdvertisementTable, the incremental Adj-RIB-Out and the flush, up to the UPDATE bytes handed to a
// recording fake session's sendUpdates (test/helpers/fake-session.ts; no socket time). The slice's only
// endpoint alternates ready / not ready, so each op is a withdrawal or an announcement of that Service.
// The informers themselves are inert stand-ins here: the first state goes in through the same handlers,
// in one batch, as start() does after the informers' initial lists.
import { lazy, type Register } from './case.js';
import { NodeAgent } from '../src/agent/agent.js';
import type { KubeObject } from '../src/k8s/types.js';
import { BgpAnnouncer } from '../src/speaker/bgp-announcer.js';
import { BgpSpeaker } from '../src/speaker/bgp-speaker.js';
import { KubernetesSource, type KubernetesSourceOptions } from '../src/speaker/kubernetes.js';
import { nullLogger } from '../src/log.js';
import { NOOP_K8S_METRICS } from '../src/k8s/metrics.js';
import { systemClock } from '../src/clock.js';
import { fakeSessionFactory } from '../test/helpers/fake-session.js';
import { CONFIG } from './agent.bench.js';

/** An informer that never talks to a server (the bench feeds the source's handlers directly). */
const inert = (): unknown => ({
  start: () => undefined,
  stop: () => undefined,
  waitForSync: () => Promise.resolve(),
  addHandlers: () => undefined,
  hasSynced: () => true,
  get: () => undefined,
  size: 0,
  restarts: 0,
  lastError: null,
});

const service = (i: number): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: `svc-${i}`, namespace: 'bench', uid: `uid-${i}`, resourceVersion: String(i + 10), creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', clusterIP: `10.96.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30000 + (i % 2000) }], selector: { app: `svc-${i}` } },
  status: { loadBalancer: { ingress: [{ ip: `10.0.${i >> 8}.${i & 255}` }] } },
});

const slice = (i: number, ready: boolean): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `svc-${i}-abcde`, namespace: 'bench', labels: { 'kubernetes.io/service-name': `svc-${i}` }, resourceVersion: String(20_000 + i) },
  addressType: 'IPv4',
  endpoints: [
    { addresses: [`10.244.${i >> 8}.${i & 255}`], nodeName: 'n1', conditions: { ready, serving: ready, terminating: false } },
    { addresses: [`10.245.${i >> 8}.${i & 255}`], nodeName: 'n2', conditions: { ready: true, serving: true, terminating: false } },
  ],
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});

export function register(bench: Register): void {
  bench('k8s.source.10000svc.endpointslice_event_to_update', lazy(() => {
    const queue: (() => void)[] = [];
    const drain = () => {
      while (queue.length > 0) queue.shift()!();
    };
    const { factory, sessions } = fakeSessionFactory();
    const speaker = new BgpSpeaker({ nodeName: 'n1' }, { sessionFactory: factory, interfaces: () => ({ eth0: [{ address: '10.255.0.2', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '00:00:00:00:00:01', cidr: '10.255.0.2/24' }] }), defer: (fn) => void queue.push(fn) });
    const api = { servicesInformer: inert, endpointSlicesInformer: inert, nodesInformer: inert, configMapInformer: inert } as unknown as KubernetesSourceOptions['api'];
    const source = new KubernetesSource({
      nodeName: 'n1',
      agent: (observer) => new NodeAgent({ nodeName: 'n1', announcers: [new BgpAnnouncer(speaker)], observer }),
      api,
      informers: { rest: undefined as never, clock: systemClock({ unref: true }), logger: nullLogger, metrics: NOOP_K8S_METRICS },
      namespace: 'ingot-system',
      configMap: 'config',
      lbClass: null,
    });
    const agent = source.agent;
    const N = 10_000;
    agent.batch(() => {
      source.onConfigMap({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config', namespace: 'ingot-system' }, data: { config: CONFIG } });
      source.onNode({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } } });
      for (let i = 0; i < N; i++) source.onSlice(slice(i, true));
      for (let i = 0; i < N; i++) source.onService(service(i));
    });
    agent.synced();
    const session = sessions[0]!;
    session.establish({ local: '10.255.0.2' });
    drain();
    if (agent.counts().announced !== N) throw new Error(`sanity: ${agent.counts().announced} announced`);
    // Prebuilt events (the informer hands over parsed JSON; building it is not the source's cost).
    const events = [Array.from({ length: N }, (_, i) => slice(i, false)), Array.from({ length: N }, (_, i) => slice(i, true))];
    let i = 0;
    let phase = 0;
    return () => {
      session.updates.length = 0;
      source.onSlice(events[phase]![i]!);
      drain();
      if (session.updates.length !== 1) throw new Error('no UPDATE reached the session');
      if (++i === N) {
        i = 0;
        phase ^= 1;
      }
      return session.updates[0]!;
    };
  }));
}
