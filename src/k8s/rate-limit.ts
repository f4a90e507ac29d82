// Client-side rate limiting of every request this process makes to the API server (`--kube-api-qps`,
// `--kube-api-burst`), as client-go's token bucket does: `burst` requests may go at once, after that one every
// 1/qps seconds. Without it, a relist storm (every watch dropped, 410 on every resume) or a burst of 10,000
// status writes would hammer the API server; with it they queue here.
//
// The bucket is pure arithmetic on an injected clock: reserve() takes a token now (the count may go negative)
// and says how long the caller must wait for it, so waiters are served in arrival order, like Go's
// rate.Limiter.Wait.
import type { Clock } from './primitives.js';

export const DEFAULT_KUBE_API_QPS = 50;
export const DEFAULT_KUBE_API_BURST = 100;

export interface RateLimit {
  /** Sustained requests per second (> 0). */
  readonly qps: number;
  /** Requests allowed at once after an idle period (integer >= 1). */
  readonly burst: number;
}

/** Throws a RangeError naming the flag and value when a limit is unusable. */
export function validateRateLimit(limit: RateLimit): void {
  if (!(Number.isFinite(limit.qps) && limit.qps > 0)) throw new RangeError(`--kube-api-qps: want a number > 0, got ${String(limit.qps)}`);
  if (!(Number.isInteger(limit.burst) && limit.burst >= 1)) throw new RangeError(`--kube-api-burst: want an integer >= 1, got ${String(limit.burst)}`);
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly limit: RateLimit,
    private readonly clock: Clock,
  ) {
    validateRateLimit(limit);
    this.tokens = limit.burst;
    this.last = clock.now();
  }

  /** Takes one token and returns the milliseconds to wait before using it (0 when one was available). */
  reserve(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) * this.limit.qps) / 1000);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.limit.qps;
  }

  /** Tokens available now (negative while callers wait). */
  available(): number {
    const now = this.clock.now();
    return Math.min(this.limit.burst, this.tokens + ((now - this.last) * this.limit.qps) / 1000);
  }

  /** Resolves when the caller may send its request. */
  acquire(): Promise<void> {
    const wait = this.reserve();
    if (wait <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.clock.setTimeout(resolve, Math.ceil(wait));
    });
  }
}
