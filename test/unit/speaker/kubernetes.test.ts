// Kubernetes mode's StateSource (src/speaker/kubernetes.ts) against the fake API server (plain HTTP), feeding a
// real NodeAgent → BgpAnnouncer → BgpSpeaker whose one session is a recording fake: what is checked is what
// the peer would be sent (the UPDATEs decoded into the peer's view of the table), the agent's reasons, the
// nodeAssigned Events in the API server, and the config gauges.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NodeAgent } from '../../../src/agent/agent.js';
import { announcedPrefixes, prefixStrings, withdrawnPrefixes } from '../../../src/bgp/index.js';
import { systemClock } from '../../../src/clock.js';
import type { BackoffPolicy } from '../../../src/backoff.js';
import { EventRecorder, type KubeObject } from '../../../src/k8s/index.js';
import { K8sClientMetrics, Registry, SpeakerMetrics } from '../../../src/metrics/registry.js';
import { BgpAnnouncer } from '../../../src/speaker/bgp-announcer.js';
import { BgpSpeaker } from '../../../src/speaker/bgp-speaker.js';
import type { NodeObject } from '../../../src/plan/cluster.js';
import { KubernetesSource } from '../../../src/speaker/kubernetes.js';
import { fakeSessionFactory, sentUpdates, type FakeSession } from '../../helpers/fake-session.js';
import { captureLogger, fakeEnv, until, type Env } from '../k8s/support.js';
import { ifaceTable } from './harness.js';

const env = fakeEnv();
const FAST: BackoffPolicy = { initialMs: 10, maxMs: 80, multiplier: 2, jitter: 0.5, stableMs: 10_000 };
const NS = 'ingot-system';
const SVCS = '/api/v1/namespaces/default/services';
const SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';
const NODES = '/api/v1/nodes';
const CMS = `/api/v1/namespaces/${NS}/configmaps`;
const EVENTS = '/api/v1/namespaces/default/events';

const CONFIG = `peers:
- {peer-address: 10.0.0.1, peer-asn: 64500, my-asn: 64512}
address-pools:
- {name: web, protocol: bgp, addresses: [10.60.0.0/24]}
- {name: other, protocol: bgp, addresses: [10.61.0.0/24]}
`;

function service(name: string, o: { ips?: string[]; type?: string; policy?: 'Local' | 'Cluster'; cls?: string; ports?: unknown } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: {
      type: o.type ?? 'LoadBalancer',
      externalTrafficPolicy: o.policy ?? 'Cluster',
      ports: o.ports ?? [{ port: 80, protocol: 'TCP' }],
      ...(o.cls !== undefined ? { loadBalancerClass: o.cls } : {}),
    },
    ...(o.ips !== undefined ? { status: { loadBalancer: { ingress: o.ips.map((ip) => ({ ip })) } } } : {}),
  };
}

function slice(name: string, svc: string, eps: Array<{ node: string; ready?: boolean | null }>): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: eps.map((e, i) => ({ addresses: [`10.244.0.${i + 1}`], nodeName: e.node, conditions: e.ready === null ? {} : { ready: e.ready ?? true } })),
  };
}

const node = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } } });
const configMap = (text: string | null): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config', namespace: NS }, data: text === null ? { other: 'x' } : { config: text } });

/** The peer's view of the table: every UPDATE the session was handed, applied in order. */
function peerTable(s: FakeSession): string[] {
  const rib = new Set<string>();
  for (const m of sentUpdates(s)) {
    for (const l of withdrawnPrefixes(m)) for (const x of prefixStrings(l)) rib.delete(x);
    for (const l of announcedPrefixes(m)) for (const x of prefixStrings(l)) rib.add(x);
  }
  return [...rib].sort();
}

interface Rig {
  e: Env;
  source: KubernetesSource;
  agent: NodeAgent;
  session: () => FakeSession;
  table: () => string[];
  reason: (key: string) => string | null | undefined;
  log: ReturnType<typeof captureLogger>;
  registry: Registry;
  events: () => KubeObject[];
  waitTable: (want: string[], what: string) => Promise<void>;
  close: () => Promise<void>;
}

async function rig(o: { lbClass?: string; seed?: (e: Env) => void; start?: boolean; e?: Env; onNodes?: (nodes: readonly NodeObject[]) => void } = {}): Promise<Rig> {
  const e = o.e ?? (await env());
  if (o.seed) o.seed(e);
  else {
    e.server.seed(NODES, node('n1'), node('n2'));
    e.server.seed(CMS, configMap(CONFIG));
  }
  const log = captureLogger();
  const registry = new Registry();
  const metrics = new SpeakerMetrics({ registry });
  const { factory, sessions } = fakeSessionFactory();
  const speaker = new BgpSpeaker({ nodeName: 'n1', metrics, logger: log.logger }, { sessionFactory: factory, interfaces: () => ifaceTable({ eth0: ['10.0.0.5'] }) });
  const source = new KubernetesSource({
    nodeName: 'n1',
    agent: (observer) => new NodeAgent({ nodeName: 'n1', announcers: [new BgpAnnouncer(speaker)], metrics, logger: log.logger, observer }),
    api: e.client.api,
    informers: { rest: e.client.rest, clock: systemClock(), logger: log.logger, metrics: new K8sClientMetrics({ registry }), policy: FAST },
    namespace: NS,
    configMap: 'config',
    lbClass: o.lbClass ?? null,
    events: new EventRecorder({ api: e.client.api, component: 'ingot-speaker', host: 'n1', logger: log.logger }),
    configMetrics: metrics,
    logger: log.logger,
    ...(o.onNodes !== undefined ? { onNodes: o.onNodes } : {}),
  });
  const agent = source.agent;
  const session = (): FakeSession => {
    const s = sessions[sessions.length - 1];
    assert.ok(s, 'a session exists (config loaded)');
    return s;
  };
  const table = (): string[] => (sessions.length === 0 ? [] : peerTable(session()));
  const r: Rig = {
    e,
    source,
    agent,
    session,
    table,
    log,
    registry,
    reason: (key) => agent.announcements().find((a) => a.service === key)?.reason,
    events: () => e.server.list(EVENTS) as KubeObject[],
    waitTable: async (want, what) => {
      await until(() => JSON.stringify(table()) === JSON.stringify(want), `${what}: peer table ${JSON.stringify(want)} (have ${JSON.stringify(table())})`);
    },
    close: async () => {
      source.close();
      await speaker.stop({ timeoutMs: 10 });
    },
  };
  if (o.start !== false) {
    await source.start();
    session().establish({ local: '10.0.0.5' });
  }
  return r;
}

const metric = async (registry: Registry, name: string): Promise<string | undefined> => /^(\S+) (\S+)$/m.exec((await registry.metrics()).split('\n').find((l) => l.startsWith(`${name} `)) ?? '')?.[2];

describe('KubernetesSource', () => {
  it('announces the status IPs of a Service with a ready endpoint; nodeAssigned once, not on later syncs', async () => {
    const r = await rig({
      seed: (e) => {
        e.server.seed(NODES, node('n1'));
        e.server.seed(CMS, configMap(CONFIG));
        e.server.seed(SVCS, service('web', { ips: ['10.60.0.1'] }));
        e.server.seed(SLICES, slice('web-a', 'web', [{ node: 'n2' }]));
      },
    });
    await r.waitTable(['10.60.0.1/32'], 'announced from the first state');
    assert.equal(r.reason('default/web'), null);
    await until(() => r.events().length === 1, 'one nodeAssigned event');
    const ev = r.events()[0] as KubeObject & { reason: string; message: string; type: string; involvedObject: { name: string; kind: string } };
    assert.deepEqual([ev.type, ev.reason, ev.message], ['Normal', 'nodeAssigned', 'announcing from node "n1" with protocol "bgp"']);
    assert.deepEqual([ev.involvedObject.kind, ev.involvedObject.name], ['Service', 'web']);
    // Changes that do not change what this node announces: no event, no UPDATE.
    const updates = r.session().updates.length;
    r.e.server.set(SVCS, { ...service('web', { ips: ['10.60.0.1'] }), metadata: { name: 'web', namespace: 'default', annotations: { touched: '1' } } });
    r.e.server.set(SLICES, slice('web-a', 'web', [{ node: 'n2' }, { node: 'n3' }]));
    await until(() => r.source.status().handlerErrors === 0 && (r.e.server.requests.length > 0), 'events processed');
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(r.session().updates.length, updates);
    assert.equal(r.events().length, 1);
    assert.equal(await metric(r.registry, 'metallb_k8s_client_config_loaded_bool'), '1');
    assert.equal(await metric(r.registry, 'metallb_k8s_client_config_stale_bool'), '0');
    await r.close();
  });

  it('withdraws on type change, deletion and not-ready endpoints; re-announcing posts nodeAssigned again', async () => {
    const r = await rig();
    r.e.server.seed(SVCS, service('web', { ips: ['10.60.0.1'] }), service('api', { ips: ['10.60.0.2'] }));
    r.e.server.seed(SLICES, slice('web-a', 'web', [{ node: 'n1' }]), slice('api-a', 'api', [{ node: 'n2', ready: null }]));
    await r.waitTable(['10.60.0.1/32', '10.60.0.2/32'], 'both announced (an unset ready condition counts as ready)');
    await until(() => r.events().length === 2, 'two nodeAssigned');

    r.e.server.set(SVCS, service('web', { ips: ['10.60.0.1'], type: 'ClusterIP' }));
    await r.waitTable(['10.60.0.2/32'], 'type change withdraws');
    assert.ok(r.log.events('serviceWithdrawn').some((l) => l.service === 'default/web' && l.reason === 'notLoadBalancer'));
    r.e.server.set(SVCS, service('web', { ips: ['10.60.0.1'] }));
    await r.waitTable(['10.60.0.1/32', '10.60.0.2/32'], 'back to LoadBalancer');
    await until(() => r.events().length === 3, 'a second nodeAssigned for web: it started announcing again');

    r.e.server.set(SLICES, slice('api-a', 'api', [{ node: 'n2', ready: false }, { node: 'n1', ready: false }]));
    await r.waitTable(['10.60.0.1/32'], 'no ready endpoint withdraws');
    assert.equal(r.reason('default/api'), 'noEndpoints');

    r.e.server.remove(SVCS, 'web');
    await r.waitTable([], 'deletion withdraws');
    assert.ok(r.log.events('serviceWithdrawn').some((l) => l.service === 'default/web' && l.reason === 'serviceDeleted'));
    assert.equal(r.reason('default/web'), undefined, 'a deleted Service is gone from /status');
    await r.close();
  });

  it('externalTrafficPolicy Local: only with a ready endpoint on this node; slices of a Service are aggregated; all slices gone = no endpoints', async () => {
    const r = await rig();
    r.e.server.seed(SVCS, service('loc', { ips: ['10.60.0.3'], policy: 'Local' }));
    r.e.server.seed(SLICES, slice('loc-a', 'loc', [{ node: 'n2' }]), slice('loc-b', 'loc', [{ node: 'n1', ready: false }]));
    await until(() => r.reason('default/loc') === 'noLocalEndpoints', 'noLocalEndpoints');
    assert.deepEqual(r.table(), []);
    r.e.server.set(SLICES, slice('loc-b', 'loc', [{ node: 'n1', ready: true }]));
    await r.waitTable(['10.60.0.3/32'], 'a ready local endpoint in the second slice');
    r.e.server.remove(SLICES, 'loc-a');
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(r.table(), ['10.60.0.3/32'], 'the other slice still has the local endpoint');
    r.e.server.remove(SLICES, 'loc-b');
    await r.waitTable([], 'every slice gone');
    assert.equal(r.reason('default/loc'), 'noLocalEndpoints');
    await r.close();
  });

  it('the exclusion label on this node withdraws everything; removing it announces again', async () => {
    const r = await rig();
    r.e.server.seed(SVCS, service('web', { ips: ['10.60.0.1'] }));
    r.e.server.seed(SLICES, slice('web-a', 'web', [{ node: 'n2' }]));
    await r.waitTable(['10.60.0.1/32'], 'announced');
    r.e.server.set(NODES, node('n1', { 'node.kubernetes.io/exclude-from-external-load-balancers': '' }));
    await r.waitTable([], 'excluded');
    assert.equal(r.reason('default/web'), 'nodeExcluded');
    // Another node's labels are not ours (the informer watches only this node).
    r.e.server.set(NODES, node('n2', { 'node.kubernetes.io/exclude-from-external-load-balancers': '' }));
    r.e.server.set(NODES, node('n1'));
    await r.waitTable(['10.60.0.1/32'], 'label removed');
    await r.close();
  });

  it('no status IP: noIPAllocated and nothing on the wire (the speaker never allocates); the controller\'s write announces', async () => {
    const r = await rig();
    r.e.server.seed(SVCS, service('pending'));
    r.e.server.seed(SLICES, slice('pending-a', 'pending', [{ node: 'n1' }]));
    await until(() => r.reason('default/pending') === 'noIPAllocated', 'noIPAllocated');
    assert.deepEqual(r.table(), []);
    r.e.server.set(SVCS, service('pending', { ips: ['10.60.0.9'] }));
    await r.waitTable(['10.60.0.9/32'], 'status written');
    r.e.server.set(SVCS, service('pending', { ips: ['10.99.0.9'] }));
    await r.waitTable([], 'an IP outside every pool');
    assert.equal(r.reason('default/pending'), 'ipNotAllowed');
    await r.close();
  });

  it('--lb-class: a Service of another class is not ours, whatever IP another implementation wrote', async () => {
    const seed = (e: Env) => {
      e.server.seed(NODES, node('n1'));
      e.server.seed(CMS, configMap(CONFIG));
      e.server.seed(SVCS, service('plain', { ips: ['10.60.0.1'] }), service('classy', { ips: ['10.60.0.2'], cls: 'example.com/ingot' }), service('foreign', { ips: ['10.60.0.3'], cls: 'other.io/lb' }));
      e.server.seed(SLICES, slice('plain-a', 'plain', [{ node: 'n1' }]), slice('classy-a', 'classy', [{ node: 'n1' }]), slice('foreign-a', 'foreign', [{ node: 'n1' }]));
    };
    const a = await rig({ seed });
    await a.waitTable(['10.60.0.1/32'], 'no flag: only the Service without a class');
    assert.deepEqual(a.agent.announcements().map((x) => x.service), ['default/plain']);
    await a.close();
    const b = await rig({ seed, lbClass: 'example.com/ingot' });
    await b.waitTable(['10.60.0.2/32'], 'with the flag: only that class');
    // A Service that changes its class away from ours is withdrawn.
    b.e.server.set(SVCS, service('classy', { ips: ['10.60.0.2'], cls: 'other.io/lb' }));
    await b.waitTable([], 'class changed');
    await b.close();
  });

  it('a config that does not parse, or would orphan an announced IP, is refused: stale=1, last good config and routes stay; it applies once the blocker goes; deletion keeps the last good', async () => {
    const r = await rig();
    r.e.server.seed(SVCS, service('web', { ips: ['10.60.0.1'] }), service('other', { ips: ['10.61.0.1'] }));
    r.e.server.seed(SLICES, slice('web-a', 'web', [{ node: 'n1' }]), slice('other-a', 'other', [{ node: 'n1' }]));
    await r.waitTable(['10.60.0.1/32', '10.61.0.1/32'], 'announced');
    r.e.server.set(CMS, configMap('address-pools:\n- {name: web, protocol: bgp, adresses: [10.60.0.0/24]}\n'));
    await until(() => r.source.stale.size === 1, 'stale');
    assert.match(r.source.stale.get(`configmap ${NS}/config`)!, /adresses/);
    assert.equal(await metric(r.registry, 'metallb_k8s_client_config_stale_bool'), '1');
    assert.equal(await metric(r.registry, 'metallb_k8s_client_config_loaded_bool'), '1');
    assert.ok(r.log.events('configStale').length >= 1);
    assert.deepEqual(r.table(), ['10.60.0.1/32', '10.61.0.1/32']);
    // A ConfigMap without the data key is refused the same way.
    r.e.server.set(CMS, configMap(null));
    await until(() => /no data key "config"/.test(r.source.stale.get(`configmap ${NS}/config`) ?? ''), 'missing key');
    // A good config without pool "other" would orphan the announced IP of Service "other": refused too
    // (MetalLB's speaker rule; the controller refuses it as well), routes kept ...
    r.e.server.set(CMS, configMap(CONFIG.replace('- {name: other, protocol: bgp, addresses: [10.61.0.0/24]}\n', '')));
    await until(() => /service "default\/other" \(10\.61\.0\.1\) has no pool in the new config/.test(r.source.stale.get(`configmap ${NS}/config`) ?? ''), 'orphaning config refused');
    assert.deepEqual(r.table(), ['10.60.0.1/32', '10.61.0.1/32']);
    assert.equal(r.reason('default/other'), null);
    // ... until that Service goes away: then the pending config applies by itself.
    r.e.server.remove(SVCS, 'other');
    await r.waitTable(['10.60.0.1/32'], 'Service gone, new config applied');
    await until(() => r.source.stale.size === 0, 'no longer stale');
    assert.equal(await metric(r.registry, 'metallb_k8s_client_config_stale_bool'), '0');
    // The new config is in force: an IP of the removed pool is now ipNotAllowed.
    r.e.server.seed(SVCS, service('other2', { ips: ['10.61.0.2'] }));
    r.e.server.seed(SLICES, slice('other2-a', 'other2', [{ node: 'n1' }]));
    await until(() => r.reason('default/other2') === 'ipNotAllowed', 'ipNotAllowed under the new config');
    r.e.server.remove(CMS, 'config', NS);
    await until(() => r.source.stale.size === 1, 'deleted ConfigMap is stale');
    assert.equal(await metric(r.registry, 'metallb_k8s_client_config_stale_bool'), '1');
    assert.deepEqual(r.table(), ['10.60.0.1/32'], 'still running on the last good config');
    await r.close();
  });

  it('no config yet: nothing announced, not ready; the first good ConfigMap starts everything', async () => {
    const r = await rig({
      seed: (e) => {
        e.server.seed(NODES, node('n1'));
        e.server.seed(CMS, configMap('peers: 7\n'));
        e.server.seed(SVCS, service('web', { ips: ['10.60.0.1'] }));
        e.server.seed(SLICES, slice('web-a', 'web', [{ node: 'n1' }]));
      },
      start: false,
    });
    await r.source.start();
    assert.equal(r.source.ready(), false);
    assert.equal(await metric(r.registry, 'metallb_k8s_client_config_loaded_bool'), '0');
    assert.equal(await metric(r.registry, 'metallb_k8s_client_config_stale_bool'), '1');
    assert.equal(r.agent.counts().announced, 0);
    r.e.server.set(CMS, configMap(CONFIG));
    await until(() => r.source.ready(), 'ready with a config');
    r.session().establish({ local: '10.0.0.5' });
    await r.waitTable(['10.60.0.1/32'], 'announced');
    await r.close();
  });

  it('nothing reaches the agent before every informer has synced', async () => {
    const e = await env();
    e.server.seed(NODES, node('n1'));
    e.server.seed(CMS, configMap(CONFIG));
    e.server.seed(SVCS, service('web', { ips: ['10.60.0.1'] }));
    e.server.seed(SLICES, slice('web-a', 'web', [{ node: 'n1' }]));
    e.server.injectFault({ watch: false, path: '/apis/discovery.k8s.io/v1/endpointslices', fault: { type: 'status', code: 500, message: 'etcd down' }, times: 4 });
    const r = await rig({ e, seed: () => undefined, start: false });
    const started = r.source.start();
    await until(() => e.server.requests.filter((q) => q.status === 500).length >= 2, 'the slice list failing');
    assert.equal(r.source.synced, false);
    assert.equal(r.agent.counts().announced, 0, 'the Service informer synced, but nothing is decided yet');
    assert.equal(r.agent.isAnnounced('default/web'), false);
    await started;
    r.session().establish({ local: '10.0.0.5' });
    await r.waitTable(['10.60.0.1/32'], 'announced once everything synced');
    await r.close();
  });

  it('a dropped watch and a 410 relist converge without losing state; changes made while down are applied', async () => {
    const r = await rig();
    r.e.server.seed(SVCS, service('web', { ips: ['10.60.0.1'] }), service('api', { ips: ['10.60.0.2'] }));
    r.e.server.seed(SLICES, slice('web-a', 'web', [{ node: 'n1' }]), slice('api-a', 'api', [{ node: 'n1' }]));
    await r.waitTable(['10.60.0.1/32', '10.60.0.2/32'], 'announced');
    await r.e.server.waitForWatches(4);
    // A clean drop: resumed from the last resourceVersion.
    r.e.server.closeWatches();
    r.e.server.seed(SVCS, service('late', { ips: ['10.60.0.3'] }));
    r.e.server.seed(SLICES, slice('late-a', 'late', [{ node: 'n1' }]));
    await r.waitTable(['10.60.0.1/32', '10.60.0.2/32', '10.60.0.3/32'], 'after a dropped watch');
    await until(() => r.events().length === 3, 'one nodeAssigned per Service');
    // 410 on every resume: relists; a deletion and a change made in between are seen by the relist diff.
    await r.e.server.waitForWatches(4);
    r.e.server.injectFault({ watch: true, fault: { type: 'status', code: 410, reason: 'Expired', message: 'too old resource version' }, times: 4 });
    r.e.server.compact();
    r.e.server.closeWatches();
    r.e.server.remove(SVCS, 'api');
    r.e.server.set(SLICES, slice('web-a', 'web', [{ node: 'n1', ready: false }]));
    await r.waitTable(['10.60.0.3/32'], 'the relist applied the changes made while the watches were down');
    await r.e.server.waitForWatches(4);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(r.events().length, 3, 'the relists re-announced nothing: no new nodeAssigned');
    const inf = r.source.status().informers as Record<string, { restarts: number }>;
    assert.ok(inf.services!.restarts >= 1 && inf.endpointslices!.restarts >= 1, JSON.stringify(inf));
    assert.equal(r.source.status().handlerErrors, 0);
    await r.close();
  });

  it('Layer 2 members: with onNodes every Node is watched and its InternalIPs reported on change only', async () => {
    const seen: string[][] = [];
    const withAddr = (name: string, ip: string): KubeObject => ({ ...node(name), status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] } }) as KubeObject;
    const r = await rig({
      seed: (e) => {
        e.server.seed(NODES, withAddr('n1', '10.0.0.1'), withAddr('n2', '10.0.0.2'));
        e.server.seed(CMS, configMap(CONFIG));
      },
      onNodes: (nodes) => seen.push(nodes.map((n) => `${n.name}=${n.addresses.find((a) => a.type === 'InternalIP')?.address ?? '-'}`).sort()),
    });
    assert.deepEqual(seen.at(-1), ['n1=10.0.0.1', 'n2=10.0.0.2'], 'both nodes, not only this one');
    const calls = seen.length;
    r.e.server.set(NODES, { ...withAddr('n2', '10.0.0.2'), metadata: { name: 'n2', labels: { touched: 'yes' } } } as KubeObject);
    r.e.server.set(NODES, withAddr('n3', '10.0.0.3'));
    await until(() => JSON.stringify(seen.at(-1)) === JSON.stringify(['n1=10.0.0.1', 'n2=10.0.0.2', 'n3=10.0.0.3']), 'n3 joins');
    assert.equal(seen.length, calls + 1, 'a label change on another node is no member change');
    r.e.server.remove(NODES, 'n2');
    await until(() => JSON.stringify(seen.at(-1)) === JSON.stringify(['n1=10.0.0.1', 'n3=10.0.0.3']), 'n2 leaves');
    await r.close();
  });

  it('a malformed object is reported and the last good state stays', async () => {
    const r = await rig();
    r.e.server.seed(SVCS, service('web', { ips: ['10.60.0.1'] }));
    r.e.server.seed(SLICES, slice('web-a', 'web', [{ node: 'n1' }]));
    await r.waitTable(['10.60.0.1/32'], 'announced');
    r.e.server.set(SVCS, { ...service('web', { ips: ['10.60.0.1'] }), spec: { type: 7 } });
    await until(() => r.log.events('invalidObject').length === 1, 'reported');
    assert.match(String(r.log.events('invalidObject')[0]!.error), /Service default\/web.*spec\.type: want a string, got 7/);
    assert.deepEqual(r.table(), ['10.60.0.1/32']);
    r.e.server.set(SLICES, { ...slice('web-a', 'web', []), endpoints: 'nope' });
    await until(() => r.log.events('invalidObject').length === 2, 'slice reported');
    assert.deepEqual(r.table(), ['10.60.0.1/32']);
    await r.close();
  });
});
