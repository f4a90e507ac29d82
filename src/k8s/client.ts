// Wiring: cluster access + one token bucket + the REST client + the typed helpers, as one handle a component
// creates at startup and closes at shutdown.
import { loadClusterAccess, type ClusterAccess, type ClusterAccessOptions } from './config.js';
import { systemClock, type Clock } from './primitives.js';
import { DEFAULT_KUBE_API_BURST, DEFAULT_KUBE_API_QPS, TokenBucket } from './rate-limit.js';
import { KubeApi } from './resources.js';
import { HttpTransport, RestClient } from './rest.js';

/** 2 requests per retry period (GET + PUT) need 1 qps; this leaves room for a conflict retry and a release. */
export const LEASE_RATE_LIMIT = Object.freeze({ qps: 5, burst: 10 });

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
  /**
   * For the LeaderElector only: the same connection and credentials behind a separate small bucket
   * (LEASE_RATE_LIMIT), so Lease renewals never queue behind a burst of status writes and Events —
   * controller-runtime gives leader election its own client for the same reason.
   */
  readonly leaseApi: KubeApi;
  /** Closes pooled connections (after informers and electors are stopped). */
  close(): Promise<void>;
}

/** Loads cluster access (throws ClusterAccessError with a precise message) and builds the client. No I/O to the server. */
export function createKubeClient(opts: KubeClientOptions = {}): KubeClient {
  const access = loadClusterAccess(opts);
  const clock = opts.clock ?? systemClock({ unref: true });
  const limiter = new TokenBucket({ qps: opts.qps ?? DEFAULT_KUBE_API_QPS, burst: opts.burst ?? DEFAULT_KUBE_API_BURST }, clock);
  const transport = new HttpTransport(access);
  const rest = new RestClient(transport, {
    limiter,
    ...(opts.userAgent !== undefined ? { userAgent: opts.userAgent } : {}),
    ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
  });
  const leaseRest = new RestClient(transport, {
    limiter: new TokenBucket(LEASE_RATE_LIMIT, clock),
    ...(opts.userAgent !== undefined ? { userAgent: opts.userAgent } : {}),
    ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
  });
  return {
    access,
    namespace: access.namespace,
    limiter,
    rest,
    api: new KubeApi(rest),
    leaseApi: new KubeApi(leaseRest),
    close: async () => transport.close(),
  };
}
