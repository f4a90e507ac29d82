// The liveness state machine on a FakeClock: a tiny in-memory network delivers each 'send' action to the
// addressed machines after a configurable delay, and 'arm' actions become fake timers, as member-driver.ts does
// with dgram and real timers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../helpers/fake-clock.js';
import type { TimerHandle } from '../../../src/clock.js';
import { initialState, step, type MemberAddress, type MembershipAction, type MembershipEvent, type MembershipState } from '../../../src/l2/membership.js';
import { encodePacket, type Packet } from '../../../src/l2/wire.js';
import { viewOf, emptyDrops } from '../../../src/l2/member-driver.js';

const KEY = Buffer.from('k'.repeat(32));
const WALL0 = 1_765_000_000_000;
const MEMBERS: MemberAddress[] = ['a', 'b', 'c'].map((name, i) => ({ name, address: '192.0.2.' + (i + 1), port: 7946 }));

class Net {
  readonly clock = new FakeClock();
  readonly nodes = new Map<string, Node>();
  /** Per-destination delivery delay (ms); a missing or negative entry drops. */
  delay = new Map<string, number>();
  constructor(names: string[]) {
    for (const n of names) this.nodes.set(n, new Node(this, n));
  }
  wall(): number {
    return WALL0 + this.clock.now();
  }
  node(n: string): Node {
    const x = this.nodes.get(n);
    assert.ok(x);
    return x;
  }
}

class Node {
  state: MembershipState;
  log: MembershipAction[] = [];
  alive = true;
  private timers = new Map<string, TimerHandle>();
  constructor(private readonly net: Net, readonly name: string) {
    this.state = initialState({ self: name, members: MEMBERS, key: KEY, incarnation: BigInt(name.charCodeAt(0)), intervalMs: 50, deadAfterMs: 300, windowMs: 10_000 });
  }
  ev(e: MembershipEvent): MembershipAction[] {
    if (!this.alive) return [];
    const r = step(this.state, e);
    this.state = r.state;
    this.log.push(...r.actions);
    for (const a of r.actions) this.perform(a);
    return [...r.actions];
  }
  now(): { now: number; wall: number } {
    return { now: this.net.clock.now(), wall: this.net.wall() };
  }
  private perform(a: MembershipAction): void {
    const c = this.net.clock;
    if (a.type === 'arm') {
      const old = this.timers.get(a.timer);
      if (old) c.clearTimeout(old);
      this.timers.set(a.timer, c.setTimeout(() => {
        this.timers.delete(a.timer);
        this.ev(a.timer === 'tx' ? { type: 'tick', ...this.now(), lag: 0 } : { type: 'expire', ...this.now() });
      }, a.ms));
    } else if (a.type === 'disarm') {
      const old = this.timers.get(a.timer);
      if (old) c.clearTimeout(old);
      this.timers.delete(a.timer);
    } else if (a.type === 'send') {
      for (const to of a.to) {
        const d = this.net.delay.get(`${this.name}>${to.name}`) ?? this.net.delay.get('*') ?? 1;
        if (d < 0) continue;
        const dst = this.net.nodes.get(to.name);
        if (dst) c.setTimeout(() => dst.ev({ type: 'packet', bytes: a.bytes, ...dst.now() }), d);
      }
    }
  }
  kill(): void {
    this.alive = false;
    for (const t of this.timers.values()) this.net.clock.clearTimeout(t);
  }
  status(of: string): string | undefined {
    return this.state.members.get(of)?.status;
  }
  drops(): string[] {
    return this.log.filter((a) => a.type === 'drop').map((a) => (a as { reason: string }).reason);
  }
}

function startAll(net: Net): void {
  for (const n of net.nodes.values()) n.ev({ type: 'start', ...n.now() });
}

describe('l2 membership machine', () => {
  it('start sends a heartbeat to every other member and arms both timers; not ready yet', () => {
    const net = new Net(['a']);
    const acts = net.node('a').ev({ type: 'start', now: 0, wall: WALL0 });
    const send = acts.find((a) => a.type === 'send');
    assert.ok(send && send.type === 'send');
    assert.deepEqual(send.to.map((m) => m.name), ['b', 'c']);
    assert.deepEqual(acts.filter((a) => a.type === 'arm').map((a) => (a as { timer: string }).timer).sort(), ['expire', 'tx']);
    assert.equal(net.node('a').state.ready, false);
  });

  it('is ready as soon as every member is heard, and everyone sees everyone alive', () => {
    const net = new Net(['a', 'b', 'c']);
    startAll(net);
    net.clock.advance(5);
    for (const n of net.nodes.values()) {
      assert.equal(n.state.ready, true, n.name);
      for (const o of ['a', 'b', 'c']) if (o !== n.name) assert.equal(n.status(o), 'alive');
    }
  });

  it('a member never heard becomes dead when the start-up grace (deadAfter) ends, then ready', () => {
    const net = new Net(['a', 'b']);
    startAll(net);
    net.clock.advance(299);
    assert.equal(net.node('a').state.ready, false);
    net.clock.advance(1);
    assert.equal(net.node('a').state.ready, true);
    assert.equal(net.node('a').status('c'), 'dead');
    assert.equal(net.node('a').status('b'), 'alive');
  });

  it('a longer start-up grace (cold start) delays readiness only while a member is unheard', () => {
    const net = new Net(['a', 'b']);
    for (const n of net.nodes.values()) n.state = initialState({ ...n.state.opts, startupGraceMs: 2000 });
    startAll(net);
    net.clock.advance(1999);
    assert.equal(net.node('a').state.ready, false);
    assert.equal(net.node('a').status('b'), 'alive', 'alive members are heard meanwhile');
    net.clock.advance(1);
    assert.equal(net.node('a').state.ready, true);
    const full = new Net(['a', 'b', 'c']);
    for (const n of full.nodes.values()) n.state = initialState({ ...n.state.opts, startupGraceMs: 2000 });
    startAll(full);
    full.clock.advance(5);
    assert.equal(full.node('a').state.ready, true, 'everyone heard: ready at once');
  });

  it('declares a silent member dead exactly deadAfter after its last packet, and says so once', () => {
    const net = new Net(['a', 'b', 'c']);
    startAll(net);
    net.clock.advance(1000);
    const c = net.node('c');
    const lastSent = Math.floor(net.clock.now() / 50) * 50 + 1; // c's last heartbeat arrival (1 ms delay)
    c.kill();
    net.clock.advance(1000);
    for (const n of ['a', 'b']) {
      const x = net.node(n);
      assert.equal(x.status('c'), 'dead');
      const downs = x.log.filter((a) => a.type === 'memberDown');
      assert.equal(downs.length, 1);
      const m = x.state.members.get('c');
      assert.ok(m);
      assert.equal(m.changedAt - (m.lastHeard ?? 0), 300);
      assert.ok(Math.abs((m.lastHeard ?? 0) - lastSent) <= 50);
    }
  });

  it('no false death when packets arrive late but within deadAfter (250 ms delay on every datagram)', () => {
    const net = new Net(['a', 'b', 'c']);
    net.delay.set('*', 250);
    startAll(net);
    net.clock.advance(10_000);
    for (const n of net.nodes.values()) {
      assert.equal(n.log.filter((a) => a.type === 'memberDown').length, 0, n.name);
      assert.equal(n.state.ready, true);
    }
  });

  it('a cut-off member (no packets either way) is dead for the others and sees them dead; it recovers when healed', () => {
    const net = new Net(['a', 'b', 'c']);
    startAll(net);
    net.clock.advance(500);
    for (const x of ['a', 'b']) {
      net.delay.set(`c>${x}`, -1);
      net.delay.set(`${x}>c`, -1);
    }
    net.clock.advance(400);
    assert.equal(net.node('a').status('c'), 'dead');
    assert.equal(net.node('c').status('a'), 'dead');
    assert.equal(net.node('a').status('b'), 'alive');
    net.delay.clear();
    net.clock.advance(60);
    assert.equal(net.node('a').status('c'), 'alive');
    assert.equal(net.node('c').status('a'), 'alive');
  });

  it('the lag it reports is the worst timer lateness of the last second', () => {
    const net = new Net(['a']);
    const a = net.node('a');
    a.ev({ type: 'start', ...a.now() });
    a.ev({ type: 'tick', ...a.now(), lag: 120 });
    for (let i = 0; i < 19; i++) a.ev({ type: 'tick', ...a.now(), lag: 1 });
    assert.equal(a.state.lag, 120);
    a.ev({ type: 'tick', ...a.now(), lag: 2 });
    assert.equal(a.state.lag, 2);
  });

  it('setLocal sends at once, and the others see the claims and exclusion (changed)', () => {
    const net = new Net(['a', 'b', 'c']);
    startAll(net);
    net.clock.advance(10);
    const a = net.node('a');
    const acts = a.ev({ type: 'setLocal', local: { claims: new Map([['192.0.2.10', WALL0]]), excluded: true }, ...a.now() });
    assert.ok(acts.some((x) => x.type === 'send'));
    assert.ok(acts.some((x) => x.type === 'changed'));
    net.clock.advance(2);
    const b = net.node('b');
    assert.equal(b.state.members.get('a')?.claims.get('192.0.2.10'), WALL0);
    assert.equal(b.state.members.get('a')?.excluded, true);
    assert.ok(b.log.some((x) => x.type === 'changed'));
    // The same local view again is a no-op.
    assert.deepEqual(a.ev({ type: 'setLocal', local: { claims: new Map([['192.0.2.10', WALL0]]), excluded: true }, ...a.now() }), []);
    // view() shows them
    const v = viewOf(b.state, net.wall(), emptyDrops());
    assert.equal(v.members[0]?.status, 'self');
    assert.equal(v.members.find((m) => m.name === 'a')?.claims.get('192.0.2.10'), WALL0);
  });

  it('stop sends leave: the others mark it left at once and drop its claims', () => {
    const net = new Net(['a', 'b', 'c']);
    startAll(net);
    net.clock.advance(10);
    const c = net.node('c');
    c.ev({ type: 'setLocal', local: { claims: new Map([['192.0.2.10', WALL0]]), excluded: false }, ...c.now() });
    net.clock.advance(2);
    c.ev({ type: 'stop', ...c.now() });
    net.clock.advance(2);
    assert.equal(net.node('a').status('c'), 'left');
    assert.equal(net.node('a').state.members.get('c')?.claims.size, 0);
    assert.ok(net.node('a').log.some((x) => x.type === 'memberDown' && x.reason === 'left'));
    // A restart (new incarnation, newer timestamp) brings it back.
    const c2 = initialState({ ...c.state.opts, incarnation: 999n });
    const r = step(c2, { type: 'start', now: net.clock.now(), wall: net.wall() });
    const send = r.actions.find((x) => x.type === 'send');
    assert.ok(send && send.type === 'send');
    const a = net.node('a');
    const acts = a.ev({ type: 'packet', bytes: send.bytes, ...a.now() });
    assert.ok(acts.some((x) => x.type === 'memberUp' && x.restarted));
    assert.equal(a.status('c'), 'alive');
  });

  describe('refusals (dropped, counted by reason, state unchanged)', () => {
    const base = (): { net: Net; a: Node } => {
      const net = new Net(['a', 'b', 'c']);
      startAll(net);
      net.clock.advance(1000);
      return { net, a: net.node('a') };
    };
    const pkt = (over: Partial<Packet>, net: Net): Packet => ({
      type: 'heartbeat', sender: 'b', excluded: false, incarnation: BigInt('b'.charCodeAt(0)), seq: 1, timestamp: net.wall(), lag: 0, alive: [], claims: new Map([['192.0.2.99', 1]]), ...over,
    });
    const rows: [string, (net: Net, a: Node) => Buffer, string][] = [
      ['wrong key', (net) => encodePacket(pkt({ seq: 10_000 }, net), Buffer.from('wrong')), 'unauthenticated'],
      ['garbage', () => Buffer.from('hello'), 'malformed'],
      ['unknown sender', (net) => encodePacket(pkt({ sender: 'z', seq: 10_000 }, net), KEY), 'unknownMember'],
      ['our own name', (net) => encodePacket(pkt({ sender: 'a', seq: 10_000 }, net), KEY), 'self'],
      ['old sequence (replay)', (net, a) => encodePacket(pkt({ seq: a.state.members.get('b')?.seq ?? 1 }, net), KEY), 'replay'],
      ['timestamp 11 s old', (net) => encodePacket(pkt({ seq: 10_000, timestamp: net.wall() - 11_000 }, net), KEY), 'stale'],
      ['timestamp 11 s ahead', (net) => encodePacket(pkt({ seq: 10_000, timestamp: net.wall() + 11_000 }, net), KEY), 'stale'],
      ['another incarnation, older timestamp', (net, a) => encodePacket(pkt({ incarnation: 5n, seq: 10_000, timestamp: (a.state.members.get('b')?.timestamp ?? 0) - 1 }, net), KEY), 'replay'],
    ];
    for (const [name, make, reason] of rows) {
      it(`${name} → ${reason}`, () => {
        const { net, a } = base();
        const before = a.state.members;
        const acts = a.ev({ type: 'packet', bytes: make(net, a), ...a.now() });
        assert.deepEqual(acts.filter((x) => x.type !== 'arm').map((x) => x.type), ['drop']);
        assert.equal((acts.find((x) => x.type === 'drop') as { reason: string }).reason, reason);
        assert.equal(a.state.members, before, 'member table untouched');
      });
    }
    it('a replayed old incarnation is refused after the sender restarted', () => {
      const { net, a } = base();
      const old = encodePacket(pkt({ seq: 10_000 }, net), KEY);
      assert.equal(a.ev({ type: 'packet', bytes: old, ...a.now() }).some((x) => x.type === 'drop'), false);
      net.clock.advance(10);
      a.ev({ type: 'packet', bytes: encodePacket(pkt({ incarnation: 77n, seq: 1, timestamp: net.wall() }, net), KEY), ...a.now() });
      assert.equal(a.state.members.get('b')?.incarnation, 77n);
      const acts = a.ev({ type: 'packet', bytes: old, ...a.now() });
      assert.equal((acts.find((x) => x.type === 'drop') as { reason: string } | undefined)?.reason, 'replay');
      assert.equal(a.state.members.get('b')?.incarnation, 77n);
    });
  });
});
