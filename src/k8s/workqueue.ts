// A keyed, de-duplicating work queue processed one key at a time, with per-key exponential backoff on failure:
// client-go's rate-limited workqueue with a single worker, which is what MetalLB's controller runs.
//
// - add(key) of a key already waiting is a no-op (informer bursts collapse into one sync per key).
// - add(key) while that key is being processed marks it dirty: it is queued again when the current run ends,
//   so a change that arrived mid-sync is never lost and the same key never runs twice at once.
// - A failed run (the handler throws) schedules the key again after baseDelay(failures) with jitter; an add()
//   meanwhile queues it at once (new information beats waiting). A successful run forgets the failures.
// - Items are processed in FIFO order. `depth` counts keys waiting to run (not the one running, not the ones
//   sleeping in backoff), like client-go's workqueue_depth.
//
// Timers come from the injected Clock, so the whole thing is tested with a FakeClock.
import type { Logger } from '../log.js';
import type { K8sMetrics } from './metrics.js';
import { nextDelay, type BackoffPolicy, type Clock, type TimerHandle } from './primitives.js';

/** Throw this from a handler to retry with backoff without an error-level log line (e.g. the sync gate). */
export class Requeue extends Error {
  override name = 'Requeue';
}

export interface WorkQueueOptions {
  /** `ingot_workqueue_depth{queue}` label and log field. */
  name: string;
  clock: Clock;
  logger: Logger;
  metrics: K8sMetrics;
  /** Processes one key; throwing retries it after a backoff. */
  handler: (key: string) => Promise<void> | void;
  /** Per-key retry backoff; default WORKQUEUE_BACKOFF. */
  policy?: BackoffPolicy;
  random?: () => number;
}

/** 5 ms doubling up to 5 min (client-go: 5 ms to 1000 s), 10 % jitter. stableMs is unused here. */
export const WORKQUEUE_BACKOFF: BackoffPolicy = Object.freeze({ initialMs: 5, maxMs: 300_000, multiplier: 2, jitter: 0.1, stableMs: 0 });

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly backoffTimers = new Map<string, TimerHandle>();
  private processing: string | undefined;
  private dirty = false;
  private shuttingDown = false;
  private running: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];
  private readonly policy: BackoffPolicy;
  private readonly random: () => number;
  private readonly log: Logger;

  constructor(private readonly opts: WorkQueueOptions) {
    this.policy = opts.policy ?? WORKQUEUE_BACKOFF;
    this.random = opts.random ?? Math.random;
    this.log = opts.logger.with({ queue: opts.name });
    opts.metrics.setQueueDepth(opts.name, 0);
  }

  /** Queues a key unless it is already waiting; a key being processed is re-run after its current run. */
  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing === key) {
      this.dirty = true;
      return;
    }
    const t = this.backoffTimers.get(key);
    if (t !== undefined) {
      this.opts.clock.clearTimeout(t);
      this.backoffTimers.delete(key);
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.depthChanged();
    this.kick();
  }

  /** Queues a key after `ms` (an add() meanwhile queues it at once). */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    if (this.queued.has(key) || this.backoffTimers.has(key)) return;
    this.backoffTimers.set(
      key,
      this.opts.clock.setTimeout(() => {
        this.backoffTimers.delete(key);
        this.add(key);
      }, ms),
    );
  }

  /** Forgets a key's failure count (the next failure starts the backoff again). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Consecutive failures of a key. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  get depth(): number {
    return this.queue.length;
  }

  /** Keys sleeping in backoff. */
  get waiting(): number {
    return this.backoffTimers.size;
  }

  get current(): string | undefined {
    return this.processing;
  }

  /** Resolves when nothing is queued or running (keys in backoff do not count). */
  idle(): Promise<void> {
    if (this.processing === undefined && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking keys and cancels backoff timers; resolves after the running key (if any) finishes. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const t of this.backoffTimers.values()) this.opts.clock.clearTimeout(t);
    this.backoffTimers.clear();
    this.queue.length = 0;
    this.queued.clear();
    this.depthChanged();
    await this.running;
    this.notifyIdle();
  }

  private kick(): void {
    if (this.running !== undefined) return;
    // Start on a later microtask, so a synchronous burst of adds (an informer relist) collapses first.
    this.running = Promise.resolve()
      .then(() => this.drain())
      .finally(() => {
        this.running = undefined;
        // An add() during the last await of drain() saw `running` set and relied on this loop.
        if (this.queue.length > 0 && !this.shuttingDown) this.kick();
        else this.notifyIdle();
      });
  }

  private async drain(): Promise<void> {
    for (;;) {
      const key = this.queue.shift();
      if (key === undefined || this.shuttingDown) return;
      this.queued.delete(key);
      this.depthChanged();
      this.processing = key;
      this.dirty = false;
      let failed = false;
      try {
        await this.opts.handler(key);
      } catch (err) {
        failed = true;
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        const delay = nextDelay(this.policy, { failures: n, establishedAt: undefined }, this.random());
        const fields = { key, retries: n, retryInMs: delay, error: err instanceof Error ? err.message : String(err) };
        if (err instanceof Requeue) this.log.debug('workItemRequeued', fields);
        else this.log.warn('workItemFailed', fields);
        this.processing = undefined;
        if (this.dirty) this.add(key);
        else this.addAfter(key, delay);
      }
      if (!failed) {
        this.failures.delete(key);
        this.processing = undefined;
        if (this.dirty) this.add(key);
      }
      this.opts.metrics.workItemProcessed(this.opts.name, failed);
    }
  }

  private depthChanged(): void {
    this.opts.metrics.setQueueDepth(this.opts.name, this.queue.length);
  }

  private notifyIdle(): void {
    if (this.processing !== undefined || this.queue.length > 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }
}
