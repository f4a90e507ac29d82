// Standalone mode: what a node announces from the config and cluster files (the same allocation as
// `ingot plan`, MetalLB's BGP decision), and the file handling (bad file keeps the last good state,
// rename-replace is seen by the directory watch).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config } from '../../../src/config/index.js';
import { parseCluster, type Cluster } from '../../../src/plan/cluster.js';
import { planCluster } from '../../../src/plan/plan.js';
import { applySnapshot, snapshotOf, Standalone } from '../../../src/speaker/standalone.js';
import { BgpSpeaker } from '../../../src/speaker/bgp-speaker.js';
import { BgpAnnouncer } from '../../../src/speaker/bgp-announcer.js';
import { NodeAgent } from '../../../src/agent/agent.js';
import { Layer2Unavailable, LAYER2_UNAVAILABLE as LAYER2_REASON } from '../../../src/l2/create.js';
import { createLogger } from '../../../src/log.js';
import { fakeSessionFactory } from '../../helpers/fake-session.js';
import { captureLog, until } from './harness.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const CONFIG = `
peers:
- peer-address: 10.0.0.1
  peer-asn: 64500
  my-asn: 64512
  node-selectors:
  - match-labels: {zone: a}
- peer-address: 10.0.0.2
  peer-asn: 64500
  my-asn: 64512
  node-selectors:
  - match-labels: {zone: b}
address-pools:
- name: vips
  protocol: bgp
  addresses: [10.1.0.0/24]
  bgp-advertisements:
  - aggregation-length: 32
    localpref: 100
  - aggregation-length: 24
    communities: ["64512:7"]
- name: l2
  protocol: layer2
  addresses: [10.2.0.0/24]
`;

function svc(name: string, o: { policy?: 'Local' | 'Cluster'; status?: string; pool?: string; ts?: string } = {}): string {
  return `
- apiVersion: v1
  kind: Service
  metadata:
    name: ${name}
    namespace: default
    creationTimestamp: "${o.ts ?? '2026-01-01T00:00:00Z'}"
    ${o.pool ? `annotations: {metallb.universe.tf/address-pool: ${o.pool}}` : ''}
  spec: {type: LoadBalancer, externalTrafficPolicy: ${o.policy ?? 'Cluster'}, ports: [{port: 80}]}
  ${o.status ? `status: {loadBalancer: {ingress: [{ip: ${o.status}}]}}` : ''}`;
}

function slice(service: string, eps: Array<{ node: string; ready?: boolean }>): string {
  return `
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: ${service}-x, namespace: default, labels: {kubernetes.io/service-name: ${service}}}
  addressType: IPv4
  endpoints:
${eps.map((e, i) => `  - {addresses: [10.244.0.${i + 1}], nodeName: ${e.node}${e.ready === undefined ? '' : `, conditions: {ready: ${e.ready}}`}}`).join('\n')}`;
}

function node(name: string, labels: Record<string, string>): string {
  return `
- apiVersion: v1
  kind: Node
  metadata: {name: ${name}, labels: ${JSON.stringify(labels)}}`;
}

const list = (...items: string[]) => `apiVersion: v1\nkind: List\nitems:${items.join('')}\n`;

function cfg(text = CONFIG): Config {
  const r = parseConfig(text);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.config;
}
function cl(text: string): Cluster {
  const r = parseCluster(text);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.cluster;
}

/** A node agent with the BGP announcer over a speaker whose sessions are recording fakes (no sockets). */
function rig(nodeName: string, logger = createLogger({ write: () => {} })) {
  const { factory, sessions } = fakeSessionFactory();
  const speaker = new BgpSpeaker({ nodeName, logger }, { sessionFactory: factory, interfaces: () => ({}) });
  const bgp = new BgpAnnouncer(speaker);
  const agent = new NodeAgent({ nodeName, announcers: [bgp, new Layer2Unavailable(nodeName, 'no key')], logger });
  return { agent, speaker, bgp, sessions, peers: () => speaker.status().sessions.map((x) => x.peerAddress) };
}

/** What `nodeName` announces from the files: the standalone snapshot fed to a fresh agent. */
function nodeState(config: Config, cluster: Cluster, nodeName: string) {
  const r = rig(nodeName);
  const snap = snapshotOf(config, cluster, nodeName);
  applySnapshot(r.agent, null, snap);
  return { ...r, services: r.agent.announcements(), advertisements: r.bgp.advertisements(), nodeMissing: snap.nodeMissing };
}

describe('standalone snapshot → node agent', () => {
  const cluster = cl(
    list(
      svc('claimed', { status: '10.1.0.9', ts: '2026-01-05T00:00:00Z' }),
      svc('web'),
      svc('local', { policy: 'Local' }),
      svc('none'),
      svc('l2', { pool: 'l2' }),
      slice('claimed', [{ node: 'n2' }]),
      slice('web', [{ node: 'n2' }]),
      slice('local', [{ node: 'n2' }]),
      slice('none', [{ node: 'n1', ready: false }]),
      slice('l2', [{ node: 'n1' }]),
      node('n1', { zone: 'a' }),
      node('n2', { zone: 'b' }),
      node('n3', { zone: 'a', 'node.kubernetes.io/exclude-from-external-load-balancers': '' }),
    ),
  );

  it('announces what MetalLB would from this node, with the IPs `ingot plan` allocates', () => {
    const st = nodeState(cfg(), cluster, 'n1');
    const plan = planCluster(cfg(), cluster, { node: 'n1' });
    const byKey = new Map(st.services.map((s) => [s.service, s]));
    for (const s of st.services) assert.deepEqual(s.ips, plan.services[s.service]?.ips, `${s.service}: same IPs as plan`);
    const claimed = byKey.get('default/claimed')!;
    assert.deepEqual({ ips: claimed.ips, prefixes: [...claimed.prefixes].sort(), reason: claimed.reason }, { ips: ['10.1.0.9'], prefixes: ['10.1.0.0/24', '10.1.0.9/32'], reason: null });
    assert.equal(byKey.get('default/web')?.reason, null);
    assert.equal(byKey.get('default/local')?.reason, 'noLocalEndpoints');
    assert.equal(byKey.get('default/none')?.reason, 'noEndpoints');
    assert.equal(byKey.get('default/l2')?.reason, LAYER2_REASON);
    assert.deepEqual(st.peers(), ['10.0.0.1']);
    // /24 aggregate shared by both Services: one advertisement listing both.
    const agg = st.advertisements.find((a) => a.prefix === '10.1.0.0/24');
    assert.deepEqual(agg?.services, ['default/claimed', 'default/web']);
    assert.deepEqual(agg?.communities, [((64512 << 16) | 7) >>> 0]);
    assert.deepEqual(
      st.advertisements.map((a) => a.prefix),
      ['10.1.0.0/24', ...st.services.filter((s) => s.reason === null).flatMap((s) => s.ips.map((ip) => `${ip}/32`)).sort()],
    );
    assert.equal(st.nodeMissing, false);
  });

  it('Local policy announces from the node with the endpoint; excluded and unknown nodes', () => {
    const n2 = nodeState(cfg(), cluster, 'n2');
    assert.equal(n2.services.find((s) => s.service === 'default/local')?.reason, null);
    assert.deepEqual(n2.peers(), ['10.0.0.2']);
    const n3 = nodeState(cfg(), cluster, 'n3');
    assert.ok(n3.services.every((s) => s.reason !== null));
    assert.deepEqual(n3.advertisements, []);
    const ghost = nodeState(cfg(), cluster, 'ghost');
    assert.equal(ghost.nodeMissing, true);
    assert.equal(ghost.services.find((s) => s.service === 'default/web')?.reason, 'noPeers', 'no labels: no zone selector matches');
  });

  it('a layer2-pool Service on a node without BGP peers gets the layer2 reason, not noPeers', () => {
    const ghost = nodeState(cfg(), cluster, 'ghost');
    assert.deepEqual(ghost.peers(), []);
    const l2 = ghost.services.find((s) => s.service === 'default/l2');
    assert.equal(l2?.reason, LAYER2_REASON);
    assert.equal(l2?.protocol, 'layer2');
  });

  it('one endpoint change re-decides that Service only and reaches the session as one UPDATE', () => {
    const st = nodeState(cfg(), cluster, 'n2');
    st.agent.synced();
    const session = st.sessions[0]!;
    session.establish();
    return new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      const before = session.updates.length;
      assert.ok(before > 0, 'the initial table and End-of-RIB went out');
      // n2 loses the local endpoint of default/local: its /32 is withdrawn, the shared /24 stays.
      st.agent.setEndpoints('default/local', [{ nodeName: 'n1', ready: true }]);
      assert.equal(st.services.length, 5);
      assert.equal(st.agent.announcements().find((s) => s.service === 'default/local')?.reason, 'noLocalEndpoints');
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.equal(session.updates.length, before + 1, 'one flush');
      assert.ok(st.bgp.advertisements().some((a) => a.prefix === '10.1.0.0/24'), 'the /24 stays: other Services still produce it');
      assert.ok(!st.bgp.advertisements().some((a) => st.agent.announcements().find((s) => s.service === 'default/local')!.ips.some((ip) => a.prefix === `${ip}/32`)));
    });
  });
});

function files(config: string, cluster: string) {
  const dir = mkdtempSync(join(tmpdir(), 'igsp-unit-'));
  dirs.push(dir);
  const c = join(dir, 'config.yaml');
  const k = join(dir, 'cluster.yaml');
  writeFileSync(c, config);
  writeFileSync(k, cluster);
  return { dir, c, k };
}

const CLUSTER = list(svc('web'), slice('web', [{ node: 'n1' }]), node('n1', { zone: 'a' }));

describe('Standalone', () => {
  it('applies the files; a bad file is logged by name and the last good state stays; a fixed file applies', () => {
    const f = files(CONFIG, CLUSTER);
    const r = rig('n1');
    const log = captureLog();
    const s = new Standalone({ nodeName: 'n1', configFile: f.c, clusterFile: f.k, agent: r.agent, watch: false, logger: createLogger({ write: log.write }) });
    assert.equal(s.start(), null);
    assert.equal(s.applied, 1);
    assert.deepEqual(r.bgp.advertisements().map((a) => a.prefix), ['10.1.0.0/24', '10.1.0.0/32']);

    writeFileSync(f.c, 'peers: [{peer-address: nope}]\n');
    s.reload('test');
    assert.equal(s.applied, 1, 'nothing applied');
    const stale = log.lines.find((l) => l['event'] === 'configStale');
    assert.equal(stale?.['file'], f.c);
    assert.equal(stale?.['level'], 'error');
    assert.match(String(stale?.['error']), /peer/);
    assert.equal(s.stale.size, 1);

    // The cluster changes while the config is still bad: the new cluster applies with the last good config.
    writeFileSync(f.k, list(node('n1', { zone: 'a' })));
    s.reload('test');
    assert.equal(s.applied, 2);
    assert.deepEqual(r.bgp.advertisements(), []);
    assert.equal(r.peers().length, 1);

    writeFileSync(f.c, CONFIG.replace('10.0.0.1', '10.0.0.3'));
    s.reload('test');
    assert.equal(s.applied, 3);
    assert.deepEqual(r.peers(), ['10.0.0.3']);
    assert.equal(s.stale.size, 0);
    assert.ok(log.lines.some((l) => l['event'] === 'fileRecovered'));
    s.close();
  });

  it('a big cluster file is parsed in a worker: peers start first, routes and the sync come after the parse', async () => {
    const noSelectors = 'peers:\n- {peer-address: 10.0.0.1, peer-asn: 64500, my-asn: 64512}\naddress-pools:\n- {name: vips, protocol: bgp, addresses: [10.1.0.0/16]}\n';
    const many = Array.from({ length: 300 }, (_, i) => svc(`s${i}`) + slice(`s${i}`, [{ node: 'n1' }])).join('');
    const f = files(noSelectors, list(many, node('n1', { zone: 'a' })));
    const r = rig('n1');
    // A threshold of 1 byte sends even this small file to the worker, so the test stays fast.
    const s = new Standalone({ nodeName: 'n1', configFile: f.c, clusterFile: f.k, agent: r.agent, watch: false, workerParseBytes: 1 });
    const started = s.start();
    assert.ok(started instanceof Promise, 'start() waits for the worker');
    assert.deepEqual(r.peers(), ['10.0.0.1'], 'the session exists before the cluster file is parsed');
    assert.equal(s.applied, 0, 'no state applied yet');
    assert.equal(await started, null);
    assert.equal(s.applied, 1);
    assert.equal(r.agent.counts().services, 300);
    assert.equal(r.agent.announcements().filter((a) => a.reason === null).length, 300);
    s.close();
  });

  it('a big malformed cluster file parsed in a worker is refused with the parser\'s error', async () => {
    const f = files(CONFIG, 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: x}, spec: {ports: [{port: "http"}]}}\n');
    const r = rig('n1');
    const s = new Standalone({ nodeName: 'n1', configFile: f.c, clusterFile: f.k, agent: r.agent, watch: false, workerParseBytes: 1 });
    const err = await s.start();
    assert.equal(err?.kind, 'invalid-cluster');
    assert.match(err?.error ?? '', /spec\.ports\[0\]\.port: want an integer 1-65535, got "http"/);
    assert.equal(s.applied, 0);
  });

  it('refuses to start on an invalid or missing file', async () => {
    const f = files('peers: 7\n', CLUSTER);
    const r = rig('n1');
    const s = new Standalone({ nodeName: 'n1', configFile: f.c, clusterFile: f.k, agent: r.agent, watch: false });
    assert.equal((await s.start())?.kind, 'invalid-config');
    const s2 = new Standalone({ nodeName: 'n1', configFile: join(f.dir, 'absent.yaml'), clusterFile: f.k, agent: r.agent, watch: false });
    assert.equal((await s2.start())?.kind, 'unreadable');
    assert.equal(s.applied + s2.applied, 0);
    assert.deepEqual(r.agent.announcements(), []);
  });

  it('sees a rename-replace of the cluster file (directory watch) and applies it', async () => {
    const f = files(CONFIG, CLUSTER);
    const r = rig('n1');
    const s = new Standalone({ nodeName: 'n1', configFile: f.c, clusterFile: f.k, agent: r.agent, debounceMs: 20 });
    assert.equal(s.start(), null);
    const tmp = join(f.dir, '.cluster.yaml.swp');
    writeFileSync(tmp, list(node('n1', { zone: 'a' })));
    renameSync(tmp, f.k);
    await until(() => s.applied === 2, 'the watch to apply the new file');
    assert.deepEqual(r.bgp.advertisements(), []);
    // And again: the watch survives the first replacement (the inode changed).
    writeFileSync(tmp, CLUSTER);
    renameSync(tmp, f.k);
    await until(() => s.applied === 3, 'a second replacement');
    assert.equal(r.bgp.advertisements().length, 2);
    s.close();
  });
});
