import { test } from 'node:test';
import assert from 'node:assert/strict';
import { announceSummary, bgpWithdrawReason, EXCLUDE_LABEL, peersForNode, poolOfService } from '../../../src/announce/index.js';
import type { EndpointView, NodeView, ServiceView } from '../../../src/announce/index.js';
import { ok as config } from '../config/helpers.js';


const CONFIG = config(`
peers:
- peer-address: 10.0.0.1
  peer-asn: 64501
  my-asn: 64500
- peer-address: 10.0.0.2
  peer-asn: 64501
  my-asn: 64500
  node-selectors:
  - match-labels:
      rack: a
address-pools:
- name: bgp
  protocol: bgp
  addresses: [10.1.0.0/24, "2001:db8:1::/120"]
- name: l2
  protocol: layer2
  addresses: [10.2.0.0/24]
`);

const ONLY_RACK_A = config(`
peers:
- peer-address: 10.0.0.2
  peer-asn: 64501
  my-asn: 64500
  node-selectors:
  - match-labels:
      rack: a
address-pools:
- name: bgp
  protocol: bgp
  addresses: [10.1.0.0/24]
`);

const nodeA: NodeView = { name: 'node-a', labels: { rack: 'a' } };
const nodeB: NodeView = { name: 'node-b', labels: { rack: 'b' } };
const nodeX: NodeView = { name: 'node-x', labels: { [EXCLUDE_LABEL]: '' } };

function svc(over: Partial<ServiceView> = {}): ServiceView {
  return { key: 'default/web', type: 'LoadBalancer', ips: ['10.1.0.5'], externalTrafficPolicy: 'Cluster', ...over };
}
const readyOn = (...nodes: string[]): EndpointView[] => nodes.map((n) => ({ nodeName: n, ready: true }));

test('withdraw reasons follow MetalLB order, one situation per row', () => {
  const rows: Array<[string, ServiceView, EndpointView[], NodeView, string | null]> = [
    ['not a LoadBalancer', svc({ type: 'ClusterIP' }), readyOn('node-a'), nodeA, 'notLoadBalancer'],
    ['no IP yet', svc({ ips: [] }), readyOn('node-a'), nodeA, 'noIPAllocated'],
    ['garbage IP', svc({ ips: ['10.1.0.300'] }), readyOn('node-a'), nodeA, 'invalidIP'],
    ['IP outside every pool', svc({ ips: ['192.0.2.1'] }), readyOn('node-a'), nodeA, 'ipNotAllowed'],
    ['IPs in pools of different protocols', svc({ ips: ['10.1.0.5', '10.2.0.5'] }), readyOn('node-a'), nodeA, 'mixedProtocols'],
    ['excluded node', svc(), readyOn('node-x'), nodeX, 'nodeExcluded'],
    ['Cluster policy, no ready endpoint anywhere', svc(), [{ nodeName: 'node-a', ready: false }], nodeA, 'noEndpoints'],
    ['Cluster policy, endpoint elsewhere', svc(), readyOn('node-b'), nodeA, null],
    ['Local policy, endpoint elsewhere', svc({ externalTrafficPolicy: 'Local' }), readyOn('node-b'), nodeA, 'noLocalEndpoints'],
    ['Local policy, not-ready local endpoint', svc({ externalTrafficPolicy: 'Local' }), [{ nodeName: 'node-a', ready: false }], nodeA, 'noLocalEndpoints'],
    ['Local policy, ready local endpoint', svc({ externalTrafficPolicy: 'Local' }), readyOn('node-a'), nodeA, null],
    ['dual-stack IPs in one bgp pool', svc({ ips: ['10.1.0.5', '2001:db8:1::5'] }), readyOn('node-a'), nodeA, null],
  ];
  for (const [name, s, eps, node, want] of rows) {
    assert.equal(bgpWithdrawReason(CONFIG, s, eps, node), want, name);
  }
});

test('a node no peer selects has nothing to announce to', () => {
  assert.equal(bgpWithdrawReason(ONLY_RACK_A, svc(), readyOn('node-b'), nodeB), 'noPeers');
  assert.equal(bgpWithdrawReason(ONLY_RACK_A, svc(), readyOn('node-b'), nodeA), null);
});

test('peers are selected by node-selectors; an empty selector list selects every node', () => {
  assert.deepEqual(peersForNode(CONFIG, nodeA).map((p) => p.peerAddress), ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(peersForNode(CONFIG, nodeB).map((p) => p.peerAddress), ['10.0.0.1']);
});

test('poolOfService names the pool holding every IP', () => {
  const r = poolOfService(CONFIG, svc({ ips: ['10.2.0.9'] }));
  assert.ok(r.ok);
  assert.equal(r.pool.name, 'l2');
});

test('announceSummary lists announcing nodes sorted, and explains an empty list', () => {
  const nodes = [nodeB, nodeX, nodeA];
  assert.deepEqual(announceSummary(CONFIG, svc(), readyOn('node-b'), nodes), {
    protocol: 'bgp',
    nodes: ['node-a', 'node-b'],
    reason: null,
  });
  assert.deepEqual(announceSummary(CONFIG, svc({ externalTrafficPolicy: 'Local' }), readyOn('node-b'), nodes), {
    protocol: 'bgp',
    nodes: ['node-b'],
    reason: null,
  });
  assert.deepEqual(announceSummary(CONFIG, svc(), [], nodes), { protocol: 'bgp', nodes: [], reason: 'noEndpoints' });
  assert.deepEqual(announceSummary(CONFIG, svc({ ips: [] }), [], nodes), { protocol: null, nodes: [], reason: 'noIPAllocated' });
  const l2 = announceSummary(CONFIG, svc({ ips: ['10.2.0.1'] }), readyOn('node-a'), nodes);
  assert.equal(l2.protocol, 'layer2');
  assert.deepEqual(l2.nodes, []);
});
