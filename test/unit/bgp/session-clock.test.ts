import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../helpers/fake-clock.js';
import { systemClock } from '../../../src/clock.js';

describe('FakeClock', () => {
  it('fires timers in due order, then in scheduling order, only when time advances', () => {
    const c = new FakeClock(1000);
    const log: string[] = [];
    c.setTimeout(() => log.push('b'), 20);
    c.setTimeout(() => log.push('a'), 10);
    c.setTimeout(() => log.push('a2'), 10);
    assert.equal(c.pending, 3);
    c.advance(9);
    assert.deepEqual(log, []);
    c.advance(1);
    assert.deepEqual(log, ['a', 'a2']);
    assert.equal(c.now(), 1010);
    c.advance(100);
    assert.deepEqual(log, ['a', 'a2', 'b']);
    assert.equal(c.now(), 1110);
  });

  it('clearTimeout cancels, and a timer scheduled by a callback fires within the same advance', () => {
    const c = new FakeClock();
    const log: number[] = [];
    const h = c.setTimeout(() => log.push(1), 5);
    c.clearTimeout(h);
    c.clearTimeout(h); // twice is harmless
    c.setTimeout(() => {
      log.push(c.now());
      c.setTimeout(() => log.push(c.now()), 3);
    }, 4);
    c.advance(10);
    assert.deepEqual(log, [4, 7]);
    assert.equal(c.pending, 0);
  });

  it('runNext jumps to the next timer', () => {
    const c = new FakeClock();
    let fired = false;
    c.setTimeout(() => (fired = true), 60_000);
    assert.deepEqual(c.pendingDelays(), [60_000]);
    assert.equal(c.runNext(), true);
    assert.equal(fired, true);
    assert.equal(c.now(), 60_000);
    assert.equal(c.runNext(), false);
    assert.throws(() => c.advance(-1));
  });
});

describe('systemClock', () => {
  it('is monotonic and cancels timers', () => {
    const c = systemClock({ unref: true });
    const a = c.now();
    assert.ok(c.now() >= a);
    const h = c.setTimeout(() => assert.fail('cleared timer fired'), 0);
    c.clearTimeout(h);
  });
});
