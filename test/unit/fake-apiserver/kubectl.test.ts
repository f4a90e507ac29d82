// The real kubectl against the fake API server over HTTPS with a generated CA and bearer tokens: every verb a user
// (and the Kubernetes-mode tests) runs, exactly as typed — no `--validate=false`, no `--dry-run | apply` detours.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { FakeApiServer, KubeObject } from '../../helpers/fake-apiserver.js';
import { KUBECTL, kubectl, type KubectlResult } from '../../helpers/kubectl.js';
import { fakeServers } from './client.js';

const server = fakeServers();
const dir = mkdtempSync(path.join(tmpdir(), 'fake-apiserver-kubectl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Asserts success and returns stdout. */
function ok(r: KubectlResult): string {
  assert.equal(r.code, 0, `kubectl failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const MANIFEST = `apiVersion: v1
kind: Namespace
metadata:
  name: demo-system
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: controller, namespace: demo-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: demo-controller}
rules:
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: demo-controller}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: demo-controller}
subjects:
- {kind: ServiceAccount, name: controller, namespace: demo-system}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller, namespace: demo-system}
spec:
  replicas: 2
  selector: {matchLabels: {app: controller}}
  template:
    metadata: {labels: {app: controller}}
    spec:
      serviceAccountName: controller
      containers:
      - name: controller
        image: ingot:1
        args: [controller]
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
        ports: [{name: metrics, containerPort: 7472}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: speaker, namespace: demo-system}
spec:
  selector: {matchLabels: {app: speaker}}
  template:
    metadata: {labels: {app: speaker}}
    spec:
      hostNetwork: true
      containers:
      - {name: speaker, image: "ingot:1", args: [speaker]}
`;

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
`;

describe(`real kubectl (${KUBECTL}) over HTTPS with a generated CA and bearer tokens`, () => {
  let s: FakeApiServer;
  let admin: string;

  before(async () => {
    s = await server({ tls: true, rbac: true, serviceDefaults: true });
    admin = s.kubeconfigFile();
  });

  it('talks HTTPS to a server certificate signed by the kubeconfig\'s CA, and refuses without that CA', async () => {
    assert.match(s.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(s.caPem ?? '', /BEGIN CERTIFICATE/);
    const kc = parseYaml(s.kubeconfigYaml()) as { clusters: Array<{ cluster: Record<string, string> }> };
    assert.equal(Buffer.from(kc.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), s.caPem);
    assert.match(ok(await kubectl(admin, ['version', '-o', 'json'])), /"gitVersion": "v1\.32\.0-fake"/);
    const noCa = file('no-ca.yaml', s.kubeconfigYaml().replace(/certificate-authority-data: .*/, ''));
    const refused = await kubectl(noCa, ['get', 'ns']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /certificate signed by unknown authority/);
  });

  it('discovers the advertised resources with scope, kind and short names', async () => {
    const out = ok(await kubectl(admin, ['api-resources']));
    for (const row of [
      /\nservices\s+svc\s+v1\s+true\s+Service\n/,
      /\nnodes\s+no\s+v1\s+false\s+Node\n/,
      /\nconfigmaps\s+cm\s+v1\s+true\s+ConfigMap\n/,
      /\nendpoints\s+ep\s+v1\s+true\s+Endpoints\n/,
      /\nendpointslices\s+discovery\.k8s\.io\/v1\s+true\s+EndpointSlice\n/,
      /\nleases\s+coordination\.k8s\.io\/v1\s+true\s+Lease\n/,
      /\nevents\s+ev\s+events\.k8s\.io\/v1\s+true\s+Event\n/,
      /\nclusterrolebindings\s+rbac\.authorization\.k8s\.io\/v1\s+false\s+ClusterRoleBinding\n/,
      /\ndaemonsets\s+ds\s+apps\/v1\s+true\s+DaemonSet\n/,
    ])
      assert.match(out, row);
    assert.match(ok(await kubectl(admin, ['api-versions'])), /^coordination\.k8s\.io\/v1$/m);
  });

  it('answers 401 to an unknown token and 403 (Forbidden) to a known one without a grant', async () => {
    const bad = await kubectl(s.kubeconfigFile({ token: 'nope' }), ['get', 'svc']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Unauthorized|must be logged in/);
    const nobody = await kubectl(s.kubeconfigFile({ token: s.userToken('nobody') }), ['get', 'configmaps', '-n', 'kube-system']);
    assert.notEqual(nobody.code, 0);
    assert.match(nobody.stderr, /Error from server \(Forbidden\): configmaps is forbidden: User "nobody" cannot list resource "configmaps" in API group "" in the namespace "kube-system"/);
  });

  it('apply -f creates every kind with the last-applied annotation, re-apply is a no-op, a change is patched in', async () => {
    const manifest = file('manifest.yaml', MANIFEST);
    const first = ok(await kubectl(admin, ['apply', '-f', manifest]));
    assert.deepEqual(first.trim().split('\n'), [
      'namespace/demo-system created',
      'serviceaccount/controller created',
      'clusterrole.rbac.authorization.k8s.io/demo-controller created',
      'clusterrolebinding.rbac.authorization.k8s.io/demo-controller created',
      'deployment.apps/controller created',
      'daemonset.apps/speaker created',
    ]);
    const deploy = s.get('/apis/apps/v1/deployments', 'controller', 'demo-system');
    assert.ok(deploy?.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']);
    assert.ok(s.get('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', 'demo-controller'));
    assert.match(ok(await kubectl(admin, ['apply', '-f', manifest])), /deployment\.apps\/controller unchanged/);

    // A changed image and a removed env var: kubectl's strategic-merge patch keeps the rest of the container.
    ok(await kubectl(admin, ['apply', '-f', file('manifest2.yaml', MANIFEST.replace('image: ingot:1', 'image: ingot:2').replace(', {name: B, value: "2"}', ''))]));
    const changed = s.get('/apis/apps/v1/deployments', 'controller', 'demo-system') as KubeObject & { spec: { template: { spec: { containers: unknown[] } } } };
    assert.deepEqual(changed.spec.template.spec.containers, [{ name: 'controller', image: 'ingot:2', args: ['controller'], env: [{ name: 'A', value: '1' }], ports: [{ name: 'metrics', containerPort: 7472 }] }]);
    assert.equal(changed.metadata?.generation, 2);
  });

  it('apply -f of a `kind: List` file (client-side validation against the empty OpenAPI v2)', async () => {
    const list = file('list.yaml', 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: listed, namespace: demo-system}\n  data: {a: b}\n');
    assert.match(ok(await kubectl(admin, ['apply', '-f', list])), /configmap\/listed created/);
    assert.deepEqual(s.get('/api/v1/configmaps', 'listed', 'demo-system')?.data, { a: 'b' });
    s.remove('/api/v1/configmaps', 'listed', 'demo-system');
  });

  it('apply --server-side creates and updates', async () => {
    const f = file('ssa.yaml', SERVICE.replace('name: web', 'name: ssa'));
    assert.match(ok(await kubectl(admin, ['apply', '--server-side', '-f', f])), /service\/ssa serverside-applied/);
    ok(await kubectl(admin, ['apply', '--server-side', '-f', file('ssa2.yaml', SERVICE.replace('name: web', 'name: ssa').replace('port: 80', 'port: 81'))]));
    const ports = (s.get('/api/v1/services', 'ssa', 'default')?.spec as { ports: Array<{ port: number }> }).ports;
    assert.ok(ports.some((p) => p.port === 81));
  });

  it('create configmap --from-file (a protobuf body), create secret, create -f, and AlreadyExists', async () => {
    const config = file('config', 'peers:\n- peer-address: 192.0.2.1\n');
    assert.equal(ok(await kubectl(admin, ['create', 'configmap', 'config', '--from-file=config=' + config, '-n', 'demo-system'])).trim(), 'configmap/config created');
    assert.deepEqual(s.get('/api/v1/configmaps', 'config', 'demo-system')?.data, { config: 'peers:\n- peer-address: 192.0.2.1\n' });
    ok(await kubectl(admin, ['create', 'secret', 'generic', 'memberlist', '--from-literal=secretkey=abc', '--type=example.com/key', '-n', 'demo-system']));
    const secret = s.get('/api/v1/secrets', 'memberlist', 'demo-system');
    assert.deepEqual(secret?.data, { secretkey: Buffer.from('abc').toString('base64') });
    assert.equal(secret?.type, 'example.com/key');
    ok(await kubectl(admin, ['create', 'namespace', 'made-by-kubectl']));
    ok(await kubectl(admin, ['create', 'serviceaccount', 'robot', '-n', 'made-by-kubectl']));
    assert.ok(s.get('/api/v1/namespaces', 'made-by-kubectl'));
    assert.equal(s.get('/api/v1/serviceaccounts', 'robot', 'made-by-kubectl')?.metadata.namespace, 'made-by-kubectl');
    // Binary content goes to binaryData.
    const bin = path.join(dir, 'blob');
    writeFileSync(bin, Buffer.from([0xff, 0x00, 0xfe]));
    ok(await kubectl(admin, ['create', 'configmap', 'binary', `--from-file=blob=${bin}`, '-n', 'made-by-kubectl']));
    assert.deepEqual(s.get('/api/v1/configmaps', 'binary', 'made-by-kubectl')?.binaryData, { blob: Buffer.from([0xff, 0x00, 0xfe]).toString('base64') });
    const svc = file('svc.yaml', SERVICE);
    assert.equal(ok(await kubectl(admin, ['create', '-f', svc])).trim(), 'service/web created');
    const again = await kubectl(admin, ['create', '-f', svc]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /AlreadyExists.*services "web" already exists/);
  });

  it('get -o yaml|json for one object, a list and all namespaces; table output with the EXTERNAL-IP', async () => {
    s.set('/api/v1/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'other', namespace: 'demo-system' }, spec: { type: 'ClusterIP', ports: [{ port: 53, protocol: 'UDP' }] } });
    const one = parseYaml(ok(await kubectl(admin, ['get', 'svc', 'web', '-o', 'yaml']))) as KubeObject;
    assert.equal(one.metadata?.name, 'web');
    assert.equal(one.kind, 'Service');
    const list = JSON.parse(ok(await kubectl(admin, ['get', 'services', '-A', '-o', 'json']))) as { items: KubeObject[] };
    assert.deepEqual(list.items.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`), ['default/ssa', 'default/web', 'demo-system/other']);
    const cms = JSON.parse(ok(await kubectl(admin, ['get', 'cm', '-n', 'demo-system', '-o', 'json']))) as { items: KubeObject[] };
    assert.deepEqual(cms.items.map((o) => o.metadata?.name), ['config']);

    const pending = ok(await kubectl(admin, ['get', 'svc', 'web']));
    assert.match(pending, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\n/);
    assert.match(pending, /\nweb\s+LoadBalancer\s+10\.96\.\d+\.\d+\s+<pending>\s+80:3\d{4}\/TCP\s+\d+s\n/);
    ok(await kubectl(admin, ['patch', 'svc', 'web', '--subresource=status', '--type=merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.10"}]}}}']));
    assert.match(ok(await kubectl(admin, ['get', 'svc', '-A'])), /\ndefault\s+web\s+LoadBalancer\s+\S+\s+192\.0\.2\.10\s+80:\d+\/TCP/);
    assert.match(ok(await kubectl(admin, ['get', 'svc', 'web', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])), /^192\.0\.2\.10$/);
    const kinds = ['no', 'ep', 'endpointslices', 'leases', 'events', 'events.events.k8s.io', 'pods', 'roles', 'rolebindings', 'clusterroles', 'ds', 'deploy'];
    const results = await Promise.all(kinds.map((kind) => kubectl(admin, ['get', kind, '-A'])));
    results.forEach((r, i) => assert.equal(r.code, 0, `get ${kinds[i]}: ${r.stderr}`));
  });

  it('get -w prints each change as a table row', async () => {
    s.set('/api/v1/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'watched', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
    const watching = kubectl(admin, ['get', 'svc', 'watched', '-w', '--request-timeout=2s']);
    await s.waitForWatches(1, '/api/v1/namespaces/default/services', 5000);
    s.set('/api/v1/services', { ...s.get('/api/v1/services', 'watched', 'default'), status: { loadBalancer: { ingress: [{ ip: '192.0.2.99' }] } } });
    const out = ok(await watching).trim().split('\n');
    assert.match(out[0] ?? '', /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP/);
    assert.match(out[1] ?? '', /^watched\s+LoadBalancer\s+\S+\s+<pending>/);
    assert.match(out[2] ?? '', /^watched\s+LoadBalancer\s+\S+\s+192\.0\.2\.99/);
    s.remove('/api/v1/services', 'watched', 'default');
  });

  it('describe and get events show the events of a Service', async () => {
    const web = s.get('/api/v1/services', 'web', 'default');
    s.seed('/api/v1/namespaces/default/events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: 'web.' },
      involvedObject: { apiVersion: 'v1', kind: 'Service', name: 'web', namespace: 'default', uid: web?.metadata.uid },
      reason: 'AllocationFailed',
      message: 'Failed to allocate IP for "default/web": no available IPs',
      type: 'Warning',
      source: { component: 'metallb-controller' },
      count: 1,
      lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    assert.match(ok(await kubectl(admin, ['describe', 'svc', 'web'])), /Events:\n.*\n.*\n\s+Warning\s+AllocationFailed\s+\S+\s+metallb-controller\s+Failed to allocate IP for "default\/web": no available IPs/);
    assert.match(ok(await kubectl(admin, ['get', 'events'])), /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n\S+\s+Warning\s+AllocationFailed\s+service\/web\s+Failed to allocate/);
  });

  it('patch (merge, json, strategic), annotate, label', async () => {
    ok(await kubectl(admin, ['annotate', 'svc', 'web', 'metallb.universe.tf/address-pool=p1']));
    ok(await kubectl(admin, ['label', 'svc', 'web', 'tier=edge']));
    ok(await kubectl(admin, ['patch', 'svc', 'web', '--type=merge', '-p', '{"spec":{"loadBalancerIP":"192.0.2.10"}}']));
    ok(await kubectl(admin, ['patch', 'svc', 'web', '--type=json', '-p', '[{"op":"add","path":"/spec/externalTrafficPolicy","value":"Local"}]']));
    ok(await kubectl(admin, ['patch', 'svc', 'web', '-p', '{"spec":{"ports":[{"port":443,"name":"https"}]}}'])); // strategic: merged by port
    const web = s.get('/api/v1/services', 'web', 'default') as KubeObject & { spec: Record<string, unknown> };
    assert.equal(web.metadata?.annotations?.['metallb.universe.tf/address-pool'], 'p1');
    assert.deepEqual(web.metadata?.labels, { app: 'web', tier: 'edge' });
    assert.equal(web.spec.loadBalancerIP, '192.0.2.10');
    assert.equal(web.spec.externalTrafficPolicy, 'Local');
    const ports = web.spec.ports as Array<Record<string, unknown>>;
    assert.deepEqual(ports.map((p) => `${String(p.name)} ${String(p.port)}->${String(p.targetPort)}`), ['http 80->8080', 'https 443->443']);
    assert.ok(ports.every((p) => typeof p.nodePort === 'number'), 'the new port got a node port');
    ok(await kubectl(admin, ['annotate', 'svc', 'web', 'metallb.universe.tf/address-pool-']));
    assert.equal(s.get('/api/v1/services', 'web', 'default')?.metadata.annotations?.['metallb.universe.tf/address-pool'], undefined);
  });

  it('--dry-run=server checks but stores nothing', async () => {
    const rv = s.resourceVersion;
    assert.match(ok(await kubectl(admin, ['create', 'configmap', 'dry', '--from-literal=a=b', '-n', 'demo-system', '--dry-run=server'])), /configmap\/dry created \(server dry run\)/);
    ok(await kubectl(admin, ['label', 'svc', 'web', 'dry=run', '--dry-run=server']));
    assert.equal(s.get('/api/v1/configmaps', 'dry', 'demo-system'), undefined);
    assert.equal(s.get('/api/v1/services', 'web', 'default')?.metadata.labels?.dry, undefined);
    assert.equal(s.resourceVersion, rv);
  });

  it('delete by name and by file, waiting for the object to go', async () => {
    assert.equal(ok(await kubectl(admin, ['delete', 'svc', 'ssa'])).trim(), 'service "ssa" deleted');
    assert.equal(s.get('/api/v1/services', 'ssa', 'default'), undefined);
    ok(await kubectl(admin, ['delete', '-f', path.join(dir, 'svc.yaml')]));
    assert.equal(s.get('/api/v1/services', 'web', 'default'), undefined);
    const missing = await kubectl(admin, ['delete', 'svc', 'web']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /NotFound.*services "web" not found/);
  });

  it('a ServiceAccount kubeconfig gets exactly what the applied ClusterRole grants (auth can-i agrees)', async () => {
    const sa = s.kubeconfigFile({ token: s.serviceAccountToken('demo-system', 'controller'), namespace: 'demo-system' });
    assert.match(ok(await kubectl(sa, ['get', 'svc', '-A', '-o', 'name'])), /service\/other/);
    const denied = await kubectl(sa, ['get', 'cm']);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /configmaps is forbidden: User "system:serviceaccount:demo-system:controller" cannot list resource "configmaps" in API group "" in the namespace "demo-system"/);
    assert.equal(ok(await kubectl(sa, ['auth', 'can-i', 'watch', 'services', '-A'])).trim(), 'yes');
    assert.equal((await kubectl(sa, ['auth', 'can-i', 'patch', 'services', '--subresource=status'])).stdout.trim(), 'no');
    const list = ok(await kubectl(sa, ['auth', 'can-i', '--list']));
    assert.match(list, /\nservices\s+\[\]\s+\[\]\s+\[get list watch\]\n/);
    assert.match(list, /\n\s+\[\/version\]\s+\[\]\s+\[get\]\n/);
    assert.doesNotMatch(list, /configmaps/);
    const user = 'system:serviceaccount:demo-system:controller';
    assert.deepEqual(s.denials(user).map((d) => `${d.verb} ${d.resource} ${d.namespace}`), ['list configmaps demo-system']);
  });
});

describe('real kubectl over plain HTTP (RBAC off)', () => {
  it('applies and reads back without a CA', async () => {
    const s = await server();
    const kc = s.kubeconfigFile({ namespace: 'default' });
    assert.doesNotMatch(s.kubeconfigYaml(), /certificate-authority-data/);
    ok(await kubectl(kc, ['apply', '-f', file('plain.yaml', SERVICE)]));
    assert.match(ok(await kubectl(kc, ['get', 'svc'])), /\nweb\s+LoadBalancer/);
  });
});
