// ControllerMetrics: MetalLB's allocator and config series, ingot_leader, and series removed with their pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerMetrics } from '../../../src/metrics/registry.js';

test('ControllerMetrics: per-pool gauges (families summed), removal of a gone pool, config bools, leader', async () => {
  const m = new ControllerMetrics();
  let text = await m.metrics();
  assert.match(text, /^metallb_k8s_client_config_loaded_bool 0$/m);
  assert.match(text, /^metallb_k8s_client_config_stale_bool 0$/m);
  assert.match(text, /^ingot_leader 0$/m);
  assert.match(text, /^metallb_k8s_client_updates_total 0$/m);
  m.setPools([
    { pool: 'a', capacity: 256, inUse: 3 },
    { pool: 'a', capacity: 2n ** 64n, inUse: 1 },
    { pool: 'b', capacity: 4, inUse: 0 },
  ]);
  m.setConfigState(true, true);
  m.k8s.setLeader(true);
  m.k8s.workItemProcessed('controller', true);
  text = await m.metrics();
  assert.match(text, /^metallb_allocator_addresses_in_use_total\{pool="a"\} 4$/m);
  assert.match(text, /^metallb_allocator_addresses_total\{pool="a"\} 18446744073709552000$/m);
  assert.match(text, /^metallb_allocator_addresses_total\{pool="b"\} 4$/m);
  assert.match(text, /^metallb_k8s_client_config_loaded_bool 1$/m);
  assert.match(text, /^metallb_k8s_client_config_stale_bool 1$/m);
  assert.match(text, /^ingot_leader 1$/m);
  assert.match(text, /^metallb_k8s_client_update_errors_total 1$/m);
  m.setPools([{ pool: 'b', capacity: 4, inUse: 1 }]);
  text = await m.metrics();
  assert.doesNotMatch(text, /pool="a"/);
  assert.match(text, /^metallb_allocator_addresses_in_use_total\{pool="b"\} 1$/m);
});
