// The keyed work queue: de-duplication, one key at a time, re-run of a key changed mid-run, per-key backoff,
// depth reporting — on a fake clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../helpers/fake-clock.js';
import { Requeue, WorkQueue, WORKQUEUE_BACKOFF } from '../../../src/k8s/workqueue.js';
import { captureLogger, recordingMetrics } from './support.js';

/** Lets queued promise callbacks run. */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

function setup(handler: (key: string) => Promise<void> | void) {
  const clock = new FakeClock();
  const metrics = recordingMetrics();
  const log = captureLogger();
  const q = new WorkQueue({ name: 'services', clock, logger: log.logger, metrics, handler, random: () => 0 });
  return { clock, metrics, log, q };
}

describe('WorkQueue', () => {
  it('collapses repeated adds of a waiting key and runs keys in FIFO order', async () => {
    const ran: string[] = [];
    const { q, metrics } = setup((k) => void ran.push(k));
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('c');
    q.add('b');
    await q.idle();
    assert.deepEqual(ran, ['a', 'b', 'c']);
    assert.equal(metrics.processed, 3);
    assert.equal(metrics.failed, 0);
    assert.equal(metrics.depth.get('services'), 0);
  });

  it('never runs two keys at once, and re-runs a key that was added while it ran', async () => {
    let active = 0;
    let maxActive = 0;
    const ran: string[] = [];
    const gates = new Map<string, () => void>();
    const { q } = setup(async (k) => {
      active++;
      maxActive = Math.max(maxActive, active);
      ran.push(k);
      if (ran.length === 1) await new Promise<void>((r) => gates.set(k, r));
      active--;
    });
    q.add('a');
    await flush();
    assert.equal(q.current, 'a');
    q.add('a'); // changed while running
    q.add('b');
    assert.equal(q.depth, 1, 'only b waits; a is marked dirty, not queued twice');
    gates.get('a')?.();
    await q.idle();
    assert.deepEqual(ran, ['a', 'b', 'a']);
    assert.equal(maxActive, 1);
  });

  it('retries a failing key with per-key exponential backoff and forgets failures on success', async () => {
    let fail = 3;
    const times: number[] = [];
    const { q, clock, metrics, log } = setup(() => {
      times.push(clock.now());
      if (fail-- > 0) throw new Error('API down');
    });
    q.add('a');
    await flush();
    assert.equal(q.retries('a'), 1);
    assert.equal(q.waiting, 1);
    for (let i = 0; i < 3; i++) {
      clock.runNext();
      await flush();
    }
    assert.deepEqual(times, [0, 5, 15, 35], 'waits 5, 10, 20 ms (jitter sample 0 keeps the base delay)');
    assert.equal(q.retries('a'), 0);
    assert.equal(metrics.processed, 4);
    assert.equal(metrics.failed, 3);
    assert.equal(log.events('workItemFailed').length, 3);
  });

  it('Requeue retries quietly (debug, not warn) and still counts as an update error', async () => {
    let first = true;
    const { q, clock, metrics, log } = setup(() => {
      if (first) {
        first = false;
        throw new Requeue('caches not synced');
      }
    });
    q.add('x');
    await flush();
    clock.runNext();
    await q.idle();
    assert.equal(log.events('workItemFailed').length, 0);
    assert.equal(log.events('workItemRequeued').length, 1);
    assert.equal(metrics.failed, 1);
    assert.equal(metrics.processed, 2);
  });

  it('an add() of a key in backoff runs it at once (new information beats waiting)', async () => {
    let n = 0;
    const { q, clock } = setup(() => {
      if (n++ === 0) throw new Error('x');
    });
    q.add('a');
    await flush();
    assert.equal(q.waiting, 1);
    q.add('a');
    await q.idle();
    assert.equal(n, 2);
    assert.equal(q.waiting, 0);
    assert.equal(clock.pending, 0, 'the backoff timer was cancelled');
  });

  it('caps the delay at maxMs', async () => {
    const { q, clock } = setup(() => {
      throw new Error('always');
    });
    q.add('a');
    await flush();
    for (let i = 0; i < 30; i++) {
      clock.runNext();
      await flush();
    }
    assert.deepEqual(clock.pendingDelays(), [WORKQUEUE_BACKOFF.maxMs]);
  });

  it('addAfter delays, depth counts only waiting keys, shutdown drops the rest', async () => {
    const ran: string[] = [];
    const { q, clock, metrics } = setup((k) => void ran.push(k));
    q.addAfter('later', 100);
    assert.equal(q.depth, 0);
    clock.advance(100);
    await q.idle();
    assert.deepEqual(ran, ['later']);
    q.addAfter('never', 50);
    await q.shutdown();
    clock.advance(1000);
    q.add('ignored');
    await flush();
    assert.deepEqual(ran, ['later']);
    assert.equal(metrics.depth.get('services'), 0);
  });
});
