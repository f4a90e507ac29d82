// Wiring: cluster access + one token bucket + the REST client + the typed helpers, as one handle a component
// creates at startup and closes at shutdown.
import { loadClusterAccess, type ClusterAccess, type ClusterAccessOptions } from './config.js';
import { systemClock, type Clock } from './primitives.js';
import { DEFAULT_KUBE_API_BURST, DEFAULT_KUBE_API_QPS, TokenBucket } from './rate-limit.js';
import { KubeApi } from './resources.js';
import { RestClient } from './rest.js';

export interface KubeClientOptions extends ClusterAccessOptions {
  /** `--kube-api-qps` (default 50). */
  qps?: number;
  /** `--kube-api-burst` (default 100). */
  burst?: number;
  clock?: Clock;
  userAgent?: string;
  requestTimeoutMs?: number;
}

export interface KubeClient {
  readonly access: ClusterAccess;
  readonly namespace: string;
  readonly limiter: TokenBucket;
  readonly rest: RestClient;
  readonly api: KubeApi;
  /** Closes pooled connections (after informers and electors are stopped). */
  close(): Promise<void>;
}

/** Loads cluster access (throws ClusterAccessError with a precise message) and builds the client. No I/O to the server. */
export function createKubeClient(opts: KubeClientOptions = {}): KubeClient {
  const access = loadClusterAccess(opts);
  const clock = opts.clock ?? systemClock({ unref: true });
  const limiter = new TokenBucket({ qps: opts.qps ?? DEFAULT_KUBE_API_QPS, burst: opts.burst ?? DEFAULT_KUBE_API_BURST }, clock);
  const rest = new RestClient(access.kubeConfig, {
    limiter,
    ...(opts.userAgent !== undefined ? { userAgent: opts.userAgent } : {}),
    ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
  });
  return {
    access,
    namespace: access.namespace,
    limiter,
    rest,
    api: new KubeApi(rest),
    close: () => access.kubeConfig.closeConnections(),
  };
}
