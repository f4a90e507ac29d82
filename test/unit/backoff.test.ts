import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_BACKOFF_POLICY,
  INITIAL_BACKOFF,
  baseDelay,
  nextDelay,
  onDown,
  onEstablished,
  resetBackoff,
  validatePolicy,
  type BackoffPolicy,
  type BackoffState,
} from '../../src/backoff.js';

const P: BackoffPolicy = { initialMs: 1000, maxMs: 120_000, multiplier: 2, jitter: 0.25, stableMs: 30_000 };

describe('backoff', () => {
  it('the first start is immediate', () => {
    assert.equal(nextDelay(P, INITIAL_BACKOFF, 0.7), 0);
  });

  it('grows exponentially and stops at the cap', () => {
    let s: BackoffState = INITIAL_BACKOFF;
    const seen: number[] = [];
    for (let i = 0; i < 12; i++) {
      s = onDown(P, s, i * 1000);
      seen.push(nextDelay(P, s, 0)); // u = 0: no jitter taken off
    }
    assert.deepEqual(seen, [1000, 2000, 4000, 8000, 16000, 32000, 64000, 120000, 120000, 120000, 120000, 120000]);
  });

  it('never overflows for a peer that fails for years', () => {
    assert.equal(baseDelay(P, 1e9), 120_000);
    assert.equal(baseDelay({ ...P, multiplier: 1 }, 50), 1000);
  });

  it('jitter draws from [base × (1 − jitter), base] and never exceeds the cap', () => {
    const s: BackoffState = { failures: 30, establishedAt: undefined };
    assert.equal(nextDelay(P, s, 0), 120_000);
    assert.equal(nextDelay(P, s, 0.5), 105_000);
    assert.equal(nextDelay(P, s, 0.999999), 90_000);
    assert.equal(nextDelay(P, s, 1), 90_000);
    const s3: BackoffState = { failures: 3, establishedAt: undefined };
    for (const u of [0, 0.1, 0.33, 0.5, 0.9]) {
      const d = nextDelay(P, s3, u);
      assert.ok(d >= 3000 && d <= 4000, `u=${u} gave ${d}`);
    }
  });

  it('a peer that answers OPEN with a NOTIFICATION never resets the backoff (no reconnect storm)', () => {
    // Each attempt: connect, OPEN, NOTIFICATION back, down. Established is never reached.
    let s: BackoffState = INITIAL_BACKOFF;
    let t = 0;
    let attempts = 0;
    const tenMinutes = 600_000;
    while (t < tenMinutes) {
      attempts++;
      t += 5; // the refusal takes a few ms
      s = onDown(P, s, t);
      t += nextDelay(P, s, (attempts * 0.618) % 1); // deterministic spread of samples
    }
    // 1+2+4+…+64 s ≈ 127 s of un-jittered delays, then one attempt every ≤ 2 min: well under 20 in 10 min.
    assert.ok(attempts <= 14, `attempts=${attempts}`);
    assert.ok(attempts >= 6, `attempts=${attempts}`);
  });

  it('a session that flaps right after Established keeps backing off', () => {
    let s: BackoffState = { failures: 4, establishedAt: undefined };
    s = onEstablished(s, 100_000);
    s = onDown(P, s, 100_000 + 29_999); // 1 ms short of stable
    assert.equal(s.failures, 5);
    assert.equal(nextDelay(P, s, 0), 16_000);
    assert.equal(s.establishedAt, undefined);
  });

  it('resets only after the session stayed Established for stableMs', () => {
    let s: BackoffState = { failures: 9, establishedAt: undefined };
    s = onEstablished(s, 50_000);
    assert.equal(s.failures, 9, 'reaching Established alone does not reset');
    s = onDown(P, s, 80_000); // exactly 30 s
    assert.equal(s.failures, 1);
    assert.equal(nextDelay(P, s, 0), 1000);
  });

  it('down without Established, after a stable session, does not reuse the old establishedAt', () => {
    let s = onEstablished(INITIAL_BACKOFF, 0);
    s = onDown(P, s, 60_000);
    s = onDown(P, s, 600_000);
    assert.equal(s.failures, 2);
  });

  it('resetBackoff forgets history', () => {
    assert.deepEqual(resetBackoff(), { failures: 0, establishedAt: undefined });
  });

  it('the default policy is valid and bad policies are refused', () => {
    validatePolicy(DEFAULT_BACKOFF_POLICY);
    assert.throws(() => validatePolicy({ ...P, maxMs: 10 }), /maxMs/);
    assert.throws(() => validatePolicy({ ...P, multiplier: 0.5 }), /multiplier/);
    assert.throws(() => validatePolicy({ ...P, jitter: 2 }), /jitter/);
    assert.throws(() => validatePolicy({ ...P, stableMs: -1 }), /stableMs/);
    assert.throws(() => validatePolicy({ ...P, initialMs: Number.NaN }), /initialMs/);
  });
});
