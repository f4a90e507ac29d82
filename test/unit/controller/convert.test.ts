// serviceFromObject: the one converter for informer objects and cluster files (src/plan/cluster.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterError, parseCluster, serviceFromObject } from '../../../src/plan/cluster.js';
import { service } from './support.js';

test('serviceFromObject reads a wire Service as parseCluster reads the same object from a file', () => {
  const obj = service('web', { ns: 'shop', status: ['10.0.0.7'], annotations: { 'metallb.universe.tf/address-pool': 'p' } });
  const svc = serviceFromObject(obj, 'Service shop/web');
  const file = parseCluster(JSON.stringify(obj));
  assert.ok(file.ok);
  assert.deepEqual(svc, file.cluster.services[0]);
  assert.equal(svc.key, 'shop/web');
  assert.deepEqual(svc.statusIPs, ['10.0.0.7']);
});

test('serviceFromObject names the object and the field of a malformed Service (ClusterError)', () => {
  assert.throws(
    () => serviceFromObject({ metadata: { name: 'x', namespace: 'n' }, spec: { ports: [{ port: 'http' }] } }, 'Service n/x'),
    (e: unknown) => e instanceof ClusterError && e.message === 'Service n/x: spec.ports[0].port: want an integer 1-65535, got "http"',
  );
});
