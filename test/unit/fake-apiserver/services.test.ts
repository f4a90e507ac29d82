// Service defaulting and allocation (`serviceDefaults: true`): what a Service created on a real cluster carries.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../helpers/fake-apiserver.js';
import { asStatus, call, fakeServers, svc } from './client.js';

const server = fakeServers();
const SERVICES = '/api/v1/namespaces/default/services';
type Spec = Record<string, unknown> & { ports?: Array<Record<string, unknown>> };
const spec = (o: KubeObject): Spec => o.spec as Spec;

describe('Service defaults (serviceDefaults: true)', () => {
  it('fills a LoadBalancer Service as the real registry does', async () => {
    const s = await server({ serviceDefaults: true });
    const r = await call(s.url, 'POST', SERVICES, svc('a', 'default', { spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } }));
    assert.equal(r.status, 201);
    const sp = spec(r.body);
    assert.equal(sp.clusterIP, '10.96.0.10');
    assert.deepEqual(sp.clusterIPs, ['10.96.0.10']);
    assert.deepEqual(sp.ipFamilies, ['IPv4']);
    assert.equal(sp.ipFamilyPolicy, 'SingleStack');
    assert.equal(sp.sessionAffinity, 'None');
    assert.equal(sp.externalTrafficPolicy, 'Cluster');
    assert.equal(sp.internalTrafficPolicy, 'Cluster');
    assert.equal(sp.allocateLoadBalancerNodePorts, true);
    const [port] = sp.ports ?? [];
    assert.equal(port?.protocol, 'TCP');
    assert.equal(port?.targetPort, 80);
    assert.ok(typeof port?.nodePort === 'number' && port.nodePort >= 30000 && port.nodePort <= 32767);
    const plain = await server();
    assert.deepEqual(spec((await call(plain.url, 'POST', SERVICES, svc('a', 'default', { spec: { ports: [{ port: 80 }] } }))).body), { ports: [{ port: 80 }] }, 'off by default');
  });

  it('allocates by ipFamilyPolicy and ipFamilies; headless and ExternalName get no cluster IP; no node ports when asked', async () => {
    const s = await server({ serviceDefaults: true });
    const make = async (name: string, sp: object): Promise<Spec> => spec((await call(s.url, 'POST', SERVICES, svc(name, 'default', { spec: sp }))).body);
    const dual = await make('dual', { type: 'LoadBalancer', ipFamilyPolicy: 'RequireDualStack', ports: [{ port: 80 }] });
    assert.deepEqual(dual.ipFamilies, ['IPv4', 'IPv6']);
    assert.match(String((dual.clusterIPs as string[])[1]), /^fd00:10:96::/);
    const v6first = await make('v6', { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6'] });
    assert.deepEqual(v6first.ipFamilies, ['IPv6', 'IPv4']);
    assert.equal(v6first.clusterIP, (v6first.clusterIPs as string[])[0]);
    const headless = await make('headless', { clusterIP: 'None' });
    assert.deepEqual(headless.clusterIPs, ['None']);
    const ext = await make('ext', { type: 'ExternalName', externalName: 'example.org' });
    assert.equal(ext.clusterIP, undefined);
    const noPorts = await make('nonp', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] });
    assert.equal(noPorts.ports?.[0]?.nodePort, undefined);
  });

  it('keeps allocated values across patches, drops node ports when the type stops needing them, frees on delete', async () => {
    const s = await server({ serviceDefaults: true });
    const a = spec((await call(s.url, 'POST', SERVICES, svc('a', 'default', { spec: { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30080 }] } }))).body);
    assert.equal(a.ports?.[0]?.nodePort, 30080);
    const clash = await call(s.url, 'POST', SERVICES, svc('b', 'default', { spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] } }));
    assert.equal(clash.status, 422);
    assert.match(asStatus(clash).message, /spec\.ports\[0\]\.nodePort: Invalid value: 30080: provided port is already allocated/);
    // A PUT without the allocated fields keeps them (the registry's patchAllocatedValues).
    const got = (await call(s.url, 'GET', `${SERVICES}/a`)).body;
    const put = await call(s.url, 'PUT', `${SERVICES}/a`, { ...got, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
    assert.equal(spec(put.body).clusterIP, a.clusterIP);
    assert.equal(spec(put.body).ports?.[0]?.nodePort, 30080);
    const toClusterIP = await call(s.url, 'PATCH', `${SERVICES}/a`, { spec: { type: 'ClusterIP' } }, 'application/merge-patch+json');
    assert.equal(spec(toClusterIP.body).ports?.[0]?.nodePort, undefined);
    assert.equal((await call(s.url, 'POST', SERVICES, svc('b', 'default', { spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] } }))).status, 201, 'the port was released');
    await call(s.url, 'DELETE', `${SERVICES}/b`);
    assert.equal((await call(s.url, 'POST', SERVICES, svc('c', 'default', { spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] } }))).status, 201, 'delete released it');
  });

  it('answers 500 "range is full" once the 2768 node ports are taken, and keeps nothing of the failed create', async () => {
    const s = await server({ serviceDefaults: true, historyLimit: 10 });
    const batch: KubeObject[] = [];
    for (let i = 0; i < 2768; i++) batch.push(svc(`s${i}`, 'default', { spec: { type: 'NodePort', ports: [{ port: 80 }] } }));
    s.seed(SERVICES, ...batch);
    const full = await call(s.url, 'POST', SERVICES, svc('one-more', 'default', { spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } }));
    assert.equal(full.status, 500);
    assert.equal(asStatus(full).message, 'Internal error occurred: failed to allocate a nodePort: range is full');
    assert.equal(s.get(SERVICES, 'one-more'), undefined);
    const lb = await call(s.url, 'POST', SERVICES, svc('one-more', 'default', { spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] } }));
    assert.equal(lb.status, 201);
  });
});
