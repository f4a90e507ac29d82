import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocationEvent } from '../../../src/allocator/events.js';

test('allocation outcomes map to MetalLB event reasons and texts', () => {
  assert.deepEqual(allocationEvent('ns/a', { ok: true, ips: ['10.0.0.1', 'fd00::1'], pool: 'p' }), {
    type: 'Normal',
    reason: 'IPAllocated',
    message: 'Assigned IP ["10.0.0.1" "fd00::1"]',
  });
  assert.deepEqual(allocationEvent('ns/a', { ok: false, reason: 'poolExhausted', message: 'no available IPs' }), {
    type: 'Warning',
    reason: 'AllocationFailed',
    message: 'Failed to allocate IP for "ns/a": no available IPs',
  });
  assert.deepEqual(allocationEvent('ns/a', { ok: false, reason: 'invalidLoadBalancerIP', message: 'invalid spec.loadBalancerIP "x"' }), {
    type: 'Warning',
    reason: 'LoadBalancerFailed',
    message: 'invalid requested loadbalancer IPs: invalid spec.loadBalancerIP "x"',
  });
  const kept = allocationEvent('ns/a', { ok: true, ips: ['10.0.0.1'], pool: 'p', warning: 'invalid requested loadbalancer IPs: bad' });
  assert.equal(kept.reason, 'LoadBalancerFailed');
  assert.equal(kept.message, 'invalid requested loadbalancer IPs: bad');
});
