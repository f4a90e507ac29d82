import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseCluster } from '../../../src/plan/cluster.js';
import { REPO_ROOT } from '../../helpers/cli.js';

const fixture = (name: string) => readFileSync(join(REPO_ROOT, 'test/fixtures/cluster', name), 'utf8');

function ok(text: string) {
  const r = parseCluster(text);
  if (!r.ok) assert.fail(r.error);
  return r.cluster;
}

function err(text: string): string {
  const r = parseCluster(text);
  assert.equal(r.ok, false, 'expected an error');
  return r.ok ? '' : r.error;
}

describe('cluster file parsing', () => {
  test('kubectl -o json output reads the same as the YAML form (JSON fast path)', () => {
    const yamlText = readFileSync(join(REPO_ROOT, 'examples/cluster.yaml'), 'utf8');
    const fromYaml = ok(yamlText);
    const docs = parseAllDocuments(yamlText)
      .map((d) => d.toJS() as { kind?: string; items?: unknown[] } | null)
      .flatMap((d) => (d === null ? [] : d.kind?.endsWith('List') === true ? (d.items ?? []) : [d]));
    assert.ok(docs.length > 3, 'the example has several objects');
    const asJson = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs });
    assert.deepEqual(ok(asJson), fromYaml);
    // Errors still name the object and field on the JSON path.
    assert.match(err(JSON.stringify({ kind: 'Service', metadata: { name: 'x', namespace: 'y' }, spec: { ports: [{ port: 'http' }] } })), /Service y\/x.*spec\.ports\[0\]\.port/);
  });

  test('a kubectl dump: List and ServiceList documents, server fields ignored, other kinds skipped', () => {
    const c = ok(fixture('kubectl-dump.yaml'));
    assert.deepEqual(
      c.services.map((s) => s.key),
      ['apps/echo', 'default/kubernetes'],
    );
    const echo = c.services[0]!;
    assert.equal(echo.type, 'LoadBalancer');
    assert.equal(echo.externalTrafficPolicy, 'Local');
    assert.deepEqual(echo.selector, { app: 'echo', tier: 'front' });
    assert.deepEqual(echo.statusIPs, ['10.20.0.7'], 'hostname-only ingress entries are skipped');
    assert.equal(echo.annotations?.['metallb.universe.tf/allow-shared-ip'], 'shared');
    assert.deepEqual(echo.ports, [{ name: 'http', protocol: 'TCP', port: 80 }]);
    assert.equal(echo.creationTimestamp, '2026-03-01T10:00:00Z');
    assert.equal(c.services[1]!.type, 'ClusterIP');

    assert.equal(c.endpointSlices.length, 1);
    const es = c.endpointSlices[0]!;
    assert.equal(es.serviceName, 'echo');
    assert.equal(es.addressType, 'IPv4');
    assert.deepEqual(es.endpoints[0], {
      addresses: ['10.244.1.9'],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: 'worker-1',
    });
    assert.deepEqual(es.endpoints[1]!.conditions, { ready: false, serving: null, terminating: null });

    assert.deepEqual(
      c.nodes.map((n) => [n.name, n.ready, n.unschedulable]),
      [
        ['worker-1', true, false],
        ['worker-2', false, true],
      ],
    );
    assert.deepEqual(c.nodes[0]!.addresses[0], { type: 'InternalIP', address: '172.18.0.3' });
    assert.equal(c.nodes[0]!.labels['kubernetes.io/hostname'], 'worker-1');
  });

  test('Kubernetes defaults for hand-written objects', () => {
    const c = ok('kind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 80}]\n---\n---\nkind: Node\nmetadata: {name: n}\n');
    const s = c.services[0]!;
    assert.equal(s.key, 'default/s');
    assert.equal(s.type, 'ClusterIP');
    assert.equal(s.externalTrafficPolicy, 'Cluster');
    assert.deepEqual(s.ports, [{ name: null, protocol: 'TCP', port: 80 }]);
    assert.deepEqual(s.statusIPs, []);
    assert.equal(c.nodes[0]!.ready, null);
  });

  test('clusterIP alone fills clusterIPs (pre-1.20 objects)', () => {
    const s = ok('kind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer, clusterIP: "fd00::1"}\n').services[0]!;
    assert.deepEqual(s.clusterIPs, ['fd00::1']);
  });

  test('errors name the document, the object and the field', () => {
    const cases: [string, RegExp][] = [
      ['kind: Service\nmetadata: {name: [}\n', /^document #1: invalid YAML: /],
      ['- a\n- b\n', /^document #1: want a Kubernetes object \(a mapping\), got \["a","b"\]$/],
      ['metadata: {name: x}\n', /^document #1: kind: want a string, got nothing$/],
      ['kind: Service\nmetadata: {namespace: x}\n', /^document #1 \(Service x\/\?\): metadata\.name: want a non-empty string, got nothing$/],
      ['kind: Service\nmetadata: {name: a}\n---\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - {port: 80}\n  - {port: http}\n', /^document #2 \(Service web\): spec\.ports\[1\]\.port: want an integer 1-65535, got "http"$/],
      ['kind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 70000}]}\n', /spec\.ports\[0\]\.port: want an integer 1-65535, got 70000/],
      ['kind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 53, protocol: ICMP}]}\n', /spec\.ports\[0\]\.protocol: want TCP, UDP or SCTP, got "ICMP"/],
      ['kind: Service\nmetadata: {name: a, annotations: {metallb.universe.tf/allow-shared-ip: true}}\n', /metadata\.annotations\.metallb\.universe\.tf\/allow-shared-ip: want a string, got true/],
      ['kind: Service\nmetadata: {name: a, creationTimestamp: yesterday}\n', /metadata\.creationTimestamp: want an RFC 3339 time, got "yesterday"/],
      ['kind: Service\nmetadata: {name: a}\nspec: {ports: 80}\n', /spec\.ports: want a list, got 80/],
      ['kind: Service\nmetadata: {name: a}\nstatus: {loadBalancer: {ingress: [{ip: 7}]}}\n', /status\.loadBalancer\.ingress\[0\]\.ip: want a string, got 7/],
      ['kind: Service\nmetadata: {name: a, namespace: n}\n---\nkind: List\nitems:\n- kind: Service\n  metadata: {name: a, namespace: n}\n', /^document #2 items\[0\] \(Service n\/a\): duplicate Service n\/a$/],
      ['kind: EndpointSlice\nmetadata: {name: e}\n', /EndpointSlice e\): addressType: want IPv4, IPv6 or FQDN, got nothing/],
      ['kind: EndpointSlice\nmetadata: {name: e}\naddressType: IPv4\nendpoints: [{addresses: [1.2.3.4], conditions: {ready: "yes"}}]\n', /endpoints\[0\]\.conditions\.ready: want true or false, got "yes"/],
      ['kind: Node\nmetadata: {name: n}\nstatus: {addresses: [{type: InternalIP}]}\n', /Node n\): status\.addresses\[0\]\.address: want a string, got nothing/],
      ['kind: List\nitems: [3]\n', /^document #1 items\[0\]: want a Kubernetes object, got 3$/],
    ];
    assert.ok(cases.length > 10);
    for (const [text, want] of cases) assert.match(err(text), want, text);
  });
});
