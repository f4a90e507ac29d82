// The fake API server driven by @kubernetes/client-node 2.x, a real client library (ingot itself runs it only
// as its kubeconfig resolver, src/k8s/kubeconfig-helper.ts): the typed CoreV1Api over HTTPS with the server's
// CA and a bearer token, its Watch, and its makeInformer (list, then watch from the list's resourceVersion).
// What a library user would do; if the fake server's JSON, headers or streaming were off, client-node's
// deserializers and stream reader would fail here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { fakeServers } from './client.js';

const server = fakeServers();

/** Polls until `cond` holds (bounded). */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function service(name: string): k8s.V1Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'demo' }, spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] } };
}

describe('client-node 2.x against the fake API server (HTTPS, CA, bearer token)', () => {
  it('typed CoreV1Api: create, read, list across namespaces, replace status, delete; a 404 is an ApiException', async () => {
    const s = await server({ tls: true, serviceDefaults: true });
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions(s.kubeconfig());
    const api = kc.makeApiClient(k8s.CoreV1Api);
    const created = await api.createNamespacedService({ namespace: 'demo', body: service('web') });
    assert.equal(created.metadata?.name, 'web');
    assert.ok(created.metadata?.uid, 'the server filled the uid');
    assert.ok(created.metadata?.creationTimestamp instanceof Date, 'client-node deserialized the timestamp');
    const read = await api.readNamespacedService({ name: 'web', namespace: 'demo' });
    assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);
    await api.createNamespacedService({ namespace: 'other', body: { ...service('db'), metadata: { name: 'db', namespace: 'other' } } });
    const all = await api.listServiceForAllNamespaces();
    assert.deepEqual(all.items.map((x) => `${x.metadata?.namespace}/${x.metadata?.name}`).sort(), ['demo/web', 'other/db']);
    assert.ok(all.metadata?.resourceVersion);
    const withStatus = await api.replaceNamespacedServiceStatus({ name: 'web', namespace: 'demo', body: { ...read, status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } } });
    assert.equal(withStatus.status?.loadBalancer?.ingress?.[0]?.ip, '192.0.2.10');
    await api.deleteNamespacedService({ name: 'web', namespace: 'demo' });
    await assert.rejects(api.readNamespacedService({ name: 'web', namespace: 'demo' }), (e: unknown) => e instanceof k8s.ApiException && e.code === 404);
  });

  it('Watch streams ADDED / MODIFIED / DELETED as they happen', async () => {
    const s = await server({ tls: true, serviceDefaults: true });
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions(s.kubeconfig());
    const api = kc.makeApiClient(k8s.CoreV1Api);
    const seen: string[] = [];
    const ctl = await new k8s.Watch(kc).watch(
      '/api/v1/namespaces/demo/services',
      {},
      (type: string, obj: { metadata?: { name?: string } }) => seen.push(`${type} ${obj.metadata?.name}`),
      () => undefined,
    );
    try {
      const web = await api.createNamespacedService({ namespace: 'demo', body: service('web') });
      await api.replaceNamespacedService({ name: 'web', namespace: 'demo', body: { ...web, metadata: { ...web.metadata, labels: { tier: 'front' } } } });
      await api.deleteNamespacedService({ name: 'web', namespace: 'demo' });
      await until(() => seen.length >= 3, 'three watch events');
      assert.deepEqual(seen, ['ADDED web', 'MODIFIED web', 'DELETED web']);
    } finally {
      ctl.abort();
    }
  });

  it('makeInformer lists, then watches from the list resourceVersion', async () => {
    const s = await server({ tls: true, serviceDefaults: true });
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions(s.kubeconfig());
    const api = kc.makeApiClient(k8s.CoreV1Api);
    await api.createNamespacedService({ namespace: 'demo', body: service('before') });
    const informer = k8s.makeInformer(kc, '/api/v1/services', () => api.listServiceForAllNamespaces());
    const added: string[] = [];
    informer.on('add', (obj: k8s.V1Service) => added.push(obj.metadata?.name ?? ''));
    await informer.start();
    try {
      await until(() => added.includes('before'), 'the listed Service');
      await api.createNamespacedService({ namespace: 'demo', body: service('after') });
      await until(() => added.includes('after'), 'the watched Service');
      assert.deepEqual(added.sort(), ['after', 'before']);
      assert.equal(informer.list().length, 2);
    } finally {
      await informer.stop();
    }
  });
});
