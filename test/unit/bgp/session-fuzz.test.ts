// Issue 8, closing the class: a session-level fuzzer. Random and mutated byte streams (the captured fixtures
// of test/fixtures/bgp, concatenated and split at random points), interleaved with timer expiries and
// socket errors, are fed to a BgpSession in every FSM state it can hold a connection in. Fake sockets and a
// FakeClock: no real TCP, no real time, a few seconds for thousands of cases.
//
// Invariants after every step: nothing throws out of the driver; the session is either healthy (OpenSent,
// OpenConfirm or Established on one live socket) or has dropped the connection (every socket it was given
// is closed) with lastError set and a restart scheduled (Active with a pending ConnectRetry, or already
// dialling again); and no 'internalError' (the codec and FSM handled everything as protocol errors).
// A crasher found here is kept in CRASHERS below (and its bytes under test/fixtures/bgp/crashers/ if any).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as net from 'node:net';
import fc from 'fast-check';
import { FakeClock } from '../../helpers/fake-clock.js';
import { BgpSession, buildOpen, type SessionOptions } from '../../../src/bgp/session.js';
import { encodeMessage, KEEPALIVE } from '../../../src/bgp/codec.js';
import { INITIAL_CONTEXT } from '../../../src/bgp/context.js';
import type { BgpState } from '../../../src/bgp/fsm.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const here = dirname(fileURLToPath(import.meta.url));
const FIXTURE_DIR = join(here, '../../fixtures/bgp');
const FIXTURES = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.bin'))
  .map((f) => new Uint8Array(readFileSync(join(FIXTURE_DIR, f))));
const CRASHER_DIR = join(FIXTURE_DIR, 'crashers');
/** Byte streams that once broke the invariants; replayed in every state first. */
const CRASHERS: Uint8Array[] = existsSync(CRASHER_DIR)
  ? readdirSync(CRASHER_DIR).filter((f) => f.endsWith('.bin')).map((f) => new Uint8Array(readFileSync(join(CRASHER_DIR, f))))
  : [];

/** Deferred socket events, run by the test (real sockets never call back synchronously from write/destroy). */
class Loop {
  private q: Array<() => void> = [];
  post(fn: () => void): void {
    this.q.push(fn);
  }
  run(): void {
    for (let i = 0; i < 10_000 && this.q.length > 0; i++) this.q.shift()!();
  }
}

/** Just enough of net.Socket for the session driver. */
class FakeSocket extends EventEmitter {
  connecting: boolean;
  destroyed = false;
  closed = false;
  readonly localAddress = '127.0.0.1';
  readonly remoteAddress = '127.0.0.2';
  readonly localPort = 40000;
  readonly remotePort = 179;
  readonly written: Uint8Array[] = [];
  constructor(private readonly loop: Loop, connected: boolean) {
    super();
    this.connecting = !connected;
  }
  setNoDelay(): this {
    return this;
  }
  write(b: Uint8Array): boolean {
    if (!this.destroyed) this.written.push(b);
    return true;
  }
  end(cb?: () => void): this {
    this.loop.post(() => {
      cb?.();
      this.destroy();
    });
    return this;
  }
  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.connecting = false;
    this.loop.post(() => {
      this.closed = true;
      this.emit('close', false);
    });
    return this;
  }
  /** The peer's side: bytes arrive. */
  deliver(chunk: Uint8Array): void {
    if (!this.destroyed) this.emit('data', Buffer.from(chunk));
  }
}

const PEER_OPEN = encodeMessage(buildOpen({ peerAddress: '127.0.0.1', localAs: 64513, peerAs: 64512, routerId: 0x0a000002, holdTime: 90 }), INITIAL_CONTEXT);
const PEER_KEEPALIVE = encodeMessage(KEEPALIVE, INITIAL_CONTEXT);

type Start = 'Connect' | 'Active-inbound' | 'OpenSent' | 'OpenConfirm' | 'Established';
const STARTS: Start[] = ['Connect', 'Active-inbound', 'OpenSent', 'OpenConfirm', 'Established'];

interface Rig {
  clock: FakeClock;
  loop: Loop;
  session: BgpSession;
  sockets: FakeSocket[];
  internal: unknown[];
  idles: number;
}

function rig(start: Start): Rig {
  const clock = new FakeClock();
  const loop = new Loop();
  const sockets: FakeSocket[] = [];
  const options: SessionOptions = { peerAddress: '127.0.0.2', localAs: 64512, peerAs: 64513, routerId: 0x0a000001, holdTime: 90, dial: start !== 'Active-inbound' };
  const session = new BgpSession(options, {
    clock,
    random: () => 0.5,
    connect: () => {
      const s = new FakeSocket(loop, false);
      sockets.push(s);
      return s as unknown as net.Socket;
    },
  });
  const r: Rig = { clock, loop, session, sockets, internal: [], idles: 0 };
  session.on('internalError', (e) => r.internal.push(e));
  session.on('state', (_from, to) => {
    if (to === 'Idle') r.idles++;
  });
  session.start();
  if (start === 'Active-inbound') {
    const s = new FakeSocket(loop, true);
    sockets.push(s);
    assert.equal(session.acceptInbound(s as unknown as net.Socket), true);
    loop.run();
    assert.equal(session.state, 'OpenSent');
    return r;
  }
  assert.equal(session.state, 'Connect');
  if (start === 'Connect') return r;
  const s = sockets[0]!;
  s.connecting = false;
  s.emit('connect');
  loop.run();
  assert.equal(session.state, 'OpenSent');
  if (start === 'OpenSent') return r;
  s.deliver(PEER_OPEN);
  loop.run();
  assert.equal(session.state, 'OpenConfirm');
  if (start === 'OpenConfirm') return r;
  s.deliver(PEER_KEEPALIVE);
  loop.run();
  assert.equal(session.state, 'Established');
  return r;
}

const HEALTHY: ReadonlySet<BgpState> = new Set(['OpenSent', 'OpenConfirm', 'Established']);

function checkInvariants(r: Rig, what: string): void {
  const s = r.session;
  assert.deepEqual(r.internal, [], `${what}: an exception reached the driver's last line of defence`);
  const alive = r.sockets.filter((x) => !x.destroyed);
  if (HEALTHY.has(s.state)) {
    assert.equal(alive.length, 1, `${what}: ${s.state} on exactly one live socket`);
    assert.equal(alive[0]!.connecting, false);
    return;
  }
  // Not healthy: the connection is gone, the failure is on record and a restart is on its way.
  assert.notEqual(s.state, 'Idle', `${what}: left in Idle with no restart`);
  if (s.state === 'Active') assert.equal(alive.length, 0, `${what}: Active with a live socket`);
  if (s.state === 'Connect') assert.ok(alive.length <= 1 && (alive[0]?.connecting ?? true), `${what}: Connect with a connected socket`);
  assert.ok(r.clock.pending > 0, `${what}: no timer pending (no restart scheduled)`);
  if (r.idles > 0) assert.ok(s.lastError !== undefined, `${what}: went down without lastError`);
}

/** A stream: fixtures and random blobs, optionally mutated, concatenated, then cut into chunks. */
const stream = fc
  .record({
    parts: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: fc.nat().map((i) => FIXTURES[i % FIXTURES.length]!) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
        { weight: 1, arbitrary: fc.constant(PEER_KEEPALIVE) },
        // Long messages of any type, up to the maximum length: where data-carrying errors overflow.
        {
          weight: 1,
          arbitrary: fc
            .record({ type: fc.integer({ min: 0, max: 7 }), length: fc.integer({ min: 19, max: 4096 }), b21: fc.integer({ min: 0, max: 3 }) })
            .map(({ type, length, b21 }) => {
              const m = new Uint8Array(length);
              m.fill(0xff, 0, 16);
              m[16] = length >>> 8;
              m[17] = length & 0xff;
              m[18] = type;
              if (length > 21) m[21] = b21;
              return m;
            }),
        },
      ),
      { minLength: 1, maxLength: 8 },
    ),
    flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
    cuts: fc.array(fc.nat(), { maxLength: 8 }),
  })
  .map(({ parts, flips, cuts }) => {
    const total = parts.reduce((n, p) => n + p.length, 0);
    const b = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      b.set(p, o);
      o += p.length;
    }
    for (const f of flips) if (total > 0) b[f.at % total] = f.value;
    const points = [...new Set(cuts.map((c) => (total > 0 ? c % total : 0)))].sort((x, y) => x - y);
    const chunks: Uint8Array[] = [];
    let prev = 0;
    for (const p of [...points, total]) {
      if (p > prev) chunks.push(b.subarray(prev, p));
      prev = p;
    }
    return chunks;
  });

type Step =
  | { kind: 'data'; chunks: Uint8Array[] }
  | { kind: 'advance'; ms: number }
  | { kind: 'error' }
  | { kind: 'end' }
  | { kind: 'connect' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: stream.map((chunks): Step => ({ kind: 'data', chunks })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 250_000 }).map((ms): Step => ({ kind: 'advance', ms })) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'error' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'end' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'connect' }) },
);

function apply(r: Rig, st: Step): void {
  const live = r.sockets.filter((x) => !x.destroyed);
  switch (st.kind) {
    case 'data':
      for (const c of st.chunks) {
        for (const s of live) s.deliver(c);
        r.loop.run();
      }
      return;
    case 'advance':
      r.clock.advance(st.ms);
      r.loop.run();
      return;
    case 'error':
      for (const s of live) {
        s.emit('error', new Error('ECONNRESET'));
        s.destroy();
      }
      r.loop.run();
      return;
    case 'end':
      for (const s of live) s.emit('end');
      r.loop.run();
      return;
    case 'connect':
      for (const s of live) {
        if (!s.connecting) continue;
        s.connecting = false;
        s.emit('connect');
      }
      r.loop.run();
      return;
  }
}

function runCase(start: Start, steps: Step[]): void {
  const r = rig(start);
  checkInvariants(r, `${start} (start)`);
  steps.forEach((st, i) => {
    apply(r, st);
    checkInvariants(r, `${start}, step ${i} (${st.kind})`);
  });
  // Whatever happened, time heals: within the maximum backoff the session dials (or is still up).
  const dials = r.session.dials;
  const wasUp = HEALTHY.has(r.session.state);
  r.clock.advance(130_000);
  r.loop.run();
  if (!wasUp && r.session.options.dial !== false) {
    assert.ok(r.session.dials > dials || HEALTHY.has(r.session.state), `${start}: no redial after 130 s`);
  } else if (!wasUp) {
    // A passive session restarts by listening again: the peer's next connection is taken.
    const s = new FakeSocket(r.loop, true);
    r.sockets.push(s);
    assert.equal(r.session.acceptInbound(s as unknown as net.Socket), true, `${start}: the restarted session refuses the peer (${r.session.state})`);
    r.loop.run();
    assert.equal(r.session.state, 'OpenSent');
  }
  void r.session.stop();
  r.loop.run();
  assert.equal(r.session.state, 'Idle');
  assert.ok(r.sockets.every((s) => s.destroyed), `${start}: a socket left open after stop()`);
}

describe('session fuzzer (issue 8): byte streams, timers and socket events in every state', () => {
  it('has fixtures to mutate', () => assert.ok(FIXTURES.length > 20, `${FIXTURES.length} fixtures`));

  for (const start of STARTS) {
    it(`starting in ${start}: the crashers kept so far, then ${RUNS} random cases`, () => {
      for (const c of CRASHERS) runCase(start, [{ kind: 'data', chunks: [c] }]);
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 6 }), (steps) => runCase(start, steps)),
        { numRuns: RUNS },
      );
    });
  }

  it('a listener that always throws: no exception escapes, no hot loop, and a restart is always scheduled', () => {
    const r = rig('Established');
    let throws = 0;
    r.session.on('state', () => {
      throws++;
      throw new Error('broken state listener');
    });
    r.session.on('down', () => {
      throw new Error('broken down listener');
    });
    r.sockets[0]!.emit('error', new Error('ECONNRESET'));
    r.sockets[0]!.destroy();
    r.loop.run();
    assert.ok(r.internal.length >= 1);
    assert.notEqual(r.session.state, 'Established');
    // Ten minutes of fake time: retries continue, at the backoff's pace, never recursing without bound.
    const before = r.internal.length;
    for (let i = 0; i < 600; i++) {
      r.clock.advance(1000);
      r.loop.run();
    }
    const per10min = r.internal.length - before;
    assert.ok(per10min >= 4 && per10min < 200, `${per10min} internal errors in 10 min`);
    // Every attempt fails in the broken listener, so it never gets as far as dialling; but it keeps trying.
    assert.ok(r.clock.pending > 0, 'a restart is always scheduled');
    assert.ok(throws > 0);
    void r.session.stop();
    r.loop.run();
  });

  it('the kept crashers (issue 8: an over-long BoRR ROUTE-REFRESH), whole and split, in every state', () => {
    assert.ok(CRASHERS.length >= 1, 'test/fixtures/bgp/crashers/ holds the issue 8 crasher');
    for (const c of CRASHERS) {
      for (const start of STARTS) {
        runCase(start, [{ kind: 'data', chunks: [c] }]);
        runCase(start, [{ kind: 'data', chunks: [c.subarray(0, 7), c.subarray(7, c.length >> 1), c.subarray(c.length >> 1)] }]);
      }
    }
  });
});
