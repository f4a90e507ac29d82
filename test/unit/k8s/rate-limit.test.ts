// The token bucket behind --kube-api-qps / --kube-api-burst, on a fake clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../helpers/fake-clock.js';
import { DEFAULT_KUBE_API_BURST, DEFAULT_KUBE_API_QPS, TokenBucket, validateRateLimit } from '../../../src/k8s/rate-limit.js';

describe('TokenBucket', () => {
  it('defaults are 50 qps / burst 100 (cli.md)', () => {
    assert.equal(DEFAULT_KUBE_API_QPS, 50);
    assert.equal(DEFAULT_KUBE_API_BURST, 100);
  });

  it('lets a burst through at once, then spaces requests 1/qps apart, in arrival order', () => {
    const clock = new FakeClock();
    const b = new TokenBucket({ qps: 10, burst: 3 }, clock);
    assert.deepEqual([b.reserve(), b.reserve(), b.reserve()], [0, 0, 0]);
    const waits = [b.reserve(), b.reserve(), b.reserve()].map((w) => Math.round(w));
    assert.deepEqual(waits, [100, 200, 300]);
  });

  it('refills at qps up to burst, never beyond', () => {
    const clock = new FakeClock();
    const b = new TokenBucket({ qps: 10, burst: 2 }, clock);
    b.reserve();
    b.reserve();
    clock.advance(10_000);
    assert.equal(b.available(), 2);
    assert.deepEqual([b.reserve(), b.reserve()], [0, 0]);
    assert.equal(Math.round(b.reserve()), 100);
  });

  it('acquire() resolves only after the wait, on the injected clock', async () => {
    const clock = new FakeClock();
    const b = new TokenBucket({ qps: 1, burst: 1 }, clock);
    await b.acquire();
    let done = false;
    const p = b.acquire().then(() => {
      done = true;
    });
    await Promise.resolve();
    assert.equal(done, false);
    assert.deepEqual(clock.pendingDelays(), [1000]);
    clock.advance(999);
    await Promise.resolve();
    assert.equal(done, false);
    clock.advance(1);
    await p;
    assert.equal(done, true);
  });

  it('1,000 requests at qps 50 / burst 100 take 18 s, not less', () => {
    const clock = new FakeClock();
    const b = new TokenBucket({ qps: 50, burst: 100 }, clock);
    let last = 0;
    for (let i = 0; i < 1000; i++) last = b.reserve();
    assert.equal(Math.round(last), 18_000);
  });

  it('refuses unusable limits with the flag name and value', () => {
    assert.throws(() => validateRateLimit({ qps: 0, burst: 1 }), /--kube-api-qps: want a number > 0, got 0/);
    assert.throws(() => validateRateLimit({ qps: 5, burst: 0.5 }), /--kube-api-burst: want an integer >= 1, got 0.5/);
    assert.throws(() => new TokenBucket({ qps: Number.NaN, burst: 1 }, new FakeClock()), /--kube-api-qps/);
  });
});
