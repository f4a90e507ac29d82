// The Kubernetes events MetalLB's controller emits for allocation outcomes (metallb-compat.md §2.9), as
// values, so the controller only has to post them. Texts are MetalLB's, so `kubectl get events` reads the
// same after a migration. Emit them on changes only: MetalLB re-emits on every resync, which is its event spam.
import type { AllocationResult, FailureReason } from './types.js';
import { quoteList } from './service.js';

export interface AllocationEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: 'IPAllocated' | 'AllocationFailed' | 'LoadBalancerFailed';
  readonly message: string;
}

// Failures MetalLB reports before allocating (the request itself is unusable) rather than as allocation
// failures.
const REQUEST_PROBLEMS: ReadonlySet<FailureReason> = new Set(['invalidAnnotation', 'invalidLoadBalancerIP']);

export function allocationEvent(serviceKey: string, r: AllocationResult): AllocationEvent {
  if (r.ok) {
    if (r.warning !== undefined) return { type: 'Warning', reason: 'LoadBalancerFailed', message: r.warning };
    return { type: 'Normal', reason: 'IPAllocated', message: `Assigned IP ${quoteList(r.ips)}` };
  }
  if (REQUEST_PROBLEMS.has(r.reason)) {
    return { type: 'Warning', reason: 'LoadBalancerFailed', message: `invalid requested loadbalancer IPs: ${r.message}` };
  }
  return { type: 'Warning', reason: 'AllocationFailed', message: `Failed to allocate IP for ${JSON.stringify(serviceKey)}: ${r.message}` };
}
