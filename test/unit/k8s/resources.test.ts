// The typed helpers against the fake API server: the status merge patch, ConfigMap/Secret/Lease calls,
// the memberlist Secret, the event recorder's change-only posting, and the token bucket in front of everything.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventReason, EventRecorder } from '../../../src/k8s/events.js';
import { isConflict, KubeApiError } from '../../../src/k8s/rest.js';
import { MEMBERLIST_SECRET } from '../../../src/k8s/resources.js';
import { microTime, metaTime, type KubeObject } from '../../../src/k8s/types.js';
import { captureLogger, fakeEnv } from './support.js';

const env = fakeEnv();
const SVC = '/api/v1/namespaces/default/services';

describe('KubeApi', () => {
  it('patchServiceIngress writes only status.loadBalancer.ingress, as a merge patch on the status subresource', async () => {
    const { server, client } = await env();
    server.seed(SVC, { metadata: { name: 'web', namespace: 'default', annotations: { a: 'b' } }, spec: { type: 'LoadBalancer' } });
    const out = await client.api.patchServiceIngress('default', 'web', ['192.0.2.1', '2001:db8::1']);
    assert.deepEqual(out.status, { loadBalancer: { ingress: [{ ip: '192.0.2.1' }, { ip: '2001:db8::1' }] } });
    const req = server.requests.at(-1);
    assert.equal(req?.method, 'PATCH');
    assert.equal(req?.path, '/api/v1/namespaces/default/services/web/status');
    assert.equal(req?.contentType, 'application/merge-patch+json');
    assert.deepEqual(server.get(SVC, 'web')?.spec, { type: 'LoadBalancer' });
    const cleared = await client.api.patchServiceIngress('default', 'web', []);
    assert.deepEqual(cleared.status, { loadBalancer: {} }, 'an empty list removes the field');
  });

  it('patchServiceIngress with a resourceVersion is a precondition: a stale writer gets 409', async () => {
    const { server, client } = await env();
    const [s] = server.seed(SVC, { metadata: { name: 'web', namespace: 'default' }, spec: {} });
    const rv = s?.metadata.resourceVersion ?? '';
    server.set(SVC, { metadata: { name: 'web', namespace: 'default', labels: { changed: 'yes' } }, spec: {} });
    await assert.rejects(client.api.patchServiceIngress('default', 'web', ['192.0.2.9'], rv), (e: unknown) => isConflict(e));
    assert.equal(server.get(SVC, 'web')?.status, undefined);
  });

  it('get* return null on 404 and throw KubeApiError with code, reason and the server message otherwise', async () => {
    const { server, client } = await env();
    assert.equal(await client.api.getService('default', 'nope'), null);
    assert.equal(await client.api.getConfigMap('ingot-system', 'config'), null);
    server.injectFault({ path: '/configmaps/config', fault: { type: 'status', code: 403, reason: 'Forbidden', message: 'configmaps "config" is forbidden' } });
    await assert.rejects(client.api.getConfigMap('ingot-system', 'config'), (e: unknown) => {
      assert.ok(e instanceof KubeApiError);
      assert.equal(e.code, 403);
      assert.equal(e.reason, 'Forbidden');
      assert.match(e.message, /GET \/api\/v1\/namespaces\/ingot-system\/configmaps\/config: 403 Forbidden: configmaps "config" is forbidden/);
      return true;
    });
  });

  it('ensureMemberlistSecret creates 32 random bytes under secretkey once, then reuses it', async () => {
    const { server, client } = await env();
    const first = await client.api.ensureMemberlistSecret('ingot-system');
    assert.equal(first.created, true);
    const stored = server.get('/api/v1/namespaces/ingot-system/secrets', MEMBERLIST_SECRET);
    const key = (stored?.data as Record<string, string> | undefined)?.secretkey ?? '';
    assert.equal(Buffer.from(key, 'base64').length, 32);
    const again = await client.api.ensureMemberlistSecret('ingot-system');
    assert.equal(again.created, false);
    assert.equal(again.secret.data?.secretkey, key);
  });

  it('ensureMemberlistSecret tolerates losing the create race (409 AlreadyExists) and uses the winner', async () => {
    const { server, client } = await env();
    // The GET says 404, then another replica creates it before our POST.
    server.injectFault({ method: 'GET', path: `/secrets/${MEMBERLIST_SECRET}`, fault: { type: 'status', code: 404, reason: 'NotFound', message: 'not found' } });
    server.seed('/api/v1/namespaces/ingot-system/secrets', { metadata: { name: MEMBERLIST_SECRET }, data: { secretkey: Buffer.alloc(32, 7).toString('base64') } });
    const r = await client.api.ensureMemberlistSecret('ingot-system');
    assert.equal(r.created, false);
    assert.equal(r.secret.data?.secretkey, Buffer.alloc(32, 7).toString('base64'));
    assert.ok(server.requests.some((q) => q.method === 'POST' && q.status === 409));
  });

  it('ensureMemberlistSecret refuses a Secret without the key instead of overwriting it', async () => {
    const { server, client } = await env();
    server.seed('/api/v1/namespaces/ingot-system/secrets', { metadata: { name: MEMBERLIST_SECRET }, data: { other: 'eA==' } });
    await assert.rejects(client.api.ensureMemberlistSecret('ingot-system'), /secret ingot-system\/ingot-memberlist has no data key "secretkey"/);
  });

  it('Lease get/create/update with resourceVersion compare-and-swap', async () => {
    const { client } = await env();
    assert.equal(await client.api.getLease('ingot-system', 'ingot-controller'), null);
    const now = microTime(Date.UTC(2026, 11, 7, 19, 0, 0, 123));
    assert.equal(now, '2026-12-07T19:00:00.123000Z', 'MicroTime has exactly six fractional digits');
    const created = await client.api.createLease('ingot-system', 'ingot-controller', { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: now, acquireTime: now, leaseTransitions: 0 });
    const rv = created.metadata.resourceVersion ?? '';
    const renewed = await client.api.updateLease('ingot-system', 'ingot-controller', rv, { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: now, acquireTime: now, leaseTransitions: 0 });
    assert.notEqual(renewed.metadata.resourceVersion, rv);
    await assert.rejects(client.api.updateLease('ingot-system', 'ingot-controller', rv, { holderIdentity: 'b' }), (e: unknown) => isConflict(e));
    await assert.rejects(client.api.createLease('ingot-system', 'ingot-controller', {}), (e: unknown) => e instanceof KubeApiError && e.reason === 'AlreadyExists');
  });

  it('every request waits for the token bucket (qps 20, burst 2: 6 requests take ≥ 200 ms)', async () => {
    const { server, client } = await env({ client: { qps: 20, burst: 2 } });
    server.seed(SVC, { metadata: { name: 'a', namespace: 'default' } });
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 6 }, () => client.api.getService('default', 'a')));
    const took = Date.now() - t0;
    assert.ok(took >= 190, `took ${took} ms`);
  });
});

describe('EventRecorder', () => {
  const svcObj = (uid: string): KubeObject => ({ kind: 'Service', apiVersion: 'v1', metadata: { name: 'web', namespace: 'default', uid, resourceVersion: '5' } });

  it('posts a core/v1 Event with MetalLB fields once; the same event on a resync is dropped; a change is posted', async () => {
    const { server, client } = await env();
    const rec = new EventRecorder({ api: client.api, component: 'metallb-controller', host: 'ctrl-0', logger: captureLogger().logger, now: () => Date.UTC(2026, 11, 7, 19, 30, 5) });
    const svc = svcObj('u1');
    const msg = 'Assigned IP ["192.0.2.1"]';
    assert.equal(await rec.record(svc, 'Normal', EventReason.IPAllocated, msg), true);
    assert.equal(await rec.record(svc, 'Normal', EventReason.IPAllocated, msg), false, 'resync: nothing new');
    assert.equal(await rec.record(svc, 'Warning', EventReason.AllocationFailed, 'Failed to allocate IP for "default/web": no available IPs'), true);
    assert.equal(await rec.record(svc, 'Normal', EventReason.IPAllocated, msg), true, 'the state changed back: reported again');
    const events = server.list('/api/v1/namespaces/default/events');
    assert.equal(events.length, 3);
    const ev = events.find((x) => x.reason === 'IPAllocated') as Record<string, unknown> | undefined;
    assert.deepEqual(ev?.involvedObject, { kind: 'Service', apiVersion: 'v1', name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '5' });
    assert.equal(ev?.type, 'Normal');
    assert.equal(ev?.message, msg);
    assert.deepEqual(ev?.source, { component: 'metallb-controller', host: 'ctrl-0' });
    assert.equal(ev?.firstTimestamp, '2026-12-07T19:30:05Z');
    assert.equal(ev?.count, 1);
    assert.equal(metaTime(0), '1970-01-01T00:00:00Z');
    assert.deepEqual(rec.stats, { posted: 3, suppressed: 1, remembered: 1 });
  });

  it('a re-created object (new uid) or forget() gets its events again; a failed post is retried next time', async () => {
    const { server, client } = await env();
    const log = captureLogger();
    const rec = new EventRecorder({ api: client.api, component: 'metallb-controller', logger: log.logger });
    assert.equal(await rec.record(svcObj('u1'), 'Normal', 'IPAllocated', 'm'), true);
    assert.equal(await rec.record(svcObj('u2'), 'Normal', 'IPAllocated', 'm'), true, 'new uid');
    rec.forget(svcObj('u2'));
    assert.equal(await rec.record(svcObj('u2'), 'Normal', 'IPAllocated', 'm'), true, 'forgotten');
    server.injectFault({ method: 'POST', path: '/events', fault: { type: 'status', code: 500 } });
    assert.equal(await rec.record(svcObj('u3'), 'Normal', 'IPAllocated', 'm'), false);
    assert.equal(log.events('eventPostFailed').length, 1);
    assert.equal(await rec.record(svcObj('u3'), 'Normal', 'IPAllocated', 'm'), true, 'retried after the failure');
  });

  it('remembers at most maxObjects objects, forgetting the oldest', async () => {
    const posted: string[] = [];
    const rec = new EventRecorder({ api: { createEvent: async (e) => (posted.push(e.involvedObject.uid ?? ''), e) }, component: 'c', logger: captureLogger().logger, maxObjects: 2 });
    for (const uid of ['a', 'b', 'c', 'a']) await rec.record(svcObj(uid), 'Normal', 'R', 'm');
    assert.deepEqual(posted, ['a', 'b', 'c', 'a'], 'a was evicted by c, so it is posted again');
    assert.equal(rec.stats.remembered, 2);
  });
});
