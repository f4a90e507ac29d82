// What this layer reports, as an interface: the Prometheus side (src/metrics/registry.ts K8sClientMetrics, the
// only prom-client importer) implements it; tests and tools use NOOP_K8S_METRICS or a recording fake.

export interface K8sMetrics {
  /** A work-queue item was processed (`metallb_k8s_client_updates_total`); `failed` when it will be retried
   *  (`metallb_k8s_client_update_errors_total`), as MetalLB counts them. */
  workItemProcessed(queue: string, failed: boolean): void;
  /** Keys waiting to be processed (`ingot_workqueue_depth{queue}`). */
  setQueueDepth(queue: string, depth: number): void;
  /** An informer relisted after an error or a 410 (`ingot_k8s_informer_restarts_total{resource,reason}`). */
  informerRestarted(resource: string, reason: 'error' | 'expired'): void;
  /** This replica holds the leader Lease (`ingot_leader` 1/0). */
  setLeader(leader: boolean): void;
}

export const NOOP_K8S_METRICS: K8sMetrics = Object.freeze({
  workItemProcessed: () => undefined,
  setQueueDepth: () => undefined,
  informerRestarted: () => undefined,
  setLeader: () => undefined,
});
