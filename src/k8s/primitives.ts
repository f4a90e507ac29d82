// The one place src/k8s imports the project's clock and backoff from. They live in src/bgp today and move to
// the top level (src/clock.ts, src/backoff.ts) in a concurrent refactor; when they do, only these lines change.
export type { Clock, TimerHandle } from '../bgp/clock.js';
export { systemClock } from '../bgp/clock.js';
export type { BackoffPolicy, BackoffState } from '../bgp/backoff.js';
export { baseDelay, nextDelay, validatePolicy, INITIAL_BACKOFF } from '../bgp/backoff.js';
