// Backoff between automatic restarts of a BGP session (the delay spent in Idle before the next
// AutomaticStart, RFC 4271 §8.1.1 "IdleHoldTime"/DampPeerOscillations in spirit).
//
// Why it exists: MetalLB's native speaker reset its backoff every time it read the peer's OPEN, before the
// peer had confirmed anything, so a router answering our OPEN with a NOTIFICATION (Bad Peer AS,
// Administrative Shutdown) produced a tight reconnect loop at 100% CPU (metallb-compat.md §3.3, MetalLB issues
// #780/#1114). Here the attempt count only goes back to zero when a session *stayed* Established for
// `stableMs`; any shorter life — refused OPEN, NOTIFICATION right after, hold timer expiry a second later —
// counts as one more failure and the delay keeps growing up to the cap.
//
// Everything here is pure: the caller supplies `now` (from its Clock) and a uniform random sample.

export interface BackoffPolicy {
  /** Delay after the first failure (ms). */
  readonly initialMs: number;
  /** Upper bound of any delay (ms); jitter never pushes a delay above it. */
  readonly maxMs: number;
  /** Growth factor per consecutive failure (>= 1). */
  readonly multiplier: number;
  /**
   * Fraction in [0, 1]: a delay is drawn uniformly from [base × (1 − jitter), base]. Jitter spreads the
   * reconnects of many speakers after a router restart so they do not hit it in lock-step.
   */
  readonly jitter: number;
  /** A session must stay Established at least this long (ms) before the failure count resets. */
  readonly stableMs: number;
}

/** Defaults: 1 s, 2 s, 4 s … capped at 2 min (MetalLB's cap), 25 % jitter, reset after 30 s Established. */
export const DEFAULT_BACKOFF_POLICY: BackoffPolicy = Object.freeze({
  initialMs: 1_000,
  maxMs: 120_000,
  multiplier: 2,
  jitter: 0.25,
  stableMs: 30_000,
});

export interface BackoffState {
  /** Consecutive failures since the last reset; 0 means the next start is immediate. */
  readonly failures: number;
  /** Clock time the current session reached Established, if it is Established now. */
  readonly establishedAt: number | undefined;
}

export const INITIAL_BACKOFF: BackoffState = Object.freeze({ failures: 0, establishedAt: undefined });

export function validatePolicy(p: BackoffPolicy): void {
  const bad = (what: string): never => {
    throw new RangeError(`backoff policy: ${what}`);
  };
  if (!(p.initialMs >= 0) || !Number.isFinite(p.initialMs)) bad('initialMs must be a finite number >= 0');
  if (!(p.maxMs >= p.initialMs) || !Number.isFinite(p.maxMs)) bad('maxMs must be finite and >= initialMs');
  if (!(p.multiplier >= 1) || !Number.isFinite(p.multiplier)) bad('multiplier must be finite and >= 1');
  if (!(p.jitter >= 0 && p.jitter <= 1)) bad('jitter must be within [0, 1]');
  if (!(p.stableMs >= 0) || !Number.isFinite(p.stableMs)) bad('stableMs must be a finite number >= 0');
}

/** The un-jittered delay after `failures` consecutive failures: 0, initial, initial×m, … capped at max. */
export function baseDelay(policy: BackoffPolicy, failures: number): number {
  if (failures <= 0) return 0;
  // Cap the exponent first so a long-failing peer never overflows to Infinity.
  let d = policy.initialMs;
  for (let i = 1; i < failures && d < policy.maxMs; i++) d *= policy.multiplier;
  return Math.min(d, policy.maxMs);
}

/**
 * The delay before the next automatic start. `u` is a uniform sample in [0, 1) (Math.random in production,
 * fixed values in tests). The result lies in [base × (1 − jitter), base], so it never exceeds maxMs.
 */
export function nextDelay(policy: BackoffPolicy, state: BackoffState, u: number): number {
  const base = baseDelay(policy, state.failures);
  const sample = Math.min(Math.max(u, 0), 1);
  return Math.round(base * (1 - policy.jitter * sample));
}

/** The session reached Established at `now` (RFC 4271 §8.2.2, OpenConfirm + KeepAliveMsg). */
export function onEstablished(state: BackoffState, now: number): BackoffState {
  return { failures: state.failures, establishedAt: now };
}

/**
 * The session (or the attempt to build one) ended at `now`. It counts as a failure unless the session had been
 * Established for at least `stableMs`, in which case the count restarts at one failure (a short, initial
 * delay: the peer was healthy and probably restarted).
 */
export function onDown(policy: BackoffPolicy, state: BackoffState, now: number): BackoffState {
  const stable = state.establishedAt !== undefined && now - state.establishedAt >= policy.stableMs;
  return { failures: stable ? 1 : state.failures + 1, establishedAt: undefined };
}

/** An operator action (ManualStart after ManualStop, config change) forgets the history. */
export function resetBackoff(): BackoffState {
  return INITIAL_BACKOFF;
}
