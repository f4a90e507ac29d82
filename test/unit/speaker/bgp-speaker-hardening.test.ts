// Issue 8 at the speaker: a session wedged by a bad ROUTE-REFRESH shows in /status, the log and the metrics;
// one peer's TCP-MD5 problem at startup degrades that peer only; refused connections are counted exactly and
// logged rate-limited. Loopback TCP, BGP timers on a FakeClock.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { FakeClock } from '../../helpers/fake-clock.js';
import { BgpSpeaker, REFUSED_LOG_INTERVAL_MS } from '../../../src/speaker/bgp-speaker.js';
import { buildOpen } from '../../../src/bgp/session.js';
import { encodeMessage, KEEPALIVE, MessageType, NotificationCode } from '../../../src/bgp/index.js';
import { INITIAL_CONTEXT } from '../../../src/bgp/context.js';
import { SpeakerMetrics } from '../../../src/metrics/registry.js';
import { createLogger } from '../../../src/log.js';
import { TestPeer, captureLog, closedPort, ifaceTable, peerConfig, route4, turns, until } from './harness.js';
import { longBorr } from '../../helpers/wire-builder.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const LO = ifaceTable({ lo: ['127.0.0.1', '::1'] });

function makeSpeaker(o: { clock: FakeClock; listen?: { host: string; port: number }; native?: () => never }) {
  const metrics = new SpeakerMetrics();
  const log = captureLog();
  const speaker = new BgpSpeaker(
    { nodeName: 'node-a', metrics, logger: createLogger({ level: 'debug', write: log.write }), ...(o.listen ? { listen: o.listen } : {}) },
    { clock: o.clock, interfaces: () => LO, ...(o.native ? { native: o.native } : {}) },
  );
  cleanups.push(() => speaker.stop({ timeoutMs: 1000 }));
  return { speaker, metrics, log };
}


describe('BgpSpeaker hardening (issue 8)', () => {
  it('an over-long BoRR on an Established session: NOTIFICATION 7/1, /status lastError, sessionDown logged, session_up 0, redial', async () => {
    const clock = new FakeClock();
    const { speaker, metrics, log } = makeSpeaker({ clock });
    // A raw router: answers our OPEN, then sends the bad ROUTE-REFRESH.
    const conns: net.Socket[] = [];
    const server = net.createServer((s) => {
      conns.push(s);
      s.on('error', () => {});
      s.write(encodeMessage(buildOpen({ peerAddress: '127.0.0.1', localAs: 64512, peerAs: 64512, routerId: 0x0a000063, holdTime: 90 }), INITIAL_CONTEXT));
      s.write(encodeMessage(KEEPALIVE, INITIAL_CONTEXT));
    });
    cleanups.push(() => void server.close());
    await new Promise<void>((r) => server.listen(0, '127.0.0.51', r));
    const port = (server.address() as net.AddressInfo).port;
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.51', peerPort: port })]);
    speaker.setAdvertisementsAll([route4('10.1.0.51/32')]);
    await until(() => speaker.status().sessions[0]?.state === 'Established', 'Established');
    assert.match(await metrics.metrics(), /metallb_bgp_session_up\{peer="127\.0\.0\.51:\d+"\} 1/);
    const received: Buffer[] = [];
    conns[0]!.on('data', (d: Buffer) => received.push(d));
    let closed = false;
    conns[0]!.on('close', () => (closed = true));
    conns[0]!.write(longBorr(4090));
    await until(() => closed, 'the speaker to drop the connection');
    const bytes = Buffer.concat(received);
    // The last message on the wire is NOTIFICATION 7/1 and fits 4096 octets.
    let off = 0;
    let last = -1;
    while (off + 19 <= bytes.length) {
      last = off;
      off += bytes.readUInt16BE(off + 16);
    }
    assert.ok(last >= 0);
    assert.equal(bytes[last + 18], MessageType.Notification);
    assert.deepEqual([bytes[last + 19], bytes[last + 20]], [NotificationCode.RouteRefreshMessageError, 1]);
    assert.ok(bytes.readUInt16BE(last + 16) <= 4096);
    const st = speaker.status().sessions[0]!;
    assert.notEqual(st.state, 'Established');
    assert.deepEqual([st.lastError?.notification?.code, st.lastError?.notification?.direction], [NotificationCode.RouteRefreshMessageError, 'sent']);
    assert.ok(log.lines.some((l) => l['event'] === 'sessionDown'));
    assert.match(await metrics.metrics(), /metallb_bgp_session_up\{peer="127\.0\.0\.51:\d+"\} 0/);
    // The restart is scheduled: the speaker dials again after its backoff.
    for (let i = 0; i < 130 && conns.length < 2; i++) {
      clock.advance(1000);
      await turns(5);
    }
    assert.ok(conns.length >= 2, 'redialled');
  });

  it('a throwing log sink inside a session event does not wedge the session: it recovers and redials', async () => {
    const clock = new FakeClock();
    // A logger that throws once on 'sessionUp' stands in for any bug in the speaker's 'established' handler.
    let armed = true;
    const lines: Record<string, unknown>[] = [];
    const metrics = new SpeakerMetrics();
    const speaker = new BgpSpeaker(
      {
        nodeName: 'node-a',
        metrics,
        logger: createLogger({
          level: 'debug',
          write: (l) => {
            const o = JSON.parse(l) as Record<string, unknown>;
            lines.push(o);
            if (armed && o['event'] === 'sessionUp') {
              armed = false;
              throw new Error('log sink failed');
            }
          },
        }),
      },
      { clock, interfaces: () => LO },
    );
    cleanups.push(() => speaker.stop({ timeoutMs: 1000 }));
    const tp = await TestPeer.listening('127.0.0.52', { localAs: 64512, peerAs: 64512 }, clock);
    cleanups.push(() => tp.close());
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.52', peerPort: tp.port })]);
    speaker.setAdvertisementsAll([route4('10.1.0.52/32')]);
    await until(() => lines.some((l) => l['event'] === 'sessionInternalError'), 'the internal error to be logged with the peer');
    const ie = lines.find((l) => l['event'] === 'sessionInternalError')!;
    assert.match(String(ie['peer']), /^127\.0\.0\.52:/);
    assert.match(String(speaker.status().sessions[0]?.lastError?.error), /log sink failed/);
    assert.ok(lines.some((l) => l['event'] === 'sessionDown' && /log sink failed/.test(String(l['error']))), 'sessionDown logged with the error');
    assert.match(await metrics.metrics(), /metallb_bgp_session_up\{peer="127\.0\.0\.52:\d+"\} 0/);
    for (let i = 0; i < 130 && tp.routes.size === 0; i++) {
      clock.advance(1000);
      await turns(5);
    }
    assert.equal(tp.routes.size, 1, 'the session came back and announced the route');
  });

  it('startup: an 81-byte TCP-MD5 key fails that peer only; the listener opens, a keyed and an unkeyed peer get in', async () => {
    const clock = new FakeClock();
    const { speaker } = makeSpeaker({ clock, listen: { host: '127.0.0.1', port: 0 } });
    const dead = await closedPort('127.0.0.1');
    speaker.setPeers([
      peerConfig({ peerAddress: '127.0.0.60', peerPort: dead, password: 'x'.repeat(81) }),
      peerConfig({ peerAddress: '127.0.0.61', peerPort: dead, password: 'good key' }),
      peerConfig({ peerAddress: '127.0.0.62', peerPort: dead }),
    ]);
    speaker.setAdvertisementsAll([route4('10.1.0.60/32')]);
    await speaker.start(); // used to reject (the speaker exited 2 blaming --bgp-listen)
    const port = speaker.listenAddress!.port;
    assert.match(String(speaker.status().sessions[0]?.socketError), /81 bytes/);
    const keyed = TestPeer.dialling('127.0.0.61', port, { localAs: 64512, peerAs: 64512, md5Key: 'good key' }, clock);
    const plain = TestPeer.dialling('127.0.0.62', port, { localAs: 64512, peerAs: 64512 }, clock);
    cleanups.push(() => keyed.close(), () => plain.close());
    await until(() => keyed.routes.size === 1 && plain.routes.size === 1, 'the keyed and the unkeyed peer Established inbound');
    assert.equal(speaker.status().sessions[1]?.socketError, null);
  });

  it('startup without the native addon: keyed peers report it, the listener opens, an unkeyed peer gets in', async () => {
    const clock = new FakeClock();
    const { speaker } = makeSpeaker({ clock, listen: { host: '127.0.0.1', port: 0 }, native: () => { throw new Error('addon not built'); } });
    const dead = await closedPort('127.0.0.1');
    speaker.setPeers([
      peerConfig({ peerAddress: '127.0.0.63', peerPort: dead, password: 'k', peerASN: 64513 }),
      peerConfig({ peerAddress: '127.0.0.64', peerPort: dead }),
    ]);
    speaker.setAdvertisementsAll([route4('10.1.0.63/32')]);
    await speaker.start();
    assert.match(String(speaker.status().sessions[0]?.socketError), /addon not built/);
    // The keyed peer's key is not on the listener: its connection (unsigned) is refused, not accepted.
    const keyedUnsigned = TestPeer.dialling('127.0.0.63', speaker.listenAddress!.port, { localAs: 64513, peerAs: 64512 }, clock);
    const plain = TestPeer.dialling('127.0.0.64', speaker.listenAddress!.port, { localAs: 64512, peerAs: 64512 }, clock);
    cleanups.push(() => keyedUnsigned.close(), () => plain.close());
    await until(() => plain.routes.size === 1, 'the unkeyed peer Established inbound');
    await turns(100);
    assert.equal(keyedUnsigned.ups.length, 0, 'a keyed peer is never accepted unsigned');
  });

  it('2,000 connections from unconfigured addresses: exact counter, a bounded number of log lines', async () => {
    const clock = new FakeClock();
    const { speaker, metrics, log } = makeSpeaker({ clock, listen: { host: '127.0.0.1', port: 0 } });
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.70', peerPort: await closedPort('127.0.0.70') })]);
    speaker.setAdvertisementsAll([]);
    await speaker.start();
    const port = speaker.listenAddress!.port;
    const N = 2000;
    let done = 0;
    for (let batch = 0; batch < N / 200; batch++) {
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          new Promise<void>((resolve) => {
            const c = net.connect({ host: '127.0.0.1', port, localAddress: `127.0.1.${(i % 250) + 1}` });
            c.on('error', () => {});
            c.on('close', () => {
              done++;
              resolve();
            });
          }),
        ),
      );
    }
    assert.equal(done, N);
    await until(() => log.lines.filter((l) => l['event'] === 'connectionRefused').length >= 1, 'the first refusal logged');
    const text = async () => metrics.metrics();
    const deadline = Date.now() + 5000;
    while (!/ingot_bgp_connections_refused_total\{reason="unconfigured"\} 2000\b/.test(await text()) && Date.now() < deadline) await turns(10);
    assert.match(await text(), /ingot_bgp_connections_refused_total\{reason="unconfigured"\} 2000\b/);
    const refusedLines = () => log.lines.filter((l) => l['event'] === 'connectionRefused' || l['event'] === 'connectionsRefusedSuppressed');
    assert.equal(refusedLines().length, 1, 'one line while the flood lasts');
    clock.advance(REFUSED_LOG_INTERVAL_MS);
    const summary = log.lines.filter((l) => l['event'] === 'connectionsRefusedSuppressed');
    assert.equal(summary.length, 1);
    assert.equal(summary[0]!['count'], N - 1, 'the summary counts every suppressed refusal');
    assert.equal(refusedLines().length, 2);
    // Quiet for a whole interval: the next refusal is logged in full again.
    clock.advance(REFUSED_LOG_INTERVAL_MS);
    await new Promise<void>((resolve) => {
      const c = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.2.1' });
      c.on('error', () => {});
      c.on('close', () => resolve());
    });
    await until(() => log.lines.filter((l) => l['event'] === 'connectionRefused').length === 2, 'a new full line after a quiet interval');
  });
});
