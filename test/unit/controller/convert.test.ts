// serviceFromObject: the one converter for informer objects and cluster files (src/plan/cluster.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCluster, serviceFromObject } from '../../../src/plan/cluster.js';
import { service } from './support.js';

test('serviceFromObject reads a wire Service as parseCluster reads the same object from a file', () => {
  const obj = service('web', { ns: 'shop', status: ['10.0.0.7'], annotations: { 'metallb.universe.tf/address-pool': 'p' } });
  const r = serviceFromObject(obj);
  assert.ok(r.ok);
  const file = parseCluster(JSON.stringify(obj));
  assert.ok(file.ok);
  assert.deepEqual(r.service, file.cluster.services[0]);
  assert.equal(r.service.key, 'shop/web');
  assert.deepEqual(r.service.statusIPs, ['10.0.0.7']);
});

test('serviceFromObject names the object and the field of a malformed Service; never throws', () => {
  const bad = serviceFromObject({ metadata: { name: 'x', namespace: 'n' }, spec: { ports: [{ port: 'http' }] } });
  assert.deepEqual(bad, { ok: false, error: 'Service n/x: spec.ports[0].port: want an integer 1-65535, got "http"' });
  const notObj = serviceFromObject('nope');
  assert.equal(notObj.ok, false);
  assert.match(notObj.ok ? '' : notObj.error, /want a Kubernetes object/);
});
