// Supervised informers against the fake API server: list (paged) then watch, handlers, relist on 410 (HTTP and
// in-stream), restart with backoff on any other error, handler exceptions contained, selectors, stop.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock, type BackoffPolicy } from '../../../src/k8s/primitives.js';
import { Informer, type InformerOptions } from '../../../src/k8s/informer.js';
import type { KubeObject } from '../../../src/k8s/types.js';
import type { Env } from './support.js';
import { captureLogger, fakeEnv, recordingMetrics, until } from './support.js';

const env = fakeEnv();
const SVC = '/api/v1/namespaces/default/services';
/** Short delays so the tests take milliseconds; the shape (doubling, cap, jitter, stable reset) is the real one. */
const FAST: BackoffPolicy = { initialMs: 10, maxMs: 80, multiplier: 2, jitter: 0.5, stableMs: 10_000 };

const svc = (name: string, ns = 'default', extra: Partial<KubeObject> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { type: 'LoadBalancer' }, ...extra });

function track(e: Env, over: Partial<InformerOptions> = {}) {
  const log = captureLogger();
  const metrics = recordingMetrics();
  const inf = new Informer<KubeObject>({
    name: 'services',
    path: '/api/v1/services',
    kind: 'Service',
    apiVersion: 'v1',
    rest: e.client.rest,
    clock: systemClock(),
    logger: log.logger,
    metrics,
    policy: FAST,
    ...over,
  });
  const seen: string[] = [];
  inf.addHandlers({
    onAdd: (o) => seen.push(`add ${o.metadata?.namespace}/${o.metadata?.name}`),
    onUpdate: (_o, n) => seen.push(`update ${n.metadata?.namespace}/${n.metadata?.name}`),
    onDelete: (o) => seen.push(`delete ${o.metadata?.namespace}/${o.metadata?.name}`),
  });
  return { inf, seen, log, metrics };
}

const stop = async (inf: Informer<KubeObject>): Promise<void> => {
  inf.stop();
  await inf.stopped();
};

describe('Informer', () => {
  it('lists every namespace in pages, syncs, then delivers add/update/delete from the watch', async () => {
    const e = await env();
    e.server.seed(SVC, svc('a'), svc('b'), svc('c'));
    e.server.seed('/api/v1/namespaces/other/services', svc('d', 'other'), svc('e', 'other'));
    const { inf, seen } = track(e, { pageSize: 2 });
    assert.equal(inf.hasSynced(), false);
    inf.start();
    await inf.waitForSync();
    assert.equal(inf.hasSynced(), true);
    assert.deepEqual(seen, ['add default/a', 'add default/b', 'add default/c', 'add other/d', 'add other/e']);
    const lists = e.server.requests.filter((r) => r.method === 'GET' && !r.path.includes('watch=') && r.path.startsWith('/api/v1/services'));
    assert.equal(lists.length, 3, 'five objects in pages of two');
    assert.equal(inf.get('other/d')?.kind, 'Service', 'list items get their kind stamped');
    await e.server.waitForWatches(1, '/api/v1/services');
    seen.length = 0;
    e.server.set(SVC, svc('a', 'default', { spec: { type: 'NodePort' } }));
    e.server.remove(SVC, 'b');
    e.server.seed(SVC, svc('f'));
    await until(() => seen.length === 3, 'three watch events');
    assert.deepEqual(seen, ['update default/a', 'delete default/b', 'add default/f']);
    assert.deepEqual(inf.keys().sort(), ['default/a', 'default/c', 'default/f', 'other/d', 'other/e']);
    assert.equal(inf.lastSyncResourceVersion, e.server.resourceVersion);
    await stop(inf);
  });

  it('identityCache: keeps resourceVersion (and uid) per key, hands handlers whole objects, rebuilds identities for old/deleted/get', async () => {
    const e = await env();
    e.server.seed(SVC, svc('a'), svc('b'));
    const updates: Array<[KubeObject, KubeObject]> = [];
    const deleted: KubeObject[] = [];
    const added: KubeObject[] = [];
    const { inf } = track(e, { identityCache: { keepUid: true } });
    inf.addHandlers({ onAdd: (o) => added.push(o), onUpdate: (o, n) => updates.push([o, n]), onDelete: (o) => deleted.push(o) });
    inf.start();
    await inf.waitForSync();
    assert.equal((added[0]?.spec as { type?: string } | undefined)?.type, 'LoadBalancer', 'handlers get the object, not the identity');
    const a = inf.get('default/a')!;
    assert.deepEqual(Object.keys(a).sort(), ['apiVersion', 'kind', 'metadata']);
    assert.equal(a.kind, 'Service');
    assert.deepEqual({ ...a.metadata, uid: typeof a.metadata?.uid, resourceVersion: typeof a.metadata?.resourceVersion }, { namespace: 'default', name: 'a', uid: 'string', resourceVersion: 'string' });
    assert.throws(() => inf.addHandlers({}), /handlers are registered before start/);
    await e.server.waitForWatches(1, '/api/v1/services');
    e.server.set(SVC, svc('a', 'default', { spec: { type: 'NodePort' } }));
    await until(() => updates.length === 1, 'the update');
    assert.equal((updates[0]![1].spec as { type?: string } | undefined)?.type, 'NodePort');
    assert.equal(updates[0]![0].metadata?.resourceVersion, a.metadata?.resourceVersion, 'old: the cached identity');
    assert.equal(updates[0]![0].spec, undefined);
    // A relist (410) that no longer finds b: onDelete gets b's identity.
    e.server.injectFault({ watch: true, fault: { type: 'status', code: 410 }, times: 1 });
    e.server.closeWatches();
    e.server.remove(SVC, 'b');
    await until(() => deleted.length === 1, 'the delete');
    assert.equal(deleted[0]!.metadata?.name, 'b');
    assert.equal(inf.list().length, 1);
    await stop(inf);
  });

  it('a clean watch end resumes from the last resourceVersion without relisting', async () => {
    const e = await env();
    e.server.seed(SVC, svc('a'));
    const { inf, seen, metrics } = track(e);
    inf.start();
    await inf.waitForSync();
    await e.server.waitForWatches(1, '/api/v1/services');
    const before = e.server.requests.length;
    e.server.closeWatches();
    e.server.seed(SVC, svc('b'));
    await until(() => seen.includes('add default/b'), 'the add replayed to the resumed watch');
    const after = e.server.requests.slice(before).map((r) => r.path);
    assert.ok(after.every((p) => p.includes('watch=true')), `only a re-watch: ${after.join(' ')}`);
    assert.equal(inf.restarts, 0);
    assert.deepEqual(metrics.restarts, []);
    await stop(inf);
  });

  for (const form of ['http', 'event'] as const) {
    it(`410 Expired (${form === 'http' ? 'HTTP status' : 'in-stream ERROR event'}) relists; what vanished meanwhile is deleted, what changed is updated`, async () => {
      const e = await env();
      e.server.seed(SVC, svc('a'), svc('b'));
      const { inf, seen, metrics } = track(e);
      inf.start();
      await inf.waitForSync();
      await e.server.waitForWatches(1, '/api/v1/services');
      e.server.injectFault({ watch: true, fault: form === 'http' ? { type: 'status', code: 410, reason: 'Expired', message: 'too old resource version' } : { type: 'watchExpired' } });
      e.server.closeWatches();
      // Changes while no watch is open: seen only by the relist.
      e.server.remove(SVC, 'a');
      e.server.set(SVC, svc('b', 'default', { spec: { type: 'ClusterIP' } }));
      seen.length = 0;
      await until(() => seen.length === 2, 'the relist diff');
      assert.deepEqual(seen.sort(), ['delete default/a', 'update default/b']);
      assert.deepEqual(metrics.restarts, [{ resource: 'services', reason: 'expired' }]);
      assert.equal(inf.restarts, 1);
      await stop(inf);
    });
  }

  it('restarts after any other error (500 on list, reset watch) with backoff, and converges', async () => {
    const e = await env();
    e.server.seed(SVC, svc('a'));
    e.server.injectFault({ watch: false, path: '/api/v1/services', fault: { type: 'status', code: 500, message: 'etcd down' }, times: 3 });
    const { inf, log, metrics } = track(e);
    inf.start();
    await inf.waitForSync();
    assert.equal(inf.restarts, 3);
    assert.deepEqual(
      metrics.restarts.map((r) => r.reason),
      ['error', 'error', 'error'],
    );
    assert.match(String(log.events('informerError')[0]?.error), /500 InternalError: etcd down/);
    await e.server.waitForWatches(1, '/api/v1/services');
    e.server.injectFault({ watch: true, fault: { type: 'abort' } });
    e.server.closeWatches();
    await until(() => inf.restarts === 4, 'the aborted watch counted as a restart');
    e.server.seed(SVC, svc('late'));
    await until(() => inf.get('default/late') !== undefined, 'converged after the reset');
    assert.equal(inf.lastError, null, 'a successful list clears the last error');
    await stop(inf);
  });

  it('an API server that answers 410 to every watch gets a backed-off trickle, not a storm, and converges when it recovers', async () => {
    const e = await env();
    e.server.seed(SVC, svc('a'));
    const FAILURES = 12;
    e.server.injectFault({ watch: true, fault: { type: 'status', code: 410 }, times: FAILURES });
    const { inf } = track(e);
    const t0 = Date.now();
    inf.start();
    await until(() => inf.restarts === FAILURES, `${FAILURES} expired watches`, 10_000);
    const elapsed = Date.now() - t0;
    const n = e.server.requests.length;
    // Each failure costs a list and a watch; after the first few the delay is capped at 80 ms (≥ 40 with jitter).
    assert.ok(n === 2 * FAILURES || n === 2 * FAILURES + 1, `one list + one watch per attempt, nothing more: ${n}`);
    assert.ok(elapsed >= (FAILURES - 4) * 40, `${FAILURES} attempts took ${elapsed} ms: backed off`);
    await e.server.waitForWatches(1, '/api/v1/services');
    e.server.seed(SVC, svc('after-recovery'));
    await until(() => inf.get('default/after-recovery') !== undefined, 'converged');
    await stop(inf);
  });

  it('a throwing handler is reported and counted; other handlers and later events still arrive', async () => {
    const e = await env();
    const { inf, seen, log } = track(e);
    inf.addHandlers({
      onAdd: (o) => {
        if (o.metadata?.name === 'bad') throw new Error('handler bug');
      },
    });
    inf.start();
    await inf.waitForSync();
    await e.server.waitForWatches(1, '/api/v1/services');
    e.server.seed(SVC, svc('bad'), svc('good'));
    await until(() => seen.length === 2, 'both adds');
    assert.deepEqual(seen, ['add default/bad', 'add default/good']);
    assert.equal(inf.handlerErrors, 1);
    assert.equal(log.events('informerHandlerError')[0]?.error, 'handler bug');
    assert.equal(inf.restarts, 0, 'a handler bug is not an informer failure');
    await stop(inf);
  });

  it('late handlers get the cache replayed as adds', async () => {
    const e = await env();
    e.server.seed(SVC, svc('a'));
    const { inf } = track(e);
    inf.start();
    await inf.waitForSync();
    const late: string[] = [];
    inf.addHandlers({ onAdd: (o) => late.push(o.metadata?.name ?? '') });
    assert.deepEqual(late, ['a']);
    await stop(inf);
  });

  it('field selectors: one ConfigMap by name, one Node by name, or all Nodes — on list and watch alike', async () => {
    const e = await env();
    e.server.seed('/api/v1/namespaces/ingot-system/configmaps', { metadata: { name: 'config' }, data: { config: 'x' } }, { metadata: { name: 'other' } });
    e.server.seed('/api/v1/nodes', { metadata: { name: 'n1' } }, { metadata: { name: 'n2' } });
    const deps = { rest: e.client.rest, clock: systemClock(), logger: captureLogger().logger, metrics: recordingMetrics(), policy: FAST };
    const cm = e.client.api.configMapInformer(deps, 'ingot-system', 'config');
    const own = e.client.api.nodesInformer(deps, 'n2');
    const all = e.client.api.nodesInformer(deps);
    for (const i of [cm, own, all]) i.start();
    await Promise.all([cm.waitForSync(), own.waitForSync(), all.waitForSync()]);
    assert.deepEqual(cm.keys(), ['ingot-system/config']);
    assert.deepEqual(own.keys(), ['n2']);
    assert.deepEqual(all.keys().sort(), ['n1', 'n2']);
    await e.server.waitForWatches(3);
    e.server.seed('/api/v1/nodes', { metadata: { name: 'n3' } });
    await until(() => all.size === 3, 'n3 in the all-nodes informer');
    assert.equal(own.size, 1);
    const paths = e.server.requests.map((r) => decodeURIComponent(r.path)).filter((p) => p.includes('configmaps'));
    assert.ok(paths.length >= 2 && paths.every((p) => p.includes('fieldSelector=metadata.name=config')), paths.join('\n'));
    for (const i of [cm, own, all]) i.stop();
  });

  it('stop() ends the watch; nothing is delivered afterwards', async () => {
    const e = await env();
    const { inf, seen } = track(e);
    inf.start();
    await inf.waitForSync();
    await e.server.waitForWatches(1, '/api/v1/services');
    await stop(inf);
    await until(() => e.server.watchCount('/api/v1/services') === 0, 'the watch closed on the server');
    e.server.seed(SVC, svc('after'));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen, []);
  });
});

describe('RestClient.watch', () => {
  it('an event handler that throws ends the watch with HandlerError instead of throwing into the socket', async () => {
    const e = await env();
    e.server.seed(SVC, svc('a'));
    let done: Error | null | undefined;
    const handle = await e.client.rest.watch(
      '/api/v1/services',
      { resourceVersion: '0' },
      () => {
        throw new Error('boom');
      },
      (err) => (done = err),
    );
    await until(() => done !== undefined, 'the watch to end');
    assert.match(String(done?.message), /event handler failed: boom/);
    assert.equal((done as { reason?: string } | null)?.reason, 'HandlerError');
    handle.abort();
  });
});
