import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseCluster, type Cluster, type ServiceObject } from '../../../src/plan/cluster.js';
import { planCluster, planToJSON, planToText, processingOrder } from '../../../src/plan/plan.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { ok as config } from '../config/helpers.js';

const read = (p: string) => readFileSync(join(REPO_ROOT, p), 'utf8');


const CONFIG = config(read('test/fixtures/cluster/config.yaml'));

function svc(name: string, extra: Partial<ServiceObject> = {}): ServiceObject {
  return {
    key: `ns/${name}`,
    namespace: 'ns',
    name,
    labels: {},
    loadBalancerClass: null,
    type: 'LoadBalancer',
    ports: [{ name: null, protocol: 'TCP', port: 80 }],
    ...extra,
  };
}

function cluster(services: ServiceObject[]): Cluster {
  return { services, endpointSlices: [], nodes: [] };
}

function ipsOf(c: Cluster, cfg = CONFIG): Record<string, string> {
  const p = planCluster(cfg, c);
  return Object.fromEntries(Object.entries(p.services).map(([k, s]) => [k, s.error ?? s.ips.join(',')]));
}

describe('planCluster', () => {
  test('the example files plan as documented', () => {
    const cl = parseCluster(read('examples/cluster.yaml'));
    if (!cl.ok) assert.fail(cl.error);
    const plan = planCluster(config(read('examples/config.yaml')), cl.cluster);
    const row = (ips: string[], pool: string | null, announce: unknown, type = 'LoadBalancer') => ({ type, ips, pool, error: null, announce });
    const everyNode = { protocol: 'bgp', nodes: ['node-a', 'node-b', 'node-c'], reason: null };
    // Layer 2: one owner per election key (the first IP), every node taken as live: the rendezvous winner.
    const layer2 = (node: string) => ({ protocol: 'layer2', nodes: [node], reason: null });
    assert.deepEqual(plan, {
      services: {
        'default/api': row(['203.0.113.10'], 'public', everyNode),
        'default/web': row(['203.0.113.0'], 'public', everyNode),
        // Two Services sharing an IP share its owner.
        'infra/dns-tcp': row(['198.51.100.240'], 'lab', layer2('node-c')),
        'infra/dns-udp': row(['198.51.100.240'], 'lab', layer2('node-c')),
        'kube-system/kube-dns': row([], null, { protocol: null, nodes: [], reason: 'notLoadBalancer' }, 'ClusterIP'),
        'lab/portal': row(['198.51.100.241', '2001:db8:100::'], 'lab', layer2('node-b')),
        // externalTrafficPolicy Local with its one ready endpoint on node-b.
        'shop/checkout': row(['203.0.113.5'], 'public', { protocol: 'bgp', nodes: ['node-b'], reason: null }),
      },
    });
    const forC = planCluster(config(read('examples/config.yaml')), cl.cluster, { node: 'node-c' });
    assert.deepEqual(forC.services['shop/checkout']?.announce, { protocol: 'bgp', nodes: [], reason: 'noLocalEndpoints' });
    assert.deepEqual(forC.services['default/web']?.announce, { protocol: 'bgp', nodes: ['node-c'], reason: null });
    // --node on layer2: the owner is elected among every node; another node reports notOwner.
    assert.deepEqual(forC.services['infra/dns-udp']?.announce, { protocol: 'layer2', nodes: ['node-c'], reason: null });
    assert.deepEqual(forC.services['lab/portal']?.announce, { protocol: 'layer2', nodes: [], reason: 'notOwner' });
    assert.deepEqual(Object.keys(plan.services), Object.keys(plan.services).sort(), 'keys ascending');
  });

  test('status IPs are claimed before any new allocation, whatever the age', () => {
    assert.deepEqual(
      ipsOf(cluster([svc('old-new', { creationTimestamp: '2020-01-01T00:00:00Z' }), svc('young-running', { creationTimestamp: '2026-01-01T00:00:00Z', statusIPs: ['10.20.0.0'] })])),
      { 'ns/old-new': '10.20.0.1', 'ns/young-running': '10.20.0.0' },
    );
  });

  test('two Services claiming one address: the older keeps it, the other is re-allocated', () => {
    assert.deepEqual(
      ipsOf(cluster([svc('b', { creationTimestamp: '2026-01-02T00:00:00Z', statusIPs: ['10.20.0.3'] }), svc('a', { creationTimestamp: '2026-01-03T00:00:00Z', statusIPs: ['10.20.0.3'] })])),
      { 'ns/a': '10.20.0.0', 'ns/b': '10.20.0.3' },
    );
  });

  test('new Services in (creationTimestamp, namespace/name) order; a missing timestamp counts as oldest', () => {
    const t = '2026-01-01T00:00:00Z';
    const services = [svc('c', { creationTimestamp: t }), svc('b', { creationTimestamp: t }), svc('a', { creationTimestamp: '2026-01-01T00:00:01Z' }), svc('z')];
    assert.deepEqual(
      processingOrder(services).map((s) => s.name),
      ['z', 'b', 'c', 'a'],
    );
    assert.deepEqual(ipsOf(cluster(services)), { 'ns/z': '10.20.0.0', 'ns/b': '10.20.0.1', 'ns/c': '10.20.0.2', 'ns/a': '10.20.0.3' });
  });

  test('timestamps compare as times, not text', () => {
    const services = [svc('x', { creationTimestamp: '2026-01-01T01:00:00+01:00' }), svc('w', { creationTimestamp: '2026-01-01T00:30:00Z' })];
    assert.deepEqual(processingOrder(services).map((s) => s.name), ['x', 'w']);
  });

  test('allocation failures are per-Service errors; other types are listed empty', () => {
    const plan = planCluster(
      CONFIG,
      cluster([
        svc('bad-pool', { annotations: { 'metallb.universe.tf/address-pool': 'nope' } }),
        svc('bad-ip', { loadBalancerIP: '10.99.0.1' }),
        svc('np', { type: 'NodePort', statusIPs: ['10.20.0.0'] }),
        svc('manual', { annotations: { 'metallb.universe.tf/address-pool': 'manual' } }),
        svc('dual', { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' }),
      ]),
    );
    assert.deepEqual(plan.services['ns/bad-pool'], {
      type: 'LoadBalancer',
      ips: [],
      pool: null,
      error: 'unknown pool "nope"',
      announce: { protocol: null, nodes: [], reason: 'noIPAllocated' },
    });
    assert.deepEqual(plan.services['ns/bad-ip']?.error, '["10.99.0.1"] is not allowed in config');
    assert.deepEqual(plan.services['ns/np'], { type: 'NodePort', ips: [], pool: null, error: null, announce: { protocol: null, nodes: [], reason: 'notLoadBalancer' } });
    assert.deepEqual(plan.services['ns/manual']?.ips, ['10.40.0.0']);
    assert.deepEqual(plan.services['ns/dual']?.ips, ['10.30.0.0', 'fd00:30::']);
    assert.equal(plan.services['ns/dual']?.pool, 'second');
  });

  test('a broken request on a running Service keeps its address and reports the problem', () => {
    const plan = planCluster(CONFIG, cluster([svc('run', { statusIPs: ['10.20.0.4'], annotations: { 'metallb.universe.tf/loadBalancerIPs': '10.20.0.4,10.20.0.5' } })]));
    assert.deepEqual(plan.services['ns/run']?.ips, ['10.20.0.4']);
    assert.match(plan.services['ns/run']?.error ?? '', /^invalid requested loadbalancer IPs: invalid metallb\.universe\.tf\/loadBalancerIPs .*same address family/);
  });

  test('text output: aligned columns, "-" for empty cells, no trailing blanks', () => {
    const text = planToText(planCluster(CONFIG, cluster([svc('a'), svc('bad', { annotations: { 'metallb.universe.tf/address-pool': 'nope' } })])));
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^SERVICE\s+TYPE\s+IPS\s+POOL\s+ANNOUNCE\s+ERROR$/);
    assert.match(lines[1]!, /^ns\/a\s+LoadBalancer\s+10\.20\.0\.0\s+first\s+none \(no nodes in the cluster\)\s+-$/);
    assert.match(lines[2]!, /^ns\/bad\s+LoadBalancer\s+-\s+-\s+none \(noIPAllocated\)\s+unknown pool "nope"$/);
    const col = lines[0]!.indexOf('IPS');
    assert.equal(lines[1]!.indexOf('10.20.0.0'), col);
    assert.ok(lines.every((l) => l === l.trimEnd()));
  });

  test('JSON output is the contract shape', () => {
    const json = JSON.parse(planToJSON(planCluster(CONFIG, cluster([svc('a')])))) as unknown;
    // No nodes in this cluster: nothing can announce, and the plan says so.
    assert.deepEqual(json, {
      services: {
        'ns/a': { type: 'LoadBalancer', ips: ['10.20.0.0'], pool: 'first', error: null, announce: { protocol: 'bgp', nodes: [], reason: 'no nodes in the cluster' } },
      },
    });
  });

  test('property: the same cluster in any order gives the same plan', () => {
    const svcArb = fc.record({
      name: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'),
      ts: fc.option(fc.integer({ min: 0, max: 3 }).map((d) => `2026-01-0${d + 1}T00:00:00Z`), { nil: undefined }),
      status: fc.option(fc.constantFrom('10.20.0.1', '10.20.0.2', '10.30.0.0', '10.40.0.1', '192.0.2.1'), { nil: undefined }),
      share: fc.constantFrom('', 'k'),
      port: fc.constantFrom(53, 80),
      pool: fc.option(fc.constantFrom('first', 'second', 'manual'), { nil: undefined }),
      type: fc.constantFrom('LoadBalancer', 'LoadBalancer', 'ClusterIP'),
    });
    let shared = 0;
    fc.assert(
      fc.property(fc.uniqueArray(svcArb, { selector: (s) => s.name, minLength: 1, maxLength: 8 }), fc.infiniteStream(fc.nat()), (specs, rand) => {
        const services = specs.map((s) =>
          svc(s.name, {
            type: s.type,
            creationTimestamp: s.ts ?? null,
            statusIPs: s.status ? [s.status] : [],
            ports: [{ name: null, protocol: 'TCP', port: s.port }],
            annotations: {
              ...(s.share ? { 'metallb.universe.tf/allow-shared-ip': s.share } : {}),
              ...(s.pool ? { 'metallb.universe.tf/address-pool': s.pool } : {}),
            },
          }),
        );
        const shuffled = [...services];
        const it = rand[Symbol.iterator]();
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = it.next().value % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const p1 = planToJSON(planCluster(CONFIG, cluster(services)));
        const p2 = planToJSON(planCluster(CONFIG, cluster(shuffled)));
        assert.equal(p1, p2);
        const ips = Object.values(JSON.parse(p1).services as Record<string, { ips: string[] }>).flatMap((s) => s.ips);
        if (new Set(ips).size < ips.length) shared++;
      }),
      { numRuns: 200 },
    );
    assert.ok(shared > 0, 'some generated clusters must co-locate Services');
  });
});

describe('planCluster --lb-class', () => {
  test('a Service of another class gets no IP and consumes none, even with a status IP', () => {
    const foreign = svc('foreign', { loadBalancerClass: 'example.com/other', statusIPs: ['10.20.0.0'] });
    const mine = svc('mine');
    const p = planCluster(CONFIG, cluster([foreign, mine]));
    assert.deepEqual(p.services['ns/foreign'], { type: 'LoadBalancer', ips: [], pool: null, error: null, announce: { protocol: null, nodes: [], reason: 'loadBalancerClass' } });
    assert.deepEqual(p.services['ns/mine']?.ips, planCluster(CONFIG, cluster([mine])).services['ns/mine']?.ips);
    const withFlag = planCluster(CONFIG, cluster([foreign, mine]), { lbClass: 'example.com/other' });
    assert.deepEqual(p.services['ns/mine']?.ips, ['10.20.0.0'], 'the foreign status IP is free for ingot');
    assert.deepEqual(withFlag.services['ns/foreign']?.ips, ['10.20.0.0']);
    assert.equal(withFlag.services['ns/mine']?.announce?.reason, 'loadBalancerClass');
  });
});
