// The session driver over real loopback TCP, with the BGP timers on a FakeClock: time only moves when the
// test says so, and the test waits for I/O by yielding to the event loop, never by sleeping.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { FakeClock } from '../../helpers/fake-clock.js';
import { BgpSession, buildOpen, shutdownCommunication, type SessionOptions } from '../../../src/bgp/session.js';
import { decodeMessage, encodeMessage, KEEPALIVE } from '../../../src/bgp/codec.js';
import { INITIAL_CONTEXT } from '../../../src/bgp/context.js';
import { Framer } from '../../../src/bgp/framer.js';
import {
  CeaseSubcode,
  MessageHeaderSubcode,
  MessageType,
  NotificationCode,
  OpenSubcode,
} from '../../../src/bgp/constants.js';
import type { BgpMessage, NotificationMessage } from '../../../src/bgp/types.js';
import type { LastError } from '../../../src/bgp/fsm.js';

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
const sessions: BgpSession[] = [];
after(async () => {
  // Even when a test fails half-way, nothing may keep the process alive.
  await Promise.all(sessions.map((s) => s.stop()));
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

function session(o: SessionOptions, deps: ConstructorParameters<typeof BgpSession>[1]): BgpSession {
  const s = new BgpSession(o, deps);
  sessions.push(s);
  return s;
}

/** Yields to the event loop until cond() holds (bounded by 20 s of wall time, not a sleep). */
async function until(cond: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

async function listen(onSocket: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer((s) => {
    sockets.push(s);
    onSocket(s);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

function options(over: Partial<SessionOptions>): SessionOptions {
  return {
    peerAddress: '127.0.0.1',
    localAs: 64512,
    peerAs: 64513,
    routerId: 0x0a000001,
    holdTime: 90,
    ...over,
  };
}

/** A raw peer: collects every message the session sends. */
function rawPeer(socket: net.Socket): { messages: BgpMessage[]; closed: () => boolean } {
  const framer = new Framer();
  const messages: BgpMessage[] = [];
  let closed = false;
  // UPDATEs are only counted (the burst test sends megabytes of them); everything else is decoded.
  socket.on('data', (chunk) =>
    framer.push(chunk, (m) => messages.push(m[18] === MessageType.Update ? UPDATE_SEEN : decodeMessage(m, INITIAL_CONTEXT))),
  );
  socket.on('close', () => (closed = true));
  socket.on('error', () => {});
  return { messages, closed: () => closed };
}

/**
 * A session dialling a raw peer that answers with its OPEN (AS 64513) and a KEEPALIVE, once Established.
 * `wire` attaches listeners before start().
 */
async function establishedWithRawPeer(
  deps: ConstructorParameters<typeof BgpSession>[1],
  wire: (a: BgpSession) => void = () => {},
): Promise<{ a: BgpSession; peer: ReturnType<typeof rawPeer>; peerSocket: net.Socket }> {
  let peer: ReturnType<typeof rawPeer> | undefined;
  let peerSocket: net.Socket | undefined;
  const port = await listen((s) => {
    peerSocket = s;
    peer = rawPeer(s);
  });
  const a = session(options({ peerPort: port }), deps);
  wire(a);
  a.start();
  await until(() => peer !== undefined && peer.messages.length >= 1, 'our OPEN');
  peerSocket!.write(encodeMessage(buildOpen(options({ localAs: 64513, routerId: 0x0a000002 })), INITIAL_CONTEXT));
  peerSocket!.write(encodeMessage(KEEPALIVE, INITIAL_CONTEXT));
  await until(() => a.state === 'Established', 'Established');
  return { a, peer: peer!, peerSocket: peerSocket! };
}

describe('BgpSession over loopback', () => {
  it('two ingot sessions establish, keep each other alive with KEEPALIVEs, and one closes with Cease', async () => {
    const clock = new FakeClock();
    const b = session(options({ localAs: 64513, peerAs: 64512, routerId: 0x0a000002, dial: false }), { clock });
    const port = await listen((s) => b.acceptInbound(s));
    const a = session(options({ peerPort: port, localAddress: '127.0.0.1' }), { clock });
    const events: string[] = [];
    a.on('established', () => events.push('a up'));
    b.on('established', () => events.push('b up'));
    let bDown: LastError | undefined;
    b.on('down', (r) => (bDown = r));
    b.start();
    // A passive session cycles its ConnectRetryTimer without dialling and still accepts afterwards.
    clock.advance(65_000);
    assert.equal(b.dials, 0);
    a.start();
    await until(() => a.state === 'Established' && b.state === 'Established', 'Established on both sides');
    assert.deepEqual(events.sort(), ['a up', 'b up']);
    assert.equal(a.negotiated?.holdTime, 90);
    assert.equal(a.negotiated?.keepaliveTime, 30);
    assert.equal(a.context.as4, true);
    assert.equal(a.dials, 1);

    // Ten fake minutes in 30 s steps: each side's KEEPALIVEs must restart the other's 90 s hold timer.
    for (let i = 1; i <= 20; i++) {
      const before = b.received[MessageType.Keepalive]!;
      clock.advance(30_000);
      await until(() => b.received[MessageType.Keepalive]! > before && a.received[MessageType.Keepalive]! >= i + 1, `keepalive round ${i}`);
    }
    assert.equal(a.state, 'Established');
    assert.equal(b.state, 'Established');
    assert.ok(a.sent[MessageType.Keepalive]! >= 21);

    await a.stop({ message: 'maintenance' });
    await until(() => bDown !== undefined, 'b to see the session go down');
    assert.equal(a.state, 'Idle');
    assert.equal(bDown?.notification?.direction, 'received');
    assert.equal(bDown?.notification?.code, NotificationCode.Cease);
    assert.equal(bDown?.notification?.subcode, CeaseSubcode.AdministrativeShutdown);
    assert.deepEqual([...bDown!.notification!.data], [...shutdownCommunication('maintenance')]);
    // b was passive: it waits in Active for the peer to come back.
    assert.equal(b.state, 'Active');
    await b.stop();
  });

  for (let round = 1; round <= 3; round++) {
    it(`both sides dial at once: one connection survives, the one opened by the higher BGP Identifier (round ${round})`, async () => {
      const clock = new FakeClock();
      const inbound = { a: 0, b: 0 };
      let a: BgpSession | undefined;
      let b: BgpSession | undefined;
      const portA = await listen((s) => {
        inbound.a++;
        a!.acceptInbound(s);
      });
      const portB = await listen((s) => {
        inbound.b++;
        b!.acceptInbound(s);
      });
      // b has the higher identifier, so the connection b opened (a's inbound one) must be the survivor.
      a = session(options({ peerPort: portB, routerId: 0x0a000001 }), { clock, random: () => 0 });
      b = session(options({ peerPort: portA, localAs: 64513, peerAs: 64512, routerId: 0x0a000002 }), { clock, random: () => 0 });
      let ups = 0;
      let downs = 0;
      for (const x of [a, b]) {
        x.on('established', () => ups++);
        x.on('down', () => downs++);
      }
      a.start();
      b.start();
      await until(() => a!.state === 'Established' && b!.state === 'Established', 'Established on both sides');
      assert.equal(a.dials, 1);
      assert.equal(b.dials, 1);
      assert.equal(inbound.a + inbound.b, 2, 'both dials reached the other side');
      // Let the loser's Cease and close play out, then prove the survivor carries keepalives.
      for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
      for (let i = 1; i <= 4; i++) {
        const before = a.received[MessageType.Keepalive]!;
        clock.advance(30_000);
        await until(() => a!.received[MessageType.Keepalive]! > before, `keepalive ${i}`);
      }
      assert.equal(a.state, 'Established');
      assert.equal(b.state, 'Established');
      assert.equal(ups, 2, 'each side came up exactly once');
      assert.equal(a.direction, 'inbound', 'a kept the connection b opened');
      assert.equal(b.direction, 'outbound');
      const ceases = a.sent[MessageType.Notification]! + b.sent[MessageType.Notification]!;
      assert.ok(ceases >= 1 && ceases <= 2, `the losing connection was closed with Cease (${ceases})`);
      assert.equal(downs, 0);
      await Promise.all([a.stop(), b.stop()]);
    });
  }

  it('with the default (real) clock and net.connect, a session establishes and stops without leaving handles', async () => {
    const b = session(options({ localAs: 64513, peerAs: 64512, routerId: 0x0a000002, dial: false }), {});
    const port = await listen((s) => b.acceptInbound(s));
    const a = session(options({ peerPort: port }), {});
    b.start();
    a.start();
    await until(() => a.state === 'Established' && b.state === 'Established', 'Established');
    await Promise.all([a.stop(), b.stop()]);
    assert.equal(a.state, 'Idle');
    assert.equal(b.state, 'Idle');
  });

  it('a peer that goes silent is dropped at hold timer expiry with NOTIFICATION 4/0', async () => {
    const clock = new FakeClock();
    const { a, peer } = await establishedWithRawPeer({ clock, random: () => 0 });
    clock.advance(89_999);
    await new Promise((r) => setImmediate(r));
    assert.equal(a.state, 'Established');
    clock.advance(1);
    await until(() => peer.closed(), 'the connection to close');
    const last = peer.messages.at(-1) as NotificationMessage;
    assert.equal(last.type, MessageType.Notification);
    assert.equal(last.code, NotificationCode.HoldTimerExpired);
    assert.equal(a.lastError?.event, 'HoldTimerExpires');
    await a.stop();
  });

  for (const [name, garbage, code, subcode, data] of [
    ['a broken marker', new Uint8Array(19), NotificationCode.MessageHeaderError, MessageHeaderSubcode.ConnectionNotSynchronized, []],
    ['an unknown message type', header(19, 9), NotificationCode.MessageHeaderError, MessageHeaderSubcode.BadMessageType, [9]],
    ['a length beyond 4096', header(5000, 2), NotificationCode.MessageHeaderError, MessageHeaderSubcode.BadMessageLength, [0x13, 0x88]],
    [
      'an OPEN from the wrong AS',
      encodeMessage({ ...buildOpen(options({ localAs: 65001, routerId: 0x0a000002 })) }, INITIAL_CONTEXT),
      NotificationCode.OpenMessageError,
      OpenSubcode.BadPeerAs,
      [],
    ],
  ] as const) {
    it(`a peer sending ${name} gets NOTIFICATION ${code}/${subcode} and the connection closes`, async () => {
      const clock = new FakeClock();
      const b = session(options({ dial: false }), { clock });
      const port = await listen((s) => b.acceptInbound(s));
      b.start();
      const client = net.connect({ host: '127.0.0.1', port });
      sockets.push(client);
      const peer = rawPeer(client);
      await until(() => peer.messages.length >= 1, 'the OPEN from the session');
      assert.equal(peer.messages[0]!.type, MessageType.Open);
      client.write(garbage);
      await until(() => peer.closed(), 'the session to close the connection');
      const n = peer.messages.at(-1) as NotificationMessage;
      assert.equal(n.type, MessageType.Notification);
      assert.deepEqual([n.code, n.subcode, [...n.data]], [code, subcode, [...data]]);
      assert.equal(b.lastError?.notification?.direction, 'sent');
      // Back to listening, with the failure counted.
      assert.equal(b.state, 'Active');
      await b.stop();
    });
  }

  for (const refusal of ['notification', 'close', 'established-then-close'] as const)
  it(`a router that refuses every session (${refusal}) sees backed-off attempts, not a storm`, async () => {
    const clock = new FakeClock();
    const connectTimes: number[] = [];
    const port = await listen((s) => {
      connectTimes.push(clock.now());
      const framer = new Framer();
      s.on('error', () => {});
      s.on('data', (chunk) =>
        framer.push(chunk, (m) => {
          if (m[18] !== MessageType.Open) return;
          if (refusal === 'close') {
            s.destroy(); // closes right after our OPEN, without a word
            return;
          }
          if (refusal === 'established-then-close') {
            // Comes up properly, then drops at once: never stable, so the backoff must not reset.
            s.write(encodeMessage(buildOpen(options({ localAs: 64513, routerId: 0x0a000002 })), INITIAL_CONTEXT));
            s.end(encodeMessage(KEEPALIVE, INITIAL_CONTEXT));
            return;
          }
          s.end(
            encodeMessage(
              { type: MessageType.Notification, code: NotificationCode.OpenMessageError, subcode: OpenSubcode.BadPeerAs, data: new Uint8Array() },
              INITIAL_CONTEXT,
            ),
          );
        }),
      );
    });
    const a = session(options({ peerPort: port }), { clock, random: () => 0 });
    let ups = 0;
    a.on('established', () => ups++);
    a.start();
    const expected = [1000, 2000, 4000, 8000, 16000, 32000, 64000, 120000, 120000];
    for (const [i, delay] of expected.entries()) {
      await until(() => a.state === 'Active' && connectTimes.length === i + 1, `refusal ${i + 1}`);
      if (refusal === 'notification') assert.equal(a.lastError?.notification?.subcode, OpenSubcode.BadPeerAs);
      clock.advance(delay - 1);
      await new Promise((r) => setImmediate(r));
      assert.equal(a.dials, i + 1, `no redial before ${delay} ms`);
      clock.advance(1);
      assert.equal(a.dials, i + 2, `redial at ${delay} ms`);
    }
    await until(() => connectTimes.length === expected.length + 1, 'last attempt');
    const gaps = connectTimes.slice(1).map((t, i) => t - connectTimes[i]!);
    assert.deepEqual(gaps, expected);
    await until(() => a.state === 'Active', 'the last refusal');
    assert.equal(ups, refusal === 'established-then-close' ? expected.length + 1 : 0);
    await a.stop();
  });

  it('RFC 7606: an UPDATE with a bad ORIGIN is treated as withdraw and the session stays up; ROUTE-REFRESH asks for a resend', async () => {
    const clock = new FakeClock();
    const updates: [number, boolean][] = [];
    let refreshes = 0;
    const { a, peer, peerSocket } = await establishedWithRawPeer({ clock }, (s) => {
      s.on('update', (u, withdraw) => updates.push([u.nlri.count, withdraw]));
      s.on('routeRefresh', () => refreshes++);
    });
    // Written byte by byte from RFC 4271 §4.3, independent of the encoder. 4-octet AS_PATH: both sent
    // the 4-octet AS capability.
    const update = (origin: number) =>
      new Uint8Array([
        ...new Array(16).fill(0xff), 0, 48, 2, // header: length 48, UPDATE
        0, 0, // no withdrawn routes
        0, 20, // path attribute length
        0x40, 1, 1, origin, // ORIGIN
        0x40, 2, 6, 2, 1, 0, 0, 0xfc, 0x01, // AS_PATH: AS_SEQUENCE [64513]
        0x40, 3, 4, 127, 0, 0, 2, // NEXT_HOP
        32, 10, 0, 0, 1, // NLRI 10.0.0.1/32
      ]);
    peerSocket.write(update(0));
    peerSocket.write(update(7));
    peerSocket.write(new Uint8Array([...new Array(16).fill(0xff), 0, 23, 5, 0, 1, 0, 1])); // ROUTE-REFRESH IPv4 unicast
    await until(() => updates.length === 2 && refreshes === 1, 'both UPDATEs and the ROUTE-REFRESH');
    assert.deepEqual(updates, [
      [1, false],
      [1, true],
    ]);
    assert.equal(a.state, 'Established');
    assert.equal(a.sent[MessageType.Notification], 0);
    // A listener that throws resets this session with Cease instead of crashing the process.
    a.on('update', () => {
      throw new Error('listener bug');
    });
    peerSocket.write(update(0));
    await until(() => peer.closed(), 'the reset');
    assert.equal((a.internalError as Error).message, 'listener bug');
    assert.equal((peer.messages.at(-1) as NotificationMessage).code, NotificationCode.Cease);
    await a.stop();
  });

  it('shutdown communication (RFC 9003) is length-prefixed and cut at 255 octets on a character boundary', () => {
    assert.deepEqual([...shutdownCommunication('ok')], [2, 0x6f, 0x6b]);
    const long = shutdownCommunication('é'.repeat(200)); // 400 octets of 2-octet characters
    assert.equal(long[0], 254);
    assert.equal(long.length, 255);
    assert.equal(new TextDecoder('utf-8', { fatal: true }).decode(long.subarray(1)), 'é'.repeat(127));
  });

  it('UPDATEs queue behind KEEPALIVEs and drain with back-pressure', async () => {
    const clock = new FakeClock();
    const { a, peer, peerSocket } = await establishedWithRawPeer({ clock });
    peerSocket.pause(); // the router stops reading: the socket buffers fill up
    // 5000 full-size UPDATEs (≈ 20 MB): far more than the loopback socket buffers can absorb.
    const big = fullUpdate();
    assert.ok(big.length > 4000 && big.length <= 4096);
    const burst = Array.from({ length: 5000 }, () => big);
    let drained = false;
    a.on('drained', () => (drained = true));
    assert.equal(a.sendUpdates(burst), true);
    assert.ok(a.pendingBytes > 0, 'back-pressure keeps most of the burst queued in the session');
    const keepalivesBefore = a.sent[MessageType.Keepalive]!;
    clock.advance(30_000);
    assert.equal(a.sent[MessageType.Keepalive], keepalivesBefore + 1, 'the KEEPALIVE went out past the queued burst');
    assert.ok(a.pendingBytes > 1_000_000, 'while most of the burst was still queued');
    peerSocket.resume();
    await until(() => drained, 'the burst to drain');
    await until(() => peer.messages.filter((m) => m.type === MessageType.Update).length === burst.length, 'every UPDATE at the peer');
    const types = peer.messages.map((m) => m.type);
    const firstUpdate = types.indexOf(MessageType.Update);
    const keepaliveAfter = types.indexOf(MessageType.Keepalive, firstUpdate);
    assert.ok(keepaliveAfter > 0 && keepaliveAfter < types.length - 1000, 'the KEEPALIVE arrived long before the burst ended');
    await a.stop();
  });
});

function header(length: number, type: number): Uint8Array {
  const b = new Uint8Array(19).fill(0xff);
  b[16] = length >> 8;
  b[17] = length & 0xff;
  b[18] = type;
  return b;
}

const UPDATE_SEEN: BgpMessage = { type: MessageType.Update, withdrawn: emptyList(), attributes: [], nlri: emptyList() };

function emptyList() {
  return { afi: 1, count: 0, bytes: new Uint8Array(), start: 0, end: 0 };
}

/** An UPDATE of 800 IPv4 /32s with ORIGIN, empty AS_PATH and NEXT_HOP, built with the codec. */
function fullUpdate(): Uint8Array {
  const n = 800;
  const bytes = new Uint8Array(n * 5);
  for (let i = 0; i < n; i++) bytes.set([32, 10, 1, i >> 8, i & 0xff], i * 5);
  return encodeMessage(
    {
      type: MessageType.Update,
      withdrawn: emptyList(),
      attributes: [
        { kind: 'origin', flags: 0x40, origin: 0 },
        { kind: 'as-path', flags: 0x40, segments: [] },
        { kind: 'next-hop', flags: 0x40, nextHop: 0x7f000001 },
      ],
      nlri: { afi: 1, count: n, bytes, start: 0, end: bytes.length },
    },
    INITIAL_CONTEXT,
  );
}
