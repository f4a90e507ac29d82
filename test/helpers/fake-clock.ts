// A deterministic Clock for tests: time moves only when the test calls advance()/runNext(). Timers due at the
// same instant fire in the order they were scheduled, and timers scheduled by a callback fire in the same
// advance() if they fall due within it — as they would on the real event loop.
import type { Clock, TimerHandle } from '../../src/clock.js';

interface FakeTimer extends TimerHandle {
  readonly seq: number;
  readonly due: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: FakeTimer[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { __timer: true, seq: this.seq++, due: this.t + Math.max(0, ms), fn, cancelled: false };
    this.timers.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as FakeTimer;
    timer.cancelled = true;
    this.timers = this.timers.filter((x) => x !== timer);
  }

  /** Number of timers that have not fired and were not cleared. */
  get pending(): number {
    return this.timers.length;
  }

  /** Due times (relative to now) of the pending timers, soonest first. */
  pendingDelays(): number[] {
    return this.sorted().map((x) => x.due - this.t);
  }

  /** Moves time forward by ms, firing every timer that falls due on the way, in due order. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('FakeClock cannot go back in time');
    const end = this.t + ms;
    for (;;) {
      const next = this.sorted()[0];
      if (next === undefined || next.due > end) break;
      this.fire(next);
    }
    this.t = end;
  }

  /** Jumps to the soonest pending timer and fires it. Returns false when nothing is pending. */
  runNext(): boolean {
    const next = this.sorted()[0];
    if (next === undefined) return false;
    this.fire(next);
    return true;
  }

  private fire(timer: FakeTimer): void {
    this.t = Math.max(this.t, timer.due);
    this.timers = this.timers.filter((x) => x !== timer);
    timer.fn();
  }

  private sorted(): FakeTimer[] {
    return [...this.timers].sort((a, b) => a.due - b.due || a.seq - b.seq);
  }
}
