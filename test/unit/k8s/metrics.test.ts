// K8sClientMetrics (src/metrics/registry.ts) implements src/k8s's K8sMetrics with MetalLB's and ingot's names.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { K8sClientMetrics, Registry } from '../../../src/metrics/registry.js';
import type { K8sMetrics } from '../../../src/k8s/metrics.js';

describe('K8sClientMetrics', () => {
  it('exposes the update counters, informer restarts, queue depth and the leader gauge', async () => {
    const registry = new Registry();
    const m: K8sMetrics = new K8sClientMetrics({ registry, leaderElection: true });
    m.workItemProcessed('services', false);
    m.workItemProcessed('services', true);
    m.setQueueDepth('services', 7);
    m.informerRestarted('services', 'expired');
    m.informerRestarted('services', 'expired');
    m.setLeader(true);
    const text = await registry.metrics();
    for (const line of [
      'metallb_k8s_client_updates_total 2',
      'metallb_k8s_client_update_errors_total 1',
      'ingot_workqueue_depth{queue="services"} 7',
      'ingot_k8s_informer_restarts_total{resource="services",reason="expired"} 2',
      'ingot_leader 1',
    ]) {
      assert.ok(text.split('\n').includes(line), `missing ${line} in\n${text}`);
    }
  });

  it('the update counters exist at 0 from the start; the speaker registers no leader gauge', async () => {
    const registry = new Registry();
    new K8sClientMetrics({ registry });
    const text = await registry.metrics();
    assert.ok(text.includes('metallb_k8s_client_updates_total 0'));
    assert.ok(text.includes('metallb_k8s_client_update_errors_total 0'));
    assert.ok(!text.includes('ingot_leader'));
  });
});
