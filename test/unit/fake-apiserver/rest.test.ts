// The fake API server's REST semantics: CRUD, resourceVersion and generation, conflicts, the status subresource,
// the three patch types, selectors and pagination — asserted over HTTP, as a client sees them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FakeApiServer, KubeObject } from '../../helpers/fake-apiserver.js';
import { asStatus, call, failure, fakeServers, names, svc, type ListBody } from './client.js';

const server = fakeServers();

const SERVICES = '/api/v1/namespaces/default/services';
const rvOf = (o: KubeObject): number => Number(o.metadata?.resourceVersion);

describe('create, get, list, delete', () => {
  it('creates with identity fields, reads it back and lists it with the current resourceVersion', async () => {
    const s = await server();
    const created = await call(s.url, 'POST', SERVICES, svc('a'));
    assert.equal(created.status, 201);
    const m = created.body.metadata ?? {};
    assert.equal(m.name, 'a');
    assert.equal(m.namespace, 'default');
    assert.match(m.uid ?? '', /^[0-9a-f-]{36}$/);
    assert.match(m.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(m.generation, 1);
    assert.equal(m.resourceVersion, s.resourceVersion);

    const got = await call(s.url, 'GET', `${SERVICES}/a`);
    assert.deepEqual(got, { status: 200, body: created.body });

    const list = await call<ListBody>(s.url, 'GET', SERVICES);
    assert.equal(list.body.kind, 'ServiceList');
    assert.equal(list.body.apiVersion, 'v1');
    assert.equal(list.body.metadata.resourceVersion, s.resourceVersion);
    assert.deepEqual(list.body.items, [created.body]);
  });

  it('answers 404 NotFound as a Status for a missing object, collection path or unknown path', async () => {
    const s = await server();
    const missing = await call(s.url, 'GET', `${SERVICES}/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(asStatus(missing), failure(404, 'NotFound', 'services "nope" not found', { name: 'nope', group: '', kind: 'services' }));
    assert.equal(asStatus(await call(s.url, 'GET', '/apis/coordination.k8s.io/v1/namespaces/x/leases/l')).message, 'leases.coordination.k8s.io "l" not found');
    assert.equal((await call(s.url, 'GET', '/no/such/path')).status, 404);
    assert.equal((await call(s.url, 'DELETE', `${SERVICES}/nope`)).status, 404);
    assert.equal((await call(s.url, 'PUT', `${SERVICES}/nope`, svc('nope'))).status, 404);
  });

  it('refuses a duplicate name with 409 AlreadyExists and a mismatched namespace with 400', async () => {
    const s = await server();
    await call(s.url, 'POST', SERVICES, svc('a'));
    const dup = await call(s.url, 'POST', SERVICES, svc('a'));
    assert.equal(dup.status, 409);
    assert.equal(asStatus(dup).reason, 'AlreadyExists');
    assert.equal(asStatus(dup).message, 'services "a" already exists');
    const wrongNs = await call(s.url, 'POST', SERVICES, svc('b', 'other'));
    assert.equal(wrongNs.status, 400);
    assert.equal(asStatus(wrongNs).reason, 'BadRequest');
    const noName = await call(s.url, 'POST', SERVICES, { metadata: {} });
    assert.equal(noName.status, 422);
  });

  it('fills the namespace from the path and generates names from generateName', async () => {
    const s = await server();
    const body = { apiVersion: 'v1', kind: 'Event', metadata: { generateName: 'svc-a.' }, reason: 'IPAllocated' };
    const a = await call(s.url, 'POST', '/api/v1/namespaces/ns1/events', body);
    const b = await call(s.url, 'POST', '/api/v1/namespaces/ns1/events', body);
    assert.equal(a.status, 201);
    assert.equal(a.body.metadata?.namespace, 'ns1');
    assert.match(a.body.metadata?.name ?? '', /^svc-a\.[0-9a-z]{5}$/);
    assert.notEqual(a.body.metadata?.name, b.body.metadata?.name);
  });

  it('keeps status given on create (a documented simplification)', async () => {
    const s = await server();
    const created = await call(s.url, 'POST', SERVICES, svc('a', 'default', { status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } }));
    assert.deepEqual(created.body.status, { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } });
  });

  it('deletes with 200, returning the object at its final resourceVersion', async () => {
    const s = await server();
    const created = await call(s.url, 'POST', SERVICES, svc('a'));
    const deleted = await call(s.url, 'DELETE', `${SERVICES}/a`);
    assert.equal(deleted.status, 200);
    assert.equal(rvOf(deleted.body), rvOf(created.body) + 1);
    assert.equal(deleted.body.metadata?.resourceVersion, s.resourceVersion);
    assert.equal((await call(s.url, 'GET', `${SERVICES}/a`)).status, 404);
  });

  it('honours DeleteOptions preconditions and refuses DELETE on a subresource', async () => {
    const s = await server();
    const a = (await call(s.url, 'POST', SERVICES, svc('a'))).body;
    await call(s.url, 'PATCH', `${SERVICES}/a`, { metadata: { labels: { v: '2' } } }, 'application/merge-patch+json');
    const stale = await call(s.url, 'DELETE', `${SERVICES}/a`, { kind: 'DeleteOptions', preconditions: { resourceVersion: a.metadata?.resourceVersion } });
    assert.deepEqual([stale.status, asStatus(stale).reason], [409, 'Conflict']);
    const otherUid = await call(s.url, 'DELETE', `${SERVICES}/a`, { preconditions: { uid: 'someone-else' } });
    assert.equal(otherUid.status, 409);
    assert.equal((await call(s.url, 'DELETE', `${SERVICES}/a/status`)).status, 405);
    const ok = await call(s.url, 'DELETE', `${SERVICES}/a`, { preconditions: { uid: a.metadata?.uid } });
    assert.equal(ok.status, 200);
  });

  it('serves cluster-scoped, all-namespace and API-group collections', async () => {
    const s = await server();
    await call(s.url, 'POST', '/api/v1/nodes', { kind: 'Node', metadata: { name: 'n1' } });
    await call(s.url, 'POST', SERVICES, svc('a'));
    await call(s.url, 'POST', '/api/v1/namespaces/other/services', svc('b', 'other'));
    const lease = await call(s.url, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases', { kind: 'Lease', metadata: { name: 'ingot' }, spec: { holderIdentity: 'n1' } });
    assert.equal(lease.status, 201);

    const nodes = await call(s.url, 'GET', '/api/v1/nodes/n1');
    assert.equal(nodes.body.metadata?.namespace, undefined);
    assert.deepEqual(names((await call<ListBody>(s.url, 'GET', '/api/v1/services')).body), ['a', 'b']);
    assert.deepEqual(names((await call<ListBody>(s.url, 'GET', '/api/v1/namespaces/other/services')).body), ['b']);
    const leases = await call<ListBody>(s.url, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases');
    assert.equal(leases.body.kind, 'LeaseList');
    assert.equal(leases.body.apiVersion, 'coordination.k8s.io/v1');
    assert.deepEqual(names(leases.body), ['ingot']);
    // Same resource name in another group is another resource.
    assert.deepEqual((await call<ListBody>(s.url, 'GET', '/apis/example.com/v1/services')).body.items, []);
  });

  it("folds a Secret's write-only stringData into data on create and update", async () => {
    const s = await server();
    const SECRETS = '/api/v1/namespaces/default/secrets';
    const b64 = (v: string): string => Buffer.from(v).toString('base64');
    const created = await call(s.url, 'POST', SECRETS, { kind: 'Secret', metadata: { name: 'k' }, data: { a: b64('1'), b: b64('2') }, stringData: { b: 'two' } });
    assert.deepEqual(created.body.data, { a: b64('1'), b: b64('two') });
    assert.equal(created.body.stringData, undefined);
    const patched = await call(s.url, 'PATCH', `${SECRETS}/k`, { stringData: { c: '3' } }, 'application/merge-patch+json');
    assert.deepEqual(patched.body.data, { a: b64('1'), b: b64('two'), c: b64('3') });
    assert.equal(patched.body.stringData, undefined);
  });
});

describe('resourceVersion and generation', () => {
  it('bumps one global resourceVersion on every write, across resources', async () => {
    const s = await server();
    const seen: number[] = [Number(s.resourceVersion)];
    seen.push(rvOf((await call(s.url, 'POST', SERVICES, svc('a'))).body));
    seen.push(rvOf((await call(s.url, 'POST', '/api/v1/nodes', { metadata: { name: 'n' } })).body));
    seen.push(rvOf((await call(s.url, 'PATCH', `${SERVICES}/a`, { metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json')).body));
    seen.push(rvOf((await call(s.url, 'PUT', `${SERVICES}/a/status`, { metadata: { name: 'a' }, status: { loadBalancer: {} } })).body));
    seen.push(rvOf((await call(s.url, 'DELETE', '/api/v1/nodes/n')).body));
    for (let i = 1; i < seen.length; i++) assert.equal(seen[i], (seen[i - 1] ?? 0) + 1, `write ${i} bumps by one: ${seen.join(',')}`);
    // Reads do not bump it.
    await call(s.url, 'GET', SERVICES);
    assert.equal(Number(s.resourceVersion), seen.at(-1));
  });

  it('increments generation only when something outside metadata and status changes', async () => {
    const s = await server();
    const a = (await call(s.url, 'POST', SERVICES, svc('a'))).body;
    const labelled = await call(s.url, 'PUT', `${SERVICES}/a`, { ...a, metadata: { ...a.metadata, labels: { app: 'a', new: 'label' } } });
    assert.equal(labelled.body.metadata?.generation, 1);
    const withStatus = await call(s.url, 'PUT', `${SERVICES}/a/status`, { ...labelled.body, status: { loadBalancer: { ingress: [{ ip: '192.0.2.9' }] } } });
    assert.equal(withStatus.body.metadata?.generation, 1);
    const respec = await call(s.url, 'PATCH', `${SERVICES}/a`, { spec: { type: 'ClusterIP' } }, 'application/merge-patch+json');
    assert.equal(respec.body.metadata?.generation, 2);
    const same = await call(s.url, 'PATCH', `${SERVICES}/a`, { spec: { type: 'ClusterIP' } }, 'application/merge-patch+json');
    assert.equal(same.body.metadata?.generation, 2);
    // Identity fields cannot be changed by an update.
    assert.equal(same.body.metadata?.uid, a.metadata?.uid);
    assert.equal(same.body.metadata?.creationTimestamp, a.metadata?.creationTimestamp);
  });
});

describe('update (PUT)', () => {
  it('answers 409 Conflict for a stale resourceVersion and succeeds with the current one or none', async () => {
    const s = await server();
    const v1 = (await call(s.url, 'POST', SERVICES, svc('a'))).body;
    const v2 = await call(s.url, 'PUT', `${SERVICES}/a`, { ...v1, spec: { type: 'ClusterIP' } });
    assert.equal(v2.status, 200);
    const stale = await call(s.url, 'PUT', `${SERVICES}/a`, { ...v1, spec: { type: 'NodePort' } });
    assert.equal(stale.status, 409);
    assert.equal(asStatus(stale).reason, 'Conflict');
    assert.equal(asStatus(stale).message, 'Operation cannot be fulfilled on services "a": the object has been modified; please apply your changes to the latest version and try again');
    const staleStatus = await call(s.url, 'PUT', `${SERVICES}/a/status`, { ...v1, status: {} });
    assert.equal(staleStatus.status, 409);
    const unconditional = await call(s.url, 'PUT', `${SERVICES}/a`, { metadata: { name: 'a' }, spec: { type: 'NodePort' } });
    assert.equal(unconditional.status, 200);
    assert.deepEqual(unconditional.body.spec, { type: 'NodePort' });
  });

  it('refuses a body whose name differs from the path with 400', async () => {
    const s = await server();
    await call(s.url, 'POST', SERVICES, svc('a'));
    const r = await call(s.url, 'PUT', `${SERVICES}/a`, svc('b'));
    assert.equal(r.status, 400);
    assert.equal(asStatus(r).message, 'the name of the object (b) does not match the name on the URL (a)');
    assert.equal((await call(s.url, 'PUT', `${SERVICES}/a`, svc('a', 'elsewhere'))).status, 400);
  });

  it('isolates the status subresource in both directions', async () => {
    const s = await server();
    const lb = { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } };
    const a = (await call(s.url, 'POST', SERVICES, svc('a', 'default', { status: lb }))).body;

    const main = await call(s.url, 'PUT', `${SERVICES}/a`, { ...a, spec: { type: 'ClusterIP' }, status: { loadBalancer: {} } });
    assert.deepEqual(main.body.spec, { type: 'ClusterIP' });
    assert.deepEqual(main.body.status, lb, 'PUT on the object keeps the stored status');

    const status = await call(s.url, 'PUT', `${SERVICES}/a/status`, {
      ...main.body,
      metadata: { ...main.body.metadata, labels: { changed: 'yes' } },
      spec: { type: 'NodePort' },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.2' }] } },
    });
    assert.equal(status.status, 200);
    assert.deepEqual(status.body.spec, { type: 'ClusterIP' }, 'PUT on /status keeps spec');
    assert.deepEqual(status.body.metadata?.labels, { app: 'a' }, 'PUT on /status keeps metadata');
    assert.deepEqual(status.body.status, { loadBalancer: { ingress: [{ ip: '192.0.2.2' }] } });
    assert.equal(rvOf(status.body), rvOf(main.body) + 1);
  });
});

describe('patch', () => {
  const MERGE = 'application/merge-patch+json';
  const STRATEGIC = 'application/strategic-merge-patch+json';
  const JSON_PATCH = 'application/json-patch+json';

  async function withA(): Promise<{ s: FakeApiServer; a: KubeObject }> {
    const s = await server();
    const a = (await call(s.url, 'POST', SERVICES, svc('a', 'default', { spec: { type: 'LoadBalancer', ports: [{ port: 80 }, { port: 443 }], selector: { app: 'a' } } }))).body;
    return { s, a };
  }

  it('applies a JSON merge patch: nested objects merge, null deletes, lists are replaced', async () => {
    const { s } = await withA();
    const r = await call(s.url, 'PATCH', `${SERVICES}/a`, { metadata: { labels: { tier: 'web' }, annotations: { note: 'x' } }, spec: { selector: null, ports: [{ port: 8080 }] } }, MERGE);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.metadata?.labels, { app: 'a', tier: 'web' });
    assert.deepEqual(r.body.metadata?.annotations, { note: 'x' });
    assert.deepEqual(r.body.spec, { type: 'LoadBalancer', ports: [{ port: 8080 }] });
  });

  it('applies a strategic merge patch: lists with a merge key merge by it, directives are understood', async () => {
    const { s } = await withA();
    const sm = await call(s.url, 'PATCH', `${SERVICES}/a`, { spec: { ports: [{ port: 443, name: 'https' }, { port: 9090 }], selector: { tier: 'x' } } }, `${STRATEGIC}; charset=utf-8`);
    assert.equal(sm.status, 200, JSON.stringify(sm.body));
    assert.deepEqual(sm.body.spec, { type: 'LoadBalancer', ports: [{ port: 80 }, { port: 443, name: 'https' }, { port: 9090 }], selector: { app: 'a', tier: 'x' } });
    // What `kubectl apply` sends when an element goes away: an ordering directive and a `$patch: delete` element.
    const del = await call(s.url, 'PATCH', `${SERVICES}/a`, { spec: { '$setElementOrder/ports': [{ port: 9090 }, { port: 443 }], ports: [{ port: 80, $patch: 'delete' }], selector: { $patch: 'replace', only: 'me' } } }, STRATEGIC);
    assert.deepEqual(del.body.spec, { type: 'LoadBalancer', ports: [{ port: 9090 }, { port: 443, name: 'https' }], selector: { only: 'me' } });
    // Lists without a merge key (and metadata.finalizers-style primitive sets) follow the API types.
    const atomic = await call(s.url, 'PATCH', `${SERVICES}/a`, { metadata: { finalizers: ['a'] }, spec: { externalIPs: ['192.0.2.1'] } }, STRATEGIC);
    const again = await call(s.url, 'PATCH', `${SERVICES}/a`, { metadata: { finalizers: ['b'] }, spec: { externalIPs: ['192.0.2.2'] } }, STRATEGIC);
    assert.equal(atomic.status, 200);
    assert.deepEqual(again.body.metadata?.finalizers, ['a', 'b']);
    assert.deepEqual((again.body.spec as { externalIPs: string[] }).externalIPs, ['192.0.2.2']);
  });

  it('treats metadata.resourceVersion in a merge patch as a precondition', async () => {
    const { s, a } = await withA();
    const ok = await call(s.url, 'PATCH', `${SERVICES}/a`, { metadata: { resourceVersion: a.metadata?.resourceVersion, labels: { v: '2' } } }, MERGE);
    assert.equal(ok.status, 200);
    const stale = await call(s.url, 'PATCH', `${SERVICES}/a/status`, { metadata: { resourceVersion: a.metadata?.resourceVersion }, status: { x: 1 } }, MERGE);
    assert.equal(stale.status, 409);
    assert.equal(asStatus(stale).reason, 'Conflict');
    assert.equal((await call(s.url, 'GET', `${SERVICES}/a`)).body.status, undefined);
  });

  it('changes only status through /status and never status through the object', async () => {
    const { s } = await withA();
    const st = await call(s.url, 'PATCH', `${SERVICES}/a/status`, { spec: { type: 'ClusterIP' }, metadata: { labels: { no: 'no' } }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.7' }] } } }, MERGE);
    assert.equal(st.status, 200);
    assert.equal((st.body.spec as { type: string }).type, 'LoadBalancer');
    assert.deepEqual(st.body.metadata?.labels, { app: 'a' });
    assert.deepEqual(st.body.status, { loadBalancer: { ingress: [{ ip: '192.0.2.7' }] } });
    const main = await call(s.url, 'PATCH', `${SERVICES}/a`, { status: null, spec: { type: 'ClusterIP' } }, MERGE);
    assert.deepEqual(main.body.status, { loadBalancer: { ingress: [{ ip: '192.0.2.7' }] } });
    assert.equal((main.body.spec as { type: string }).type, 'ClusterIP');
  });

  it('applies RFC 6902 JSON patches: add, remove, replace, move, copy, test', async () => {
    const { s } = await withA();
    const r = await call(
      s.url,
      'PATCH',
      `${SERVICES}/a`,
      [
        { op: 'test', path: '/spec/type', value: 'LoadBalancer' },
        { op: 'add', path: '/metadata/labels/example.com~1role', value: 'edge' },
        { op: 'add', path: '/spec/ports/-', value: { port: 8443 } },
        { op: 'add', path: '/spec/ports/0', value: { port: 22 } },
        { op: 'remove', path: '/spec/ports/1' },
        { op: 'replace', path: '/spec/type', value: 'NodePort' },
        { op: 'copy', from: '/spec/selector', path: '/spec/copied' },
        { op: 'move', from: '/spec/copied', path: '/spec/moved' },
      ],
      JSON_PATCH,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.metadata?.labels, { app: 'a', 'example.com/role': 'edge' });
    assert.deepEqual(r.body.spec, { type: 'NodePort', ports: [{ port: 22 }, { port: 443 }, { port: 8443 }], selector: { app: 'a' }, moved: { app: 'a' } });
  });

  it('answers 422 for a JSON patch that cannot be applied and changes nothing', async () => {
    const { s, a } = await withA();
    for (const ops of [
      [{ op: 'replace', path: '/spec/type', value: 'NodePort' }, { op: 'test', path: '/spec/type', value: 'LoadBalancer' }],
      [{ op: 'remove', path: '/spec/missing' }],
      [{ op: 'replace', path: '/spec/ports/9', value: 1 }],
      [{ op: 'frobnicate', path: '/spec' }],
    ]) {
      const r = await call(s.url, 'PATCH', `${SERVICES}/a`, ops, JSON_PATCH);
      assert.equal(r.status, 422, JSON.stringify(ops));
      assert.equal(asStatus(r).reason, 'Invalid');
    }
    assert.equal(asStatus(await call(s.url, 'PATCH', `${SERVICES}/a`, { not: 'an array' }, JSON_PATCH)).code, 400);
    assert.deepEqual((await call(s.url, 'GET', `${SERVICES}/a`)).body, a);
  });

  it('answers 415 for an unsupported patch type and 400 for a body that is not JSON', async () => {
    const { s } = await withA();
    const apply = await call(s.url, 'PATCH', `${SERVICES}/a`, {}, 'application/apply-patch+cbor');
    assert.equal(apply.status, 415);
    assert.equal(asStatus(apply).reason, 'UnsupportedMediaType');
    const res = await fetch(`${s.url}${SERVICES}/a`, { method: 'PATCH', body: '{', headers: { 'content-type': MERGE } });
    assert.equal(res.status, 400);
  });
});

describe('selectors and pagination', () => {
  async function labelled(): Promise<FakeApiServer> {
    const s = await server();
    s.seed(
      '/api/v1/services',
      svc('a', 'default', { metadata: { name: 'a', namespace: 'default', labels: { app: 'web', tier: 'front' } } }),
      svc('b', 'default', { metadata: { name: 'b', namespace: 'default', labels: { app: 'web' } } }),
      svc('c', 'other', { metadata: { name: 'c', namespace: 'other', labels: { app: 'db' } } }),
      svc('d', 'other', { metadata: { name: 'd', namespace: 'other' } }),
    );
    return s;
  }

  it('filters lists by label selector (equality, existence and set-based, ANDed)', async () => {
    const s = await labelled();
    const sel = async (q: string): Promise<string[]> => names((await call<ListBody>(s.url, 'GET', `/api/v1/services?labelSelector=${encodeURIComponent(q)}`)).body);
    assert.deepEqual(await sel('app=web'), ['a', 'b']);
    assert.deepEqual(await sel('app==web,tier=front'), ['a']);
    assert.deepEqual(await sel('app!=web'), ['c', 'd']);
    assert.deepEqual(await sel('tier'), ['a']);
    assert.deepEqual(await sel('!app'), ['d']);
    assert.deepEqual(await sel('app in (db, web),!tier'), ['b', 'c']);
    assert.deepEqual(await sel('app notin (web)'), ['c', 'd']);
    assert.equal((await call(s.url, 'GET', `/api/v1/services?labelSelector=${encodeURIComponent('a=b=c')}`)).status, 400);
  });

  it('filters lists by field selector on metadata.name and metadata.namespace', async () => {
    const s = await labelled();
    const sel = async (q: string): Promise<string[]> => names((await call<ListBody>(s.url, 'GET', `/api/v1/services?fieldSelector=${encodeURIComponent(q)}`)).body);
    assert.deepEqual(await sel('metadata.name=c'), ['c']);
    assert.deepEqual(await sel('metadata.namespace!=default'), ['c', 'd']);
    assert.deepEqual(await sel('metadata.namespace==other,metadata.name!=c'), ['d']);
  });

  it('pages with limit and continue, keeping the first page resourceVersion', async () => {
    const s = await labelled();
    const first = (await call<ListBody>(s.url, 'GET', '/api/v1/services?limit=3')).body;
    assert.deepEqual(names(first), ['a', 'b', 'c']);
    assert.equal(first.metadata.remainingItemCount, 1);
    const firstRv = first.metadata.resourceVersion;
    s.seed('/api/v1/services', svc('e', 'other'));
    const token = first.metadata.continue ?? assert.fail('no continue token');
    const second = (await call<ListBody>(s.url, 'GET', `/api/v1/services?limit=3&continue=${encodeURIComponent(token)}`)).body;
    assert.deepEqual(names(second), ['d', 'e']);
    assert.equal(second.metadata.resourceVersion, firstRv);
    assert.equal(second.metadata.continue, undefined);

    const unpaged = (await call<ListBody>(s.url, 'GET', '/api/v1/services?limit=10')).body;
    assert.equal(unpaged.metadata.continue, undefined);
    assert.equal(unpaged.items.length, 5);

    s.compact();
    const tooOld = await call(s.url, 'GET', `/api/v1/services?limit=3&continue=${encodeURIComponent(token)}`);
    assert.equal(tooOld.status, 410);
    assert.equal(asStatus(tooOld).reason, 'Expired');
    assert.equal((await call(s.url, 'GET', '/api/v1/services?continue=garbage')).status, 400);
  });
});
