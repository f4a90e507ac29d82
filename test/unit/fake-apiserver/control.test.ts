// The fake API server's test-control API: store changes made "as another client", fault injection, the request
// log, kubeconfig(), and close() leaving nothing that keeps a process alive.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startFakeApiServer } from '../../helpers/fake-apiserver.js';
import { asStatus, call, fakeServers, openWatch, svc, within } from './client.js';

const server = fakeServers();

const SERVICES = '/api/v1/namespaces/default/services';

describe('store control', () => {
  it('seed/set/remove change the store like a client: RV bumps and watch events', async () => {
    const s = await server();
    const w = await openWatch(s.url, '/api/v1/services?watch=true&resourceVersion=1');
    await s.waitForWatches(1, '/api/v1/services');
    const [a] = s.seed('api/v1/services', svc('a'));
    assert.equal(a?.metadata.resourceVersion, s.resourceVersion);
    assert.throws(() => s.seed('/api/v1/services', svc('a')), /already exists/);
    const updated = s.set(SERVICES, { ...svc('a'), status: { loadBalancer: { ingress: [{ ip: '192.0.2.3' }] } } });
    assert.deepEqual(updated.status, { loadBalancer: { ingress: [{ ip: '192.0.2.3' }] } }, 'set() writes status too');
    assert.equal(updated.metadata.uid, a?.metadata.uid);
    assert.equal(s.remove(SERVICES, 'a'), true);
    assert.equal(s.remove(SERVICES, 'a'), false);
    const types = [await w.next(), await w.next(), await w.next()].map((e) => `${e.type} ${e.object.metadata?.resourceVersion ?? ''}`);
    const rv = Number(s.resourceVersion);
    assert.deepEqual(types, [`ADDED ${rv - 2}`, `MODIFIED ${rv - 1}`, `DELETED ${rv}`]);
    w.close();
  });

  it('get/list read the store without going through HTTP and return copies', async () => {
    const s = await server();
    s.seed('/api/v1/services', svc('b', 'x'), svc('a', 'x'), svc('c', 'y'));
    s.seed('/api/v1/nodes', { kind: 'Node', metadata: { name: 'n1' } });
    assert.deepEqual(s.list('/api/v1/services').map((o) => o.metadata.name), ['a', 'b', 'c']);
    assert.deepEqual(s.list('/api/v1/services', 'x').map((o) => o.metadata.name), ['a', 'b']);
    assert.deepEqual(s.list('/api/v1/namespaces/y/services').map((o) => o.metadata.name), ['c']);
    assert.equal(s.get('/api/v1/nodes', 'n1')?.metadata.generation, 1);
    const copy = s.get('/api/v1/services', 'a', 'x');
    if (copy) copy.metadata.name = 'mutated';
    assert.equal(s.get('/api/v1/services', 'a', 'x')?.metadata.name, 'a');
    assert.equal(s.get('/api/v1/services', 'a', 'y'), undefined);
    assert.throws(() => s.list('/api/v1/namespaces/x/services/a'), /not a resource collection path/);
  });

  it('starts at initialResourceVersion and stamps creationTimestamp from the injected clock', async () => {
    const s = await server({ initialResourceVersion: 500, now: () => new Date('2026-11-22T05:00:00.123Z') });
    assert.equal(s.resourceVersion, '500');
    const [node] = s.seed('/api/v1/nodes', { metadata: { name: 'n1' } });
    assert.equal(node?.metadata.resourceVersion, '501');
    assert.equal(node?.metadata.creationTimestamp, '2026-11-22T05:00:00Z');
  });

  it('waitForWatches rejects after its timeout when nobody watches', async () => {
    const s = await server();
    await assert.rejects(s.waitForWatches(1, '/api/v1/nodes', 20), /timed out after 20 ms/);
  });

  it('kubeconfig() points at the server with token auth and skipTLSVerify for plain HTTP', async () => {
    const s = await server();
    assert.deepEqual(s.kubeconfig('ingot-system'), {
      clusters: [{ name: 'fake', server: s.url, skipTLSVerify: true }],
      users: [{ name: 'fake', token: s.adminToken }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', namespace: 'ingot-system' }],
      currentContext: 'fake',
    });
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(s.url, `http://127.0.0.1:${s.port}`);
  });
});

describe('fault injection', () => {
  it('answers the next matching request with an error Status, then behaves normally', async () => {
    const s = await server();
    s.seed(SERVICES, svc('a'));
    s.injectFault({ method: 'put', path: '/services/a', fault: { type: 'status', code: 503 } });
    s.injectFault({ path: /labelSelector=x/, times: 2, fault: { type: 'status', code: 500, reason: 'InternalError', message: 'etcd is sad' } });
    assert.equal((await call(s.url, 'GET', `${SERVICES}/a`)).status, 200, 'GET does not match a PUT fault');
    const put = await call(s.url, 'PUT', `${SERVICES}/a`, svc('a'));
    assert.equal(put.status, 503);
    assert.equal(asStatus(put).reason, 'ServiceUnavailable');
    assert.equal((await call(s.url, 'PUT', `${SERVICES}/a`, svc('a'))).status, 200);
    for (let i = 0; i < 2; i++) {
      const r = await call(s.url, 'GET', `${SERVICES}?labelSelector=x`);
      assert.deepEqual([r.status, asStatus(r).message], [500, 'etcd is sad']);
    }
    assert.equal((await call(s.url, 'GET', `${SERVICES}?labelSelector=x`)).status, 200);
  });

  it('delays a request, then handles it', async () => {
    const s = await server();
    s.injectFault({ watch: false, fault: { type: 'delay', ms: 40 } });
    const started = Date.now();
    const r = await call(s.url, 'POST', SERVICES, svc('a'));
    assert.equal(r.status, 201);
    assert.ok(Date.now() - started >= 35, 'the response waited for the delay');
  });

  it('aborts a request before any response, or a watch after its headers', async () => {
    const s = await server();
    s.injectFault({ watch: false, fault: { type: 'abort' } });
    await assert.rejects(fetch(`${s.url}${SERVICES}`));
    s.injectFault({ watch: true, fault: { type: 'abort' } });
    const w = await openWatch(s.url, `${SERVICES}?watch=true`);
    assert.equal(w.statusCode, 200);
    assert.equal(await within(w.ended, 2000, 'aborted watch'), 'aborted');
    assert.equal(s.watchCount(), 0);
  });

  it('turns a watchExpired fault on a non-watch request into an HTTP 410', async () => {
    const s = await server();
    s.injectFault({ fault: { type: 'watchExpired' } });
    const r = await call(s.url, 'GET', SERVICES);
    assert.deepEqual([r.status, asStatus(r).reason], [410, 'Expired']);
  });
});

describe('request log', () => {
  it('records method, path with query, content type and status of every request', async () => {
    const s = await server();
    await call(s.url, 'POST', SERVICES, svc('a'));
    await call(s.url, 'PATCH', `${SERVICES}/a/status`, { status: {} }, 'application/merge-patch+json');
    await call(s.url, 'GET', `${SERVICES}/zzz`);
    const w = await openWatch(s.url, `${SERVICES}?watch=true&resourceVersion=0`);
    w.close();
    assert.deepEqual(s.requests, [
      { method: 'POST', path: SERVICES, contentType: 'application/json', status: 201 },
      { method: 'PATCH', path: `${SERVICES}/a/status`, contentType: 'application/merge-patch+json', status: 200 },
      { method: 'GET', path: `${SERVICES}/zzz`, contentType: '', status: 404 },
      { method: 'GET', path: `${SERVICES}?watch=true&resourceVersion=0`, contentType: '', status: 200 },
    ]);
  });
});

describe('close()', () => {
  it('ends open watches and stops accepting connections', async () => {
    const s = await startFakeApiServer();
    const w = await openWatch(s.url, '/api/v1/services?watch=true');
    await within(s.close(), 2000, 'close()');
    assert.notEqual(await within(w.ended, 2000, 'watch end'), undefined);
    await assert.rejects(fetch(`${s.url}/api/v1/services`));
  });

  it('leaves no handle open: a process that used it exits by itself', async () => {
    const helper = fileURLToPath(new URL('../../helpers/fake-apiserver.ts', import.meta.url));
    // Opens a watch, leaves a delayed request pending and a bookmark timer running, then only calls close().
    const script = `
      import * as http from 'node:http';
      const { startFakeApiServer } = await import(${JSON.stringify(helper)});
      const s = await startFakeApiServer({ bookmarkIntervalMs: 60000 });
      await new Promise((resolve) => http.get(s.url + '/api/v1/services?watch=true&allowWatchBookmarks=true', resolve).on('error', () => {}));
      s.injectFault({ fault: { type: 'delay', ms: 60000 } });
      fetch(s.url + '/api/v1/nodes').catch(() => {});
      while (s.requests.length < 2) await new Promise((resolve) => setImmediate(resolve));
      await s.close();
      process.stdout.write('closed');
    `;
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 8000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
      });
      child.stdin?.end();
    });
    assert.equal(result.stdout, 'closed', result.stderr);
    assert.equal(result.code, 0, `exited by itself (not killed at the timeout): ${result.stderr}`);
  });
});
