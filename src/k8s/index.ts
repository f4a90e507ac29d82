// Public API of src/k8s (client-node is imported only by kubeconfig-helper.ts, a child process). See README.md.
export { createKubeClient, LEASE_RATE_LIMIT, type KubeClient, type KubeClientOptions } from './client.js';
export {
  loadClusterAccess,
  resolveNamespace,
  ClusterAccessError,
  DEFAULT_NAMESPACE,
  DEFAULT_IN_CLUSTER_PATHS,
  type ClusterAccess,
  type ClusterAccessOptions,
  type InClusterPaths,
  type TlsOptions,
} from './config.js';
export { TokenBucket, validateRateLimit, DEFAULT_KUBE_API_QPS, DEFAULT_KUBE_API_BURST, type RateLimit } from './rate-limit.js';
export { RestClient, HttpTransport, KubeApiError, isNotFound, isAlreadyExists, isConflict, isGone, type RequestOptions, type WatchHandle, type RawWatchEvent } from './rest.js';
export { Informer, INFORMER_BACKOFF, type InformerHandlers, type InformerOptions, type RestartReason } from './informer.js';
export { WorkQueue, Requeue, WORKQUEUE_BACKOFF, type WorkQueueOptions } from './workqueue.js';
export { KubeApi, paths, MEMBERLIST_SECRET, MEMBERLIST_SECRET_KEY, LEADER_LEASE, type InformerDeps } from './resources.js';
export { EventRecorder, EventReason, referenceOf, type EventType, type EventRecorderOptions } from './events.js';
export { LeaderElector, observedOf, type LeaderElectorOptions, type LeaderStatus } from './leader.js';
export {
  step as leaderStep,
  isLeader,
  validateLeaderConfig,
  DEFAULT_LEADER_TIMING,
  INITIAL_ELECTION,
  type LeaderConfig,
  type ElectionState,
  type ElectionEvent,
  type ElectionAction,
  type StopReason,
} from './leader-fsm.js';
export { NOOP_K8S_METRICS, type K8sMetrics } from './metrics.js';
export * from './types.js';
