// The injectable clock of every component with timers: the BGP session driver (RFC 4271 §8's
// ConnectRetryTimer, HoldTimer, KeepaliveTimer plus the Idle backoff), the speaker, the standalone mode's
// file debounce, and later the Kubernetes informers and Layer 2. Making time a dependency lets every timer
// path be tested with a fake clock instead of sleeping (see test/helpers/fake-clock.ts).

/** Opaque handle returned by Clock.setTimeout. */
export interface TimerHandle {
  readonly __timer: true;
}

export interface Clock {
  /** Monotonic milliseconds. Only differences are meaningful (never compare with Date.now()). */
  now(): number;
  /** Calls fn once after ms milliseconds (ms is clamped to >= 0). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a pending timer; harmless for a timer that already fired or was cleared. */
  clearTimeout(handle: TimerHandle): void;
}

interface RealHandle extends TimerHandle {
  readonly timeout: ReturnType<typeof globalThis.setTimeout>;
}

/**
 * The real clock: performance.now() (monotonic, immune to wall-clock steps, which matters for hold timers)
 * and the Node timers. Timers are unref()'d when `unref` is set so that a speaker's timers alone do not keep a
 * process alive (the sockets do).
 */
export function systemClock(opts: { unref?: boolean } = {}): Clock {
  return {
    now: () => performance.now(),
    setTimeout(fn, ms) {
      const timeout = globalThis.setTimeout(fn, Math.max(0, ms));
      if (opts.unref) timeout.unref();
      const h: RealHandle = { __timer: true, timeout };
      return h;
    },
    clearTimeout(handle) {
      globalThis.clearTimeout((handle as RealHandle).timeout);
    },
  };
}
