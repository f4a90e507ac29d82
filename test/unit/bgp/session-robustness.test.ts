// Issue 8 item 1: a remote message or a local bug must never wedge a session. Over real loopback TCP with
// the BGP timers on a FakeClock: a raw peer sends an over-long BoRR ROUTE-REFRESH (whose NOTIFICATION used
// to be too big to encode), before OPEN and when Established; listeners that throw stand in for any bug in
// an action. Each time the session must end like an ordinary error: NOTIFICATION (when one is due), TCP
// closed, 'down' reported if it was up, Idle with lastError, and a restart scheduled (Active, listening).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { FakeClock } from '../../helpers/fake-clock.js';
import { BgpSession, buildOpen, type SessionOptions } from '../../../src/bgp/session.js';
import { decodeMessage, encodeMessage, KEEPALIVE } from '../../../src/bgp/codec.js';
import { INITIAL_CONTEXT } from '../../../src/bgp/context.js';
import { Framer } from '../../../src/bgp/framer.js';
import { endOfRib } from '../../../src/bgp/update.js';
import { CeaseSubcode, MessageType, NotificationCode, RouteRefreshSubcode } from '../../../src/bgp/constants.js';
import type { BgpMessage, NotificationMessage } from '../../../src/bgp/types.js';
import type { LastError } from '../../../src/bgp/fsm.js';
import { longBorr } from '../../helpers/wire-builder.js';

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
const sessions: BgpSession[] = [];
after(async () => {
  await Promise.all(sessions.map((s) => s.stop()));
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

async function until(cond: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

function options(over: Partial<SessionOptions>): SessionOptions {
  return { peerAddress: '127.0.0.1', localAs: 64512, peerAs: 64513, routerId: 0x0a000001, holdTime: 90, ...over };
}

interface RawPeer {
  socket: net.Socket;
  messages: BgpMessage[];
  lengths: number[];
  closed: () => boolean;
}

/** A listener standing in for the peer router; every accepted connection becomes a RawPeer. */
async function rawRouter(): Promise<{ port: number; peers: RawPeer[] }> {
  const peers: RawPeer[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    const framer = new Framer(65535);
    const p: RawPeer = { socket, messages: [], lengths: [], closed: () => closed };
    let closed = false;
    socket.on('data', (chunk) =>
      framer.push(chunk, (m) => {
        p.lengths.push(m.length);
        p.messages.push(decodeMessage(m, { ...INITIAL_CONTEXT, maxMessageLength: 65535 }));
      }),
    );
    socket.on('close', () => (closed = true));
    socket.on('error', () => {});
    peers.push(p);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, peers };
}


function session(clock: FakeClock, port: number): BgpSession {
  const s = new BgpSession(options({ peerPort: port }), { clock, random: () => 0 });
  sessions.push(s);
  return s;
}

async function established(s: BgpSession, peers: RawPeer[]): Promise<RawPeer> {
  s.start();
  await until(() => peers[0] !== undefined && peers[0].messages.length >= 1, 'our OPEN');
  const p = peers[0]!;
  p.socket.write(encodeMessage(buildOpen(options({ localAs: 64513, routerId: 0x0a000002 })), INITIAL_CONTEXT));
  p.socket.write(encodeMessage(KEEPALIVE, INITIAL_CONTEXT));
  await until(() => s.state === 'Established', 'Established');
  return p;
}

/** The common "ended like an ordinary error" checks, then proof that the restart really dials again. */
async function assertRecovered(s: BgpSession, clock: FakeClock, peers: RawPeer[], p: RawPeer): Promise<void> {
  await until(() => p.closed(), 'the connection to close');
  assert.ok(p.lengths.every((l) => l <= 4096), `every message sent fits 4096 octets (${p.lengths.join(',')})`);
  assert.equal(s.state, 'Active', 'restarted: waiting in Active for the backoff, listening');
  assert.ok(s.lastError !== undefined, 'lastError reported');
  const dials = s.dials;
  clock.advance(120_000);
  await until(() => peers.length >= 2 && peers.at(-1)!.messages.length >= 1, 'a new connection with our OPEN');
  assert.ok(s.dials > dials);
}

describe('session robustness (issue 8 item 1)', () => {
  for (const length of [24, 4075, 4076, 4090, 4096]) {
    it(`a BoRR ROUTE-REFRESH of ${length} octets before OPEN: NOTIFICATION 7/1 that fits, TCP closed, restart`, async () => {
      const clock = new FakeClock();
      const { port, peers } = await rawRouter();
      const s = session(clock, port);
      s.start();
      await until(() => peers[0] !== undefined && peers[0].messages.length >= 1, 'our OPEN');
      const p = peers[0]!;
      p.socket.write(longBorr(length));
      await assertRecovered(s, clock, peers, p);
      const n = p.messages.at(-1) as NotificationMessage;
      assert.equal(n.type, MessageType.Notification);
      assert.deepEqual([n.code, n.subcode], [NotificationCode.RouteRefreshMessageError, RouteRefreshSubcode.InvalidMessageLength]);
      assert.ok(n.data.length <= 4096 - 21);
      assert.equal(s.lastError?.notification?.direction, 'sent');
      assert.equal(s.lastError?.notification?.code, NotificationCode.RouteRefreshMessageError);
      await s.stop();
    });
  }

  it('a BoRR ROUTE-REFRESH of 4090 octets when Established: NOTIFICATION 7/1, down reported, restart', async () => {
    const clock = new FakeClock();
    const { port, peers } = await rawRouter();
    const s = session(clock, port);
    const downs: LastError[] = [];
    s.on('down', (r) => downs.push(r));
    const p = await established(s, peers);
    p.socket.write(longBorr(4090));
    await assertRecovered(s, clock, peers, p);
    const n = p.messages.at(-1) as NotificationMessage;
    assert.deepEqual([n.type, n.code, n.subcode], [MessageType.Notification, NotificationCode.RouteRefreshMessageError, RouteRefreshSubcode.InvalidMessageLength]);
    assert.equal(downs.length, 1, "'down' reported once (the speaker sets session_up 0 and logs sessionDown on it)");
    assert.equal(downs[0]!.notification?.code, NotificationCode.RouteRefreshMessageError);
    await s.stop();
  });

  for (const where of ['established', 'routeRefresh', 'update', 'state'] as const) {
    it(`a '${where}' listener that throws: Cease sent once, TCP closed, down reported, Idle → restart, internalError emitted`, async () => {
      const clock = new FakeClock();
      const { port, peers } = await rawRouter();
      const s = session(clock, port);
      let armed = true;
      const boom = () => {
        if (!armed) return;
        armed = false;
        throw new Error(`bug in a ${where} listener`);
      };
      const downs: LastError[] = [];
      const internal: string[] = [];
      s.on('down', (r) => downs.push(r));
      s.on('internalError', (_e, w) => internal.push(w));
      if (where === 'state') s.on('state', (_f, to) => (to === 'Established' ? boom() : undefined));
      else s.on(where, boom);
      s.start();
      await until(() => peers[0] !== undefined && peers[0].messages.length >= 1, 'our OPEN');
      const p = peers[0]!;
      p.socket.write(encodeMessage(buildOpen(options({ localAs: 64513, routerId: 0x0a000002 })), INITIAL_CONTEXT));
      p.socket.write(encodeMessage(KEEPALIVE, INITIAL_CONTEXT));
      if (where === 'routeRefresh') {
        await until(() => s.state === 'Established', 'Established');
        p.socket.write(encodeMessage({ type: MessageType.RouteRefresh, afi: 1, safi: 1, subtype: 0 }, INITIAL_CONTEXT));
      } else if (where === 'update') {
        await until(() => s.state === 'Established', 'Established');
        p.socket.write(encodeMessage(endOfRib(), INITIAL_CONTEXT));
      }
      await assertRecovered(s, clock, peers, p);
      const notes = p.messages.filter((m): m is NotificationMessage => m.type === MessageType.Notification);
      assert.deepEqual(notes.map((n) => [n.code, n.subcode]), [[NotificationCode.Cease, CeaseSubcode.Unspecific]]);
      assert.equal(internal.length, 1);
      assert.match(s.lastError?.error ?? '', new RegExp(`bug in a ${where} listener`));
      assert.equal(downs.length, 1, 'the session had been reported up, so it is reported down');
      assert.ok(s.internalError instanceof Error);
      await s.stop();
    });
  }
});
