// The fake API server's watch protocol: replay from a resourceVersion, live events, selectors (including
// transitions), the unset/"0" start, 410 Expired in both forms, bookmarks and timeoutSeconds. A test never
// sleeps: "no event for watcher X" is shown by a later event that X does receive arriving first.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, Status } from '../../helpers/fake-apiserver.js';
import { asStatus, call, failure, fakeServers, openWatch, svc, within, type WatchClient } from './client.js';

const server = fakeServers();

const SERVICES = '/api/v1/services';
const summary = (e: { type: string; object: KubeObject }): string => `${e.type} ${e.object.metadata?.name ?? ''}`;

async function take(w: WatchClient, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(summary(await w.next()));
  return out;
}

describe('watch', () => {
  it('flushes headers at once, then replays history after the resourceVersion and streams live events', async () => {
    const s = await server();
    s.seed(SERVICES, svc('a'), svc('b'));
    const listRv = s.resourceVersion;
    s.set(SERVICES, svc('a', 'default', { spec: { type: 'ClusterIP' } }));
    s.seed(SERVICES, svc('c', 'other'));

    const w = await openWatch(s.url, `${SERVICES}?watch=true&resourceVersion=${listRv}`);
    assert.equal(w.statusCode, 200);
    assert.deepEqual(await take(w, 2), ['MODIFIED a', 'ADDED c']);

    await call(s.url, 'DELETE', '/api/v1/namespaces/default/services/b');
    const deleted = await w.next();
    assert.equal(summary(deleted), 'DELETED b');
    assert.equal(deleted.object.metadata?.resourceVersion, s.resourceVersion);
    s.remove(SERVICES, 'c', 'other');
    assert.deepEqual(await take(w, 1), ['DELETED c']);
    w.close();
  });

  it('delivers events with increasing resourceVersions, only for its resource and namespace', async () => {
    const s = await server();
    const ns = await openWatch(s.url, '/api/v1/namespaces/default/services?watch=1&resourceVersion=1');
    await s.waitForWatches(1, '/api/v1/namespaces/default/services');
    s.seed('/api/v1/nodes', { kind: 'Node', metadata: { name: 'n1' } });
    s.seed(SERVICES, svc('x', 'other'), svc('a'), svc('b'));
    const events = [await ns.next(), await ns.next()];
    assert.deepEqual(events.map(summary), ['ADDED a', 'ADDED b']);
    assert.ok(Number(events[0]?.object.metadata?.resourceVersion) < Number(events[1]?.object.metadata?.resourceVersion));
    assert.equal(ns.buffered, 0);
    ns.close();
  });

  it('sends a synthetic ADDED for every current object when resourceVersion is unset, "" or "0"', async () => {
    const s = await server();
    s.seed(SERVICES, svc('a'), svc('b'));
    s.remove(SERVICES, 'b', 'default');
    s.seed(SERVICES, svc('c'));
    for (const q of ['watch=true', 'watch=true&resourceVersion=', 'watch=true&resourceVersion=0']) {
      const w = await openWatch(s.url, `${SERVICES}?${q}`);
      assert.deepEqual(await take(w, 2), ['ADDED a', 'ADDED c'], q);
      s.seed(SERVICES, svc('live'));
      assert.deepEqual(await take(w, 1), ['ADDED live'], q);
      s.remove(SERVICES, 'live', 'default');
      assert.deepEqual(await take(w, 1), ['DELETED live'], q);
      w.close();
    }
  });

  it('applies label and field selectors per event: leaving the selection is DELETED, entering it is ADDED', async () => {
    const s = await server();
    const web = { name: 'a', namespace: 'default', labels: { app: 'web' } };
    s.seed(SERVICES, svc('a', 'default', { metadata: web }));
    const w = await openWatch(s.url, `${SERVICES}?watch=true&resourceVersion=${s.resourceVersion}&labelSelector=app%3Dweb`);
    const byName = await openWatch(s.url, `${SERVICES}?watch=true&resourceVersion=${s.resourceVersion}&fieldSelector=metadata.name%3Db`);

    s.set(SERVICES, svc('a', 'default', { metadata: { ...web, labels: { app: 'db' } } }));
    const left = await w.next();
    assert.equal(summary(left), 'DELETED a');
    assert.deepEqual(left.object.metadata?.labels, { app: 'db' });
    s.set(SERVICES, svc('a', 'default', { metadata: { ...web, labels: { app: 'db', v: '2' } } })); // still outside
    s.set(SERVICES, svc('a', 'default', { metadata: web }));
    assert.deepEqual(await take(w, 1), ['ADDED a']);
    s.set(SERVICES, svc('a', 'default', { metadata: { ...web, annotations: { x: 'y' } } }));
    assert.deepEqual(await take(w, 1), ['MODIFIED a']);

    // byName saw none of a's events: b's creation is the first thing it gets.
    s.seed(SERVICES, svc('b'));
    assert.deepEqual(await take(byName, 1), ['ADDED b']);
    assert.equal(byName.buffered, 0);
    w.close();
    byName.close();
  });

  it('watches a single object through its own path (the deprecated form)', async () => {
    const s = await server();
    const w = await openWatch(s.url, '/api/v1/namespaces/default/services/b?watch=true');
    s.seed(SERVICES, svc('a'), svc('b'));
    s.set(SERVICES, svc('a', 'default', { spec: {} }));
    s.set(SERVICES, svc('b', 'default', { spec: {} }));
    assert.deepEqual(await take(w, 2), ['ADDED b', 'MODIFIED b']);
    w.close();
  });

  it('replays selector transitions from history as well', async () => {
    const s = await server();
    s.seed(SERVICES, svc('a', 'default', { metadata: { name: 'a', labels: { app: 'web' } } }));
    const from = s.resourceVersion;
    s.set(SERVICES, svc('a', 'default', { metadata: { name: 'a', labels: { app: 'db' } } }));
    const w = await openWatch(s.url, `${SERVICES}?watch=true&resourceVersion=${from}&labelSelector=app%3Dweb`);
    assert.deepEqual(await take(w, 1), ['DELETED a']);
    w.close();
  });

  it('answers HTTP 410 Expired for a resourceVersion older than the history window', async () => {
    const s = await server({ historyLimit: 2 });
    const start = s.resourceVersion;
    s.seed(SERVICES, svc('a'), svc('b'));
    const ok = await openWatch(s.url, `${SERVICES}?watch=true&resourceVersion=${start}`);
    assert.deepEqual(await take(ok, 2), ['ADDED a', 'ADDED b']);
    ok.close();

    s.seed(SERVICES, svc('c')); // pushes a's event out of the two-event window
    const gone = await call(s.url, 'GET', `${SERVICES}?watch=true&resourceVersion=${start}`);
    assert.equal(gone.status, 410);
    assert.deepEqual(asStatus(gone), failure(410, 'Expired', `too old resource version: ${start} (${Number(start) + 2})`));

    s.compact();
    const latest = s.resourceVersion;
    assert.equal((await call(s.url, 'GET', `${SERVICES}?watch=true&resourceVersion=${Number(latest) - 1}`)).status, 410);
    const fromNow = await openWatch(s.url, `${SERVICES}?watch=true&resourceVersion=${latest}`);
    assert.equal(fromNow.statusCode, 200);
    s.seed(SERVICES, svc('d'));
    assert.deepEqual(await take(fromNow, 1), ['ADDED d']);
    fromNow.close();
  });

  it('can send 410 in-stream: 200, one ERROR event with an Expired Status, then the end', async () => {
    const s = await server();
    s.injectFault({ watch: true, fault: { type: 'watchExpired' } });
    const w = await openWatch(s.url, `${SERVICES}?watch=true&resourceVersion=1`);
    assert.equal(w.statusCode, 200);
    const ev = await w.next();
    assert.equal(ev.type, 'ERROR');
    const status = ev.object as unknown as Status;
    assert.equal(status.code, 410);
    assert.equal(status.reason, 'Expired');
    assert.equal(status.message, `too old resource version: 1 (${Number(s.resourceVersion) + 1})`);
    assert.equal(await within(w.ended, 2000, 'end of stream'), 'end');
    // The fault was for one request only.
    const next = await openWatch(s.url, `${SERVICES}?watch=true&resourceVersion=1`);
    s.seed(SERVICES, svc('a'));
    assert.deepEqual(await take(next, 1), ['ADDED a']);
    next.close();
  });

  it('sends BOOKMARKs with only the resourceVersion, to watches that allowed them', async () => {
    const s = await server();
    s.seed(SERVICES, svc('a'));
    const withBookmarks = await openWatch(s.url, `${SERVICES}?watch=true&resourceVersion=${s.resourceVersion}&allowWatchBookmarks=true`);
    const without = await openWatch(s.url, `${SERVICES}?watch=true&resourceVersion=${s.resourceVersion}`);
    s.bookmark();
    const bm = await withBookmarks.next();
    assert.deepEqual(bm, { type: 'BOOKMARK', object: { kind: 'Service', apiVersion: 'v1', metadata: { resourceVersion: s.resourceVersion } } });
    s.seed(SERVICES, svc('b'));
    assert.deepEqual(await take(without, 1), ['ADDED b'], 'the first event without bookmarks is the object');
    withBookmarks.close();
    without.close();
  });

  it('sends periodic BOOKMARKs when an interval is configured', async () => {
    const s = await server({ bookmarkIntervalMs: 10 });
    const w = await openWatch(s.url, '/apis/coordination.k8s.io/v1/leases?watch=true&allowWatchBookmarks=true');
    const [a, b] = [await w.next(), await w.next()];
    assert.equal(a.type, 'BOOKMARK');
    assert.equal(b.type, 'BOOKMARK');
    assert.equal(a.object.apiVersion, 'coordination.k8s.io/v1');
    w.close();
  });

  it('ends the stream cleanly after timeoutSeconds', async () => {
    const s = await server({ msPerSecond: 20 });
    const w = await openWatch(s.url, `${SERVICES}?watch=true&timeoutSeconds=2`);
    const started = Date.now();
    assert.equal(await within(w.ended, 2000, 'watch timeout'), 'end');
    assert.ok(Date.now() - started >= 30, 'not before 2 scaled seconds');
    assert.equal(s.watchCount(), 0);
  });

  it('ends every watch on closeWatches() and counts watches per resource', async () => {
    const s = await server();
    const a = await openWatch(s.url, `${SERVICES}?watch=true`);
    const b = await openWatch(s.url, '/api/v1/namespaces/default/services?watch=true');
    const c = await openWatch(s.url, '/api/v1/nodes?watch=true');
    assert.equal(s.watchCount(), 3);
    assert.equal(s.watchCount(SERVICES), 1);
    assert.equal(s.watchCount('/api/v1/namespaces/default/services'), 1);
    assert.equal(s.watchCount('api/v1/nodes'), 1);
    s.closeWatches();
    assert.deepEqual(await within(Promise.all([a.ended, b.ended, c.ended]), 2000, 'watch ends'), ['end', 'end', 'end']);
    assert.equal(s.watchCount(), 0);
  });

  it('rejects a malformed selector or resourceVersion on a watch with 400', async () => {
    const s = await server();
    assert.equal((await call(s.url, 'GET', `${SERVICES}?watch=true&labelSelector=${encodeURIComponent('a in b')}`)).status, 400);
    assert.equal((await call(s.url, 'GET', `${SERVICES}?watch=true&resourceVersion=abc`)).status, 400);
  });
});
