// BgpSpeaker against in-process BGP peers (BgpSessions) on loopback 127.0.0.x, timers on a FakeClock. The
// peers decode everything they receive, so the assertions are about what went over the wire.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { FakeClock } from '../../helpers/fake-clock.js';
import { BgpSpeaker } from '../../../src/speaker/bgp-speaker.js';
import { BgpAnnouncer } from '../../../src/speaker/bgp-announcer.js';
import { sliceMessages } from '../../../src/speaker/flush.js';
import { ttlFor } from '../../../src/speaker/sockets.js';
import { shutdownMessage } from '../../../src/speaker/status.js';
import { NodeAgent } from '../../../src/agent/agent.js';
import { parseConfig } from '../../../src/config/index.js';
import { shutdownCommunication } from '../../../src/bgp/session.js';
import {
  Afi,
  CeaseSubcode,
  GR_FORWARDING_STATE,
  GracefulRestartFlag,
  NotificationCode,
  Safi,
  encodeMessage,
  KEEPALIVE,
  makeContext,
  routeRefresh,
  attr,
  ipv4Prefixes,
  Origin,
  packAnnouncements,
} from '../../../src/bgp/index.js';
import { ipv4Number } from '../../../src/ip/index.js';
import { SpeakerMetrics } from '../../../src/metrics/registry.js';
import { createLogger } from '../../../src/log.js';
import { TestPeer, advanceUntil, captureLog, closedPort, ifaceTable, peerConfig, route4, route6, turns, until } from './harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const LO = ifaceTable({ lo: ['127.0.0.1', '::1'] });
const LO_V6 = ifaceTable({ lo: ['127.0.0.1', '::1', 'fd00:99::1'] });

function makeSpeaker(o: { clock: FakeClock; listen?: { host: string; port: number }; interfaces?: typeof LO; log?: ReturnType<typeof captureLog> }) {
  const metrics = new SpeakerMetrics();
  const log = o.log ?? captureLog();
  const speaker = new BgpSpeaker(
    { nodeName: 'node-a', metrics, logger: createLogger({ level: 'debug', write: log.write }), ...(o.listen ? { listen: o.listen } : {}) },
    { clock: o.clock, interfaces: () => o.interfaces ?? LO },
  );
  cleanups.push(() => speaker.stop({ timeoutMs: 1000 }));
  return { speaker, metrics, log };
}

async function listeningPeer(address: string, o: { localAs: number; peerAs: number; holdTime?: number; md5Key?: string }, clock: FakeClock): Promise<TestPeer> {
  const p = await TestPeer.listening(address, o, clock);
  cleanups.push(() => p.close());
  return p;
}

describe('BgpSpeaker: announcements', () => {
  it('sends the desired routes packed with the iBGP policy, then End-of-RIB per family; withdraws what leaves the list', async () => {
    const clock = new FakeClock();
    const peer = await listeningPeer('127.0.0.2', { localAs: 64512, peerAs: 64512 }, clock);
    const { speaker, metrics } = makeSpeaker({ clock });
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.2', peerPort: peer.port })]);
    const key = `127.0.0.2:${peer.port}`;
    assert.deepEqual(speaker.peerKeys(), [key]);
    speaker.setAdvertisements(key, [route4('10.1.0.1/32', { localPref: 150, communities: [0xfc000064] }), route4('10.1.0.2/32'), route4('10.1.8.0/24')]);
    await until(() => peer.endOfRib.length === 2, 'End-of-RIB for both families');
    assert.deepEqual(peer.endOfRib.sort(), ['ipv4', 'ipv6']);
    assert.deepEqual([...peer.routes.keys()].sort(), ['10.1.0.1/32', '10.1.0.2/32', '10.1.8.0/24']);
    assert.deepEqual(peer.routes.get('10.1.0.1/32'), { nextHop: '127.0.0.1', localPref: 150, communities: [0xfc000064], asPath: [] });
    assert.deepEqual(peer.routes.get('10.1.0.2/32'), { nextHop: '127.0.0.1', localPref: 0, communities: [], asPath: [] });
    // Two attribute sets → two UPDATEs, plus two End-of-RIBs.
    assert.equal(peer.updates, 4);

    speaker.setAdvertisements(key, [route4('10.1.0.1/32', { localPref: 150, communities: [0xfc000064] })]);
    await until(() => peer.routes.size === 1, 'withdrawals');
    assert.deepEqual(peer.withdrawals.sort(), ['10.1.0.2/32', '10.1.8.0/24']);
    // Unchanged routes are not re-sent, and End-of-RIB goes once per session.
    assert.equal(peer.announcements.filter((p) => p === '10.1.0.1/32').length, 1);
    assert.equal(peer.endOfRib.length, 2);

    const text = await metrics.metrics();
    assert.match(text, new RegExp(`metallb_bgp_session_up\\{peer="${key}"\\} 1`));
    assert.match(text, new RegExp(`metallb_bgp_announced_prefixes_total\\{peer="${key}"\\} 1`));
    assert.match(text, new RegExp(`metallb_bgp_pending_prefixes_total\\{peer="${key}"\\} 0`));
    assert.match(text, new RegExp(`metallb_bgp_updates_total\\{peer="${key}"\\} 5`));
  });

  it('coalesces a burst of setAdvertisements calls into one flush', async () => {
    const clock = new FakeClock();
    const peer = await listeningPeer('127.0.0.12', { localAs: 64512, peerAs: 64512 }, clock);
    const { speaker } = makeSpeaker({ clock });
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.12', peerPort: peer.port })]);
    const key = speaker.peerKeys()[0]!;
    speaker.setAdvertisements(key, [route4('10.2.0.1/32')]);
    await until(() => peer.endOfRib.length === 2, 'initial table');
    const before = peer.updates;
    for (let i = 0; i < 200; i++) speaker.setAdvertisements(key, Array.from({ length: i + 1 }, (_, j) => route4(`10.3.${j >> 8}.${j & 255}/32`)));
    await until(() => peer.routes.size === 200, 'the final list');
    // 200 calls, one attribute set: one packed run (≤ 1 UPDATE per ~800 /32s) plus one withdrawal UPDATE.
    assert.equal(peer.updates - before, 2);
    assert.ok(!peer.routes.has('10.2.0.1/32'));
  });

  it('eBGP: AS_PATH is our AS, no LOCAL_PREF, TTL 1 on the socket (native addon)', async () => {
    const clock = new FakeClock();
    const peer = await listeningPeer('127.0.0.3', { localAs: 64513, peerAs: 64512 }, clock);
    const { speaker } = makeSpeaker({ clock });
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.3', peerPort: peer.port, peerASN: 64513 })]);
    speaker.setAdvertisementsAll([route4('10.1.0.1/32', { localPref: 150 })]);
    await until(() => peer.routes.size === 1, 'the route');
    assert.deepEqual(peer.routes.get('10.1.0.1/32'), { nextHop: '127.0.0.1', localPref: null, communities: [], asPath: [64512] });
    assert.equal(ttlFor(peerConfig({ peerAddress: 'x', peerPort: 1, peerASN: 64513 })), 1);
    assert.equal(ttlFor(peerConfig({ peerAddress: 'x', peerPort: 1, peerASN: 64513, ebgpMultihop: true })), 255);
    assert.equal(ttlFor(peerConfig({ peerAddress: 'x', peerPort: 1, gtsm: true })), 255);
    assert.equal(ttlFor(peerConfig({ peerAddress: 'x', peerPort: 1 })), undefined);
  });

  it('IPv6 routes: MP_REACH with a global address of the session interface; without one they are unsendable, with the reason in status', async () => {
    const clock = new FakeClock();
    const peer = await listeningPeer('127.0.0.4', { localAs: 64512, peerAs: 64512 }, clock);
    const { speaker } = makeSpeaker({ clock, interfaces: LO_V6 });
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.4', peerPort: peer.port })]);
    speaker.setAdvertisementsAll([route4('10.1.0.1/32'), route6('2001:db8::7/128')]);
    await until(() => peer.routes.size === 2, 'both routes');
    assert.equal(peer.routes.get('2001:db8::7/128')?.nextHop, 'fd00:99::1');
    assert.deepEqual(speaker.status().sessions[0]?.nextHops, { ipv4: '127.0.0.1', ipv6: 'fd00:99::1' });

    const peer2 = await listeningPeer('127.0.0.5', { localAs: 64512, peerAs: 64512 }, clock);
    const s2 = makeSpeaker({ clock, interfaces: LO });
    s2.speaker.setPeers([peerConfig({ peerAddress: '127.0.0.5', peerPort: peer2.port })]);
    s2.speaker.setAdvertisementsAll([route4('10.1.0.1/32'), route6('2001:db8::7/128')]);
    await until(() => peer2.endOfRib.length === 2, 'End-of-RIB');
    assert.deepEqual([...peer2.routes.keys()], ['10.1.0.1/32']);
    const st = s2.speaker.status().sessions[0]!;
    assert.deepEqual(st.prefixes.unsendable, [{ prefix: '2001:db8::7/128', why: 'no global IPv6 address to use as next hop' }]);
    assert.equal(st.prefixes.pending, 1);
  });

  it('re-sends the whole Adj-RIB-Out on ROUTE-REFRESH (RFC 2918)', async () => {
    const clock = new FakeClock();
    const peer = await listeningPeer('127.0.0.6', { localAs: 64512, peerAs: 64512 }, clock);
    const { speaker } = makeSpeaker({ clock });
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.6', peerPort: peer.port })]);
    speaker.setAdvertisementsAll([route4('10.1.0.1/32'), route4('10.1.0.2/32')]);
    await until(() => peer.endOfRib.length === 2, 'initial table');
    assert.equal(peer.announcements.length, 2);
    // The test peer has no API for ROUTE-REFRESH; its send queue takes any whole message.
    peer.session.sendUpdates([encodeMessage(routeRefresh(Afi.Ipv4, Safi.Unicast), makeContext())]);
    await until(() => peer.announcements.length === 4, 'the re-sent routes');
    assert.deepEqual(peer.announcements.slice(2).sort(), ['10.1.0.1/32', '10.1.0.2/32']);
    assert.equal(speaker.status().sessions[0]?.routeRefreshesReceived, 1);
  });

  it('holds End-of-RIB until the first desired table is known; graceful restart capability in the OPEN', async () => {
    const clock = new FakeClock();
    const peer = await listeningPeer('127.0.0.7', { localAs: 64512, peerAs: 64512 }, clock);
    const { speaker } = makeSpeaker({ clock });
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.7', peerPort: peer.port, gracefulRestart: true, gracefulRestartTime: 90 })]);
    await until(() => peer.ups.length === 1, 'Established');
    await turns();
    assert.equal(peer.updates, 0, 'no End-of-RIB before the table is known');
    const gr = peer.ups[0]!.open.capabilities.find((c) => c.kind === 'graceful-restart');
    assert.ok(gr && gr.kind === 'graceful-restart');
    assert.equal(gr.restartTime, 90);
    assert.equal(gr.flags, GracefulRestartFlag.RestartState, 'first session of this process: Restart State set');
    assert.deepEqual(gr.families, [
      { afi: Afi.Ipv4, safi: Safi.Unicast, flags: GR_FORWARDING_STATE },
      { afi: Afi.Ipv6, safi: Safi.Unicast, flags: GR_FORWARDING_STATE },
    ]);
    speaker.setAdvertisementsAll([route4('10.1.0.1/32')]);
    await until(() => peer.endOfRib.length === 2, 'End-of-RIB');
    assert.deepEqual(peer.announcements, ['10.1.0.1/32'], 'the table comes before End-of-RIB');
    const st = speaker.status().sessions[0]!;
    assert.deepEqual(st.gracefulRestart, { restartTime: 90 });
    assert.equal(st.endOfRibSent, true);

    // The router drops the session and comes back: a reconnect of a running speaker is no restart, so its
    // OPEN leaves Restart State clear (RFC 4724 §3); Forwarding State stays set.
    await peer.session.stop({ message: 'flap' });
    await until(() => speaker.status().sessions[0]?.state !== 'Established', 'the session to go down');
    peer.session.start();
    await advanceUntil(clock, () => peer.ups.length === 2, 'the speaker to reconnect');
    const gr2 = peer.ups[1]!.open.capabilities.find((c) => c.kind === 'graceful-restart');
    assert.ok(gr2 && gr2.kind === 'graceful-restart');
    assert.equal(gr2.flags, 0, 'a reconnect is not a restart: Restart State clear');
    assert.deepEqual(gr2.families.map((f) => f.flags), [GR_FORWARDING_STATE, GR_FORWARDING_STATE]);

    // A config change replaces the session object: still no restart of this process.
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.7', peerPort: peer.port, gracefulRestart: true, gracefulRestartTime: 120 })]);
    await advanceUntil(clock, () => peer.ups.length === 3, 'the replaced session to come up');
    const gr3 = peer.ups[2]!.open.capabilities.find((c) => c.kind === 'graceful-restart');
    assert.ok(gr3 && gr3.kind === 'graceful-restart');
    assert.deepEqual([gr3.restartTime, gr3.flags], [120, 0]);
  });
});

describe('BgpSpeaker: peers', () => {
  it('keeps an unchanged peer, replaces a changed one with Cease/Other Configuration Change, removes with Cease/Peer De-configured and drops its metrics', async () => {
    const clock = new FakeClock();
    const peer = await listeningPeer('127.0.0.8', { localAs: 64512, peerAs: 64512 }, clock);
    const { speaker, metrics, log } = makeSpeaker({ clock });
    const cfg = peerConfig({ peerAddress: '127.0.0.8', peerPort: peer.port });
    speaker.setPeers([cfg]);
    const key = speaker.peerKeys()[0]!;
    speaker.setAdvertisementsAll([route4('10.1.0.1/32')]);
    await until(() => peer.routes.size === 1, 'first session');
    const first = speaker.sessionOf(key);

    speaker.setPeers([{ ...cfg, nodeSelectors: [] }]);
    assert.equal(speaker.sessionOf(key), first, 'an equal config keeps its session');

    speaker.setPeers([{ ...cfg, holdTime: 60, keepaliveTime: 20 }]);
    assert.notEqual(speaker.sessionOf(key), first);
    assert.match(await metrics.metrics(), new RegExp(`metallb_bgp_session_up\\{peer="${key}"\\} 0`), 'the new session is not up yet');
    await until(() => peer.downs.length === 1, 'the old session to close');
    assert.equal(peer.downs[0]?.notification?.direction, 'received');
    assert.equal(peer.downs[0]?.notification?.code, NotificationCode.Cease);
    assert.equal(peer.downs[0]?.notification?.subcode, CeaseSubcode.OtherConfigurationChange);
    // The peer's backoff waits in Active (it accepts); the new session dials it and re-sends the table.
    await until(() => peer.ups.length === 2 && peer.routes.size === 1, 'the new session with the table');
    assert.equal(peer.ups[1]?.holdTime, 60);

    speaker.setPeers([]);
    await until(() => peer.downs.length === 2, 'the removed peer to close');
    assert.equal(peer.downs[1]?.notification?.subcode, CeaseSubcode.PeerDeConfigured);
    assert.deepEqual(speaker.peerKeys(), []);
    assert.doesNotMatch(await metrics.metrics(), new RegExp(`peer="${key}"`));
    const events = log.lines.map((l) => l['event']);
    for (const e of ['peerAdded', 'sessionUp', 'peerChanged', 'peerNotification', 'peerRemoved']) {
      if (e === 'peerNotification') continue; // the speaker sent the NOTIFICATIONs; it received none
      assert.ok(events.includes(e), `log has ${e}`);
    }
  });

  it('accepts an inbound connection from a configured peer and refuses (closes) others, logging it', async () => {
    const clock = new FakeClock();
    const { speaker, log } = makeSpeaker({ clock, listen: { host: '127.0.0.1', port: 0 } });
    await speaker.start();
    const port = speaker.listenAddress!.port;
    // The configured peer's own port is closed, so our dial fails and the session waits in Active.
    const deadPort = await closedPort('127.0.0.10');
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.10', peerPort: deadPort })]);
    speaker.setAdvertisementsAll([route4('10.1.0.9/32')]);
    const key = speaker.peerKeys()[0]!;
    await until(() => speaker.sessionOf(key)?.state === 'Active', 'our dial to fail');

    const stranger = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.11' });
    stranger.on('error', () => {});
    await new Promise<void>((r) => stranger.once('close', () => r()));
    const refused = log.lines.find((l) => l['event'] === 'connectionRefused');
    assert.equal(refused?.['remote'], '127.0.0.11');
    assert.equal(refused?.['level'], 'warn');

    const peer = TestPeer.dialling('127.0.0.10', port, { localAs: 64512, peerAs: 64512 }, clock);
    cleanups.push(() => peer.close());
    await until(() => peer.routes.size === 1, 'Established inbound with the table');
    assert.equal(speaker.status().sessions[0]?.direction, 'inbound');
  });

  it('listens on both families for [::], one socket each: a keyed IPv4 peer gets in (its key is on the IPv4 socket)', async () => {
    const clock = new FakeClock();
    const { speaker, log, metrics } = makeSpeaker({ clock, listen: { host: '::', port: 0 } });
    // A keyed IPv4 peer configured before start(): its key must be on a socket that IPv4 reaches. (A single
    // IPv6 socket is IPv6-only once the native addon makes it, so IPv4 peers could not connect at all.)
    const deadPort = await closedPort('127.0.0.32');
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.32', peerPort: deadPort, password: 'dual key' })]);
    speaker.setAdvertisementsAll([route4('10.1.0.32/32')]);
    await speaker.start();
    const ls = speaker.listenAddresses;
    assert.deepEqual(ls.map((l) => l.address), ['0.0.0.0', '::']);
    assert.equal(ls[0]!.port, ls[1]!.port, 'both families on one port');
    assert.deepEqual(speaker.status().listeners, ls);
    const port = ls[0]!.port;

    let refused = 0;
    for (const [host, from] of [['127.0.0.1', '127.0.0.33'], ['::1', '::1']] as const) {
      const stranger = net.connect({ host, port, localAddress: from });
      stranger.on('error', () => {});
      await new Promise<void>((r) => stranger.once('close', () => r()));
      // Counted every time; logged rate-limited (the first in full, later ones summed up).
      refused++;
      assert.match(
        await metrics.metrics(),
        new RegExp(`ingot_bgp_connections_refused_total\\{reason="unconfigured"\\} ${refused}\\b`),
        `a connection from ${from} reached the speaker (and was refused: not a peer)`,
      );
    }
    assert.ok(log.lines.some((l) => l['event'] === 'connectionRefused' && l['remote'] === '127.0.0.33'));
    const peer = TestPeer.dialling('127.0.0.32', port, { localAs: 64512, peerAs: 64512, md5Key: 'dual key' }, clock);
    cleanups.push(() => peer.close());
    await until(() => peer.routes.size === 1, 'the keyed IPv4 peer Established inbound');
    assert.equal(speaker.status().sessions[0]?.direction, 'inbound');
  });

  it('stop() sends Cease/Administrative Shutdown with the RFC 9003 message to every peer', async () => {
    const clock = new FakeClock();
    const a = await listeningPeer('127.0.0.13', { localAs: 64512, peerAs: 64512 }, clock);
    const b = await listeningPeer('127.0.0.14', { localAs: 64513, peerAs: 64512 }, clock);
    const { speaker, metrics } = makeSpeaker({ clock });
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.13', peerPort: a.port }), peerConfig({ peerAddress: '127.0.0.14', peerPort: b.port, peerASN: 64513 })]);
    speaker.setAdvertisementsAll([]);
    await until(() => a.ups.length === 1 && b.ups.length === 1, 'both Established');
    await speaker.stop({ message: 'node-a draining for maintenance' });
    await until(() => a.downs.length === 1 && b.downs.length === 1, 'both peers to see the NOTIFICATION');
    for (const p of [a, b]) {
      const n = p.downs[0]!.notification!;
      assert.equal(n.direction, 'received');
      assert.equal(n.code, NotificationCode.Cease);
      assert.equal(n.subcode, CeaseSubcode.AdministrativeShutdown);
      assert.deepEqual([...n.data], [...shutdownCommunication('node-a draining for maintenance')]);
      assert.equal(shutdownMessage(n), 'node-a draining for maintenance');
    }
    assert.match(await metrics.metrics(), /metallb_bgp_session_up\{peer="127\.0\.0\.13:\d+"\} 0/);
  });
});

describe('BgpSpeaker: socket options and received UPDATEs', () => {
  it('TCP-MD5 (RFC 2385) when dialling: the right key Establishes, a wrong one never gets a connection', async () => {
    const clock = new FakeClock();
    const good = await listeningPeer('127.0.0.18', { localAs: 64512, peerAs: 64512, md5Key: 'right key' }, clock);
    const bad = await listeningPeer('127.0.0.19', { localAs: 64512, peerAs: 64512, md5Key: 'other key' }, clock);
    const { speaker } = makeSpeaker({ clock });
    speaker.setPeers([
      peerConfig({ peerAddress: '127.0.0.18', peerPort: good.port, password: 'right key' }),
      peerConfig({ peerAddress: '127.0.0.19', peerPort: bad.port, password: 'right key' }),
    ]);
    speaker.setAdvertisementsAll([route4('10.1.0.1/32')]);
    await until(() => good.routes.size === 1, 'the keyed session');
    await turns(200);
    assert.equal(bad.ups.length, 0);
    assert.notEqual(speaker.status().sessions[1]?.state, 'Established');
  });

  it('without the native addon an eBGP peer still comes up (system TTL, reported); a password peer does not', async () => {
    const clock = new FakeClock();
    const peer = await listeningPeer('127.0.0.23', { localAs: 64513, peerAs: 64512 }, clock);
    const log = captureLog();
    const speaker = new BgpSpeaker(
      { nodeName: 'node-a', logger: createLogger({ write: log.write }) },
      { clock, interfaces: () => LO, native: () => { throw new Error('addon not built'); } },
    );
    cleanups.push(() => speaker.stop({ timeoutMs: 1000 }));
    speaker.setPeers([
      peerConfig({ peerAddress: '127.0.0.23', peerPort: peer.port, peerASN: 64513 }),
      peerConfig({ peerAddress: '127.0.0.24', peerPort: peer.port, password: 'k' }),
    ]);
    speaker.setAdvertisementsAll([route4('10.1.0.1/32')]);
    await until(() => peer.routes.size === 1, 'the eBGP session');
    await until(() => speaker.status().sessions[1]?.socketError === 'addon not built', 'the password peer to report the error');
    assert.match(String(speaker.status().sessions[0]?.socketError), /TTL 1 not set/);
    assert.ok(log.lines.some((l) => l['event'] === 'ttlNotSet'));
    assert.ok(log.lines.some((l) => l['event'] === 'socketOptions' && l['level'] === 'error'));
  });

  it('TCP-MD5 on the listener: a keyed peer dialling in Establishes', async () => {
    const clock = new FakeClock();
    const { speaker } = makeSpeaker({ clock, listen: { host: '127.0.0.1', port: 0 } });
    const deadPort = await closedPort('127.0.0.20');
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.20', peerPort: deadPort, password: 'in key' })]);
    speaker.setAdvertisementsAll([route4('10.1.0.2/32')]);
    await speaker.start(); // peers known first: the listener is created with their keys
    const peer = TestPeer.dialling('127.0.0.20', speaker.listenAddress!.port, { localAs: 64512, peerAs: 64512, md5Key: 'in key' }, clock);
    cleanups.push(() => peer.close());
    await until(() => peer.routes.size === 1, 'Established inbound with MD5');
  });

  it('a malformed UPDATE from the peer is treated as withdraw (RFC 7606): the session stays up, nothing is learned', async () => {
    const clock = new FakeClock();
    const peer = await listeningPeer('127.0.0.21', { localAs: 64512, peerAs: 64512 }, clock);
    const { speaker } = makeSpeaker({ clock });
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.21', peerPort: peer.port })]);
    speaker.setAdvertisementsAll([route4('10.1.0.1/32')]);
    await until(() => peer.routes.size === 1, 'Established');
    const ctx = makeContext({ as4: true });
    const good = packAnnouncements(ipv4Prefixes(Uint32Array.of(ipv4Number('192.0.2.0')), Uint8Array.of(24)), [attr.origin(Origin.Igp), attr.asSequence([]), attr.nextHop(ipv4Number('127.0.0.21')), attr.localPref(100)], ctx).bytes;
    const broken = Uint8Array.from(good);
    // ORIGIN is the first attribute: header 19 + withdrawn length 2 + path attribute length 2, then flags,
    // type, length, value. ORIGIN 7 is invalid: RFC 7606 §7.1 says treat-as-withdraw.
    assert.equal(broken[24], 1);
    broken[26] = 7;
    peer.session.sendUpdates([good, broken]);
    await until(() => speaker.status().sessions[0]!.updatesReceived === 2, 'both UPDATEs processed');
    const st = speaker.status().sessions[0]!;
    assert.equal(st.treatAsWithdraw, 1);
    assert.equal(st.state, 'Established');
    assert.equal(peer.downs.length, 0);
  });
});

describe('BgpSpeaker: status', () => {
  it('reports sessions (negotiated values, prefixes, last error with names) and announcements', async () => {
    const clock = new FakeClock();
    const peer = await listeningPeer('127.0.0.15', { localAs: 64512, peerAs: 64512 }, clock);
    const { speaker, metrics } = makeSpeaker({ clock });
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.15', peerPort: peer.port, holdTime: 75, keepaliveTime: 20 })]);
    // The per-Service list is the node agent's (with the BGP announcer over this speaker).
    const cfg = parseConfig(`address-pools:\n- {name: p, protocol: bgp, addresses: [10.1.0.0/24]}\n`);
    assert.ok(cfg.ok);
    const agent = new NodeAgent({ nodeName: 'node-a', announcers: [new BgpAnnouncer(speaker)], metrics });
    // The same peer as setPeers gave: deep-equal, so its session stays (MetalLB §3.2).
    agent.setConfig({ ...cfg.config, peers: [peerConfig({ peerAddress: '127.0.0.15', peerPort: peer.port, holdTime: 75, keepaliveTime: 20 })] });
    agent.setEndpoints('default/web', [{ nodeName: 'node-a', ready: true }]);
    agent.upsertService({ key: 'default/web', type: 'LoadBalancer', ips: ['10.1.0.1'], externalTrafficPolicy: 'Cluster' });
    agent.upsertService({ key: 'default/idle', type: 'LoadBalancer', ips: ['10.1.0.2'], externalTrafficPolicy: 'Cluster' });
    agent.synced();
    await until(() => peer.routes.size === 1, 'the route');
    clock.advance(61_000);
    const st = JSON.parse(JSON.stringify(speaker.status())) as ReturnType<BgpSpeaker['status']>;
    assert.equal(st.node, 'node-a');
    const s = st.sessions[0]!;
    assert.equal(s.state, 'Established');
    assert.equal(s.uptimeSeconds, 61);
    assert.equal(s.routerID, '10.0.0.1');
    assert.equal(s.negotiated?.holdTime, 75);
    assert.equal(s.negotiated?.keepaliveTime, 20);
    assert.equal(s.negotiated?.peerBgpId, '127.0.0.15');
    assert.deepEqual(s.negotiated?.families, ['ipv4-unicast', 'ipv6-unicast']);
    assert.equal(s.negotiated?.routeRefresh, true);
    assert.deepEqual(s.prefixes, { desired: 1, sent: 1, pending: 0, unsendable: [] });
    assert.equal(s.lastError, null);
    assert.equal(s.lastDown, null);
    assert.deepEqual(agent.announcements(), [
      { service: 'default/idle', ips: ['10.1.0.2'], protocol: 'bgp', prefixes: [], peers: [], reason: 'noEndpoints' },
      { service: 'default/web', ips: ['10.1.0.1'], protocol: 'bgp', prefixes: ['10.1.0.1/32'], peers: [s.peer], reason: null },
    ]);
    assert.match(await metrics.metrics(), /metallb_speaker_announced\{service="default\/web",protocol="bgp",node="node-a",ip="10\.1\.0\.1"\} 1/);

    // The peer shuts the session down: the last error names the NOTIFICATION and carries its message.
    await peer.session.stop({ message: 'router maintenance' });
    await until(() => speaker.status().sessions[0]?.lastError !== null, 'the session to go down');
    const le = speaker.status().sessions[0]!.lastError!;
    assert.deepEqual(le.notification, {
      direction: 'received',
      code: 6,
      subcode: 2,
      name: 'Cease/AdministrativeShutdown',
      message: 'router maintenance',
    });
    assert.deepEqual(speaker.status().sessions[0]!.lastDown, le);
    assert.deepEqual(agent.announcements()[1]?.peers, []);
    // The withdrawn Service's series goes away when the Service does.
    agent.deleteService('default/web');
    agent.deleteService('default/idle');
    assert.doesNotMatch(await metrics.metrics(), /metallb_speaker_announced\{/);
  });

  it('a NOTIFICATION refusing our OPEN (before Established) shows as the last error and in the log', async () => {
    const clock = new FakeClock();
    // The peer expects AS 64999: it answers our OPEN with OPEN Message Error / Bad Peer AS (2/2).
    const peer = await listeningPeer('127.0.0.22', { localAs: 64512, peerAs: 64999 }, clock);
    const { speaker, log } = makeSpeaker({ clock });
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.22', peerPort: peer.port })]);
    await until(() => speaker.status().sessions[0]?.lastError !== null, 'the refusal');
    const le = speaker.status().sessions[0]!.lastError!;
    assert.deepEqual([le.notification?.direction, le.notification?.code, le.notification?.subcode, le.notification?.name], ['received', 2, 2, 'OpenMessageError/BadPeerAs']);
    const line = log.lines.find((l) => l['event'] === 'peerNotification');
    assert.equal(line?.['name'], 'OpenMessageError/BadPeerAs');
    assert.equal(speaker.status().sessions[0]!.lastDown, null, 'never was Established');
    assert.equal(peer.ups.length, 0);
  });

  it('keeps KEEPALIVEs flowing while a large table drains', async () => {
    const clock = new FakeClock();
    const peer = await listeningPeer('127.0.0.16', { localAs: 64512, peerAs: 64512, holdTime: 9 }, clock);
    const { speaker } = makeSpeaker({ clock });
    speaker.setPeers([peerConfig({ peerAddress: '127.0.0.16', peerPort: peer.port, holdTime: 9, keepaliveTime: 3 })]);
    await until(() => peer.ups.length === 1, 'Established');
    const routes = Array.from({ length: 50_000 }, (_, i) => route4(`10.${(i >> 16) + 64}.${(i >> 8) & 255}.${i & 255}/32`));
    speaker.setAdvertisementsAll(routes);
    const ka = () => peer.session.received[4]!;
    const before = ka();
    clock.advance(3_000); // a KEEPALIVE is due now, with the table still queued
    await until(() => ka() > before, 'a KEEPALIVE during the burst');
    await until(() => peer.routes.size === 50_000, 'the whole table', 20_000);
    assert.equal(peer.session.state, 'Established');
    assert.equal(speaker.status().sessions[0]?.prefixes.sent, 50_000);
  });
});

describe('sliceMessages', () => {
  it('cuts at message boundaries and keeps every octet', () => {
    const ka = encodeMessage(KEEPALIVE, makeContext());
    const buf = new Uint8Array(ka.length * 10);
    for (let i = 0; i < 10; i++) buf.set(ka, i * ka.length);
    const slices = sliceMessages(buf, 19 * 3 + 5);
    assert.deepEqual(slices.map((s) => s.length), [57, 57, 57, 19]);
    assert.deepEqual(sliceMessages(buf, 1000), [buf]);
    assert.deepEqual(sliceMessages(new Uint8Array(0), 10), []);
  });
});
