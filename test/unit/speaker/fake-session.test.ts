// BgpSpeaker with recording fake sessions (test/helpers/fake-session.ts): the speaker's own rules — when the
// table goes out, End-of-RIB, incremental routes, peer changes — without sockets or a second BGP stack.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CeaseSubcode, isEndOfRib, prefixStrings, announcedPrefixes, withdrawnPrefixes } from '../../../src/bgp/index.js';
import { BgpSpeaker } from '../../../src/speaker/bgp-speaker.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { fakeSessionFactory, sentUpdates, type FakeSession } from '../../helpers/fake-session.js';
import { ifaceTable, peerConfig, route4 } from './harness.js';

function rig() {
  const queue: (() => void)[] = [];
  const { factory, sessions } = fakeSessionFactory();
  const speaker = new BgpSpeaker(
    { nodeName: 'n1' },
    { clock: new FakeClock(), sessionFactory: factory, interfaces: () => ifaceTable({ eth0: ['10.0.0.5'] }), defer: (fn) => void queue.push(fn) },
  );
  const drain = () => {
    while (queue.length > 0) queue.shift()!();
  };
  return { speaker, sessions, drain };
}

/** The UPDATEs a session was handed, decoded: announced, withdrawn, End-of-RIB. */
function sent(s: FakeSession): { announced: string[]; withdrawn: string[]; eor: number } {
  const out = { announced: [] as string[], withdrawn: [] as string[], eor: 0 };
  for (const m of sentUpdates(s)) {
    if (isEndOfRib(m)) out.eor++;
    for (const l of announcedPrefixes(m)) out.announced.push(...prefixStrings(l));
    for (const l of withdrawnPrefixes(m)) out.withdrawn.push(...prefixStrings(l));
  }
  return out;
}

describe('BgpSpeaker with fake sessions', () => {
  it('sends nothing, not even End-of-RIB, before the table is complete; then the table and End-of-RIB', () => {
    const { speaker, sessions, drain } = rig();
    speaker.setPeers([peerConfig({ peerAddress: '10.0.0.1', peerPort: 179 })]);
    const s = sessions[0]!;
    assert.ok(s.started);
    speaker.announceRoute(route4('10.1.0.1/32'));
    s.establish({ local: '10.0.0.5' });
    drain();
    assert.equal(s.updates.length, 0, 'the state source has not synced');
    speaker.markTableReady();
    drain();
    assert.deepEqual(sent(s), { announced: ['10.1.0.1/32'], withdrawn: [], eor: 2 });
  });

  it('incremental routes: one change, one UPDATE with that prefix only; a peer added later gets the whole table', () => {
    const { speaker, sessions, drain } = rig();
    speaker.setPeers([peerConfig({ peerAddress: '10.0.0.1', peerPort: 179 })]);
    speaker.setAdvertisementsAll([route4('10.1.0.1/32'), route4('10.1.0.2/32')]);
    const a = sessions[0]!;
    a.establish({ local: '10.0.0.5' });
    drain();
    a.updates.length = 0;
    speaker.withdrawRoute('10.1.0.1/32');
    speaker.announceRoute(route4('10.1.0.3/32'));
    drain();
    assert.equal(a.updates.length, 1, 'one flush for both changes');
    assert.deepEqual(sent(a), { announced: ['10.1.0.3/32'], withdrawn: ['10.1.0.1/32'], eor: 0 });
    speaker.setPeers([peerConfig({ peerAddress: '10.0.0.1', peerPort: 179 }), peerConfig({ peerAddress: '10.0.0.2', peerPort: 179 })]);
    assert.equal(sessions.length, 2, 'the unchanged peer keeps its session');
    const b = sessions[1]!;
    b.establish({ local: '10.0.0.5' });
    drain();
    assert.deepEqual(sent(b), { announced: ['10.1.0.2/32', '10.1.0.3/32'], withdrawn: [], eor: 2 });
  });

  it('a changed peer: the old session gets Cease/Other Configuration Change, the new one the same table', async () => {
    const { speaker, sessions, drain } = rig();
    speaker.setPeers([peerConfig({ peerAddress: '10.0.0.1', peerPort: 179 })]);
    speaker.setAdvertisementsAll([route4('10.1.0.1/32')]);
    speaker.setPeers([peerConfig({ peerAddress: '10.0.0.1', peerPort: 179, holdTime: 30 })]);
    assert.equal(sessions[0]!.stopped?.subcode, CeaseSubcode.OtherConfigurationChange);
    await new Promise<void>((r) => setImmediate(r));
    const s = sessions[1]!;
    assert.ok(s.started, 'the new session starts once the old one stopped');
    s.establish({ local: '10.0.0.5' });
    drain();
    assert.deepEqual(sent(s).announced, ['10.1.0.1/32']);
    // Removed: Cease/Peer De-configured.
    speaker.setPeers([]);
    assert.equal(s.stopped?.subcode, CeaseSubcode.PeerDeConfigured);
  });
});
