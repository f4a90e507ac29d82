import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareBgpIdentifiers, resolveCollision, type CollisionInput } from '../../../src/bgp/collision.js';
import { CeaseSubcode, NotificationCode } from '../../../src/bgp/constants.js';
import { createFsm, step } from '../../../src/bgp/fsm.js';

const LOW = 0x0a000001; // 10.0.0.1
const HIGH = 0xc0a80001; // 192.168.0.1: above 2^31, so a signed comparison would get it wrong

function input(over: Partial<CollisionInput> = {}): CollisionInput {
  return {
    localBgpId: LOW,
    remoteBgpId: HIGH,
    localAs: 64512,
    remoteAs: 64513,
    existing: { direction: 'outbound', state: 'OpenConfirm', remoteBgpId: HIGH },
    incoming: { direction: 'inbound' },
    ...over,
  };
}

describe('collision detection (RFC 4271 §6.8)', () => {
  it('compares identifiers as unsigned 32-bit numbers', () => {
    assert.equal(compareBgpIdentifiers(LOW, HIGH), -1);
    assert.equal(compareBgpIdentifiers(HIGH, LOW), 1);
    assert.equal(compareBgpIdentifiers(-1, 0xffffffff), 0);
    assert.equal(compareBgpIdentifiers(0x80000000, 0x7fffffff), 1);
    assert.ok((HIGH | 0) < 0); // a signed compare would put 192.168.0.1 below 10.0.0.1
  });

  it('local id lower: close our own (existing, outbound) connection and keep the peer\'s', () => {
    const d = resolveCollision(input());
    assert.ok(d.collision);
    assert.equal(d.close, 'existing');
    assert.equal(d.notification.code, NotificationCode.Cease);
    assert.equal(d.notification.subcode, CeaseSubcode.ConnectionCollisionResolution);
  });

  it('local id higher: close the newly received (inbound) connection', () => {
    const d = resolveCollision(input({ localBgpId: HIGH, remoteBgpId: LOW, existing: { direction: 'outbound', state: 'OpenConfirm', remoteBgpId: LOW } }));
    assert.ok(d.collision);
    assert.equal(d.close, 'incoming');
  });

  it('the survivor is always the connection initiated by the higher identifier, whichever arrived first', () => {
    let checked = 0;
    for (const [localId, remoteId] of [
      [LOW, HIGH],
      [HIGH, LOW],
    ] as const) {
      for (const existingDir of ['outbound', 'inbound'] as const) {
        const incomingDir = existingDir === 'outbound' ? 'inbound' : 'outbound';
        for (const state of ['OpenSent', 'OpenConfirm'] as const) {
          const d = resolveCollision(
            input({ localBgpId: localId, remoteBgpId: remoteId, existing: { direction: existingDir, state }, incoming: { direction: incomingDir } }),
          );
          assert.ok(d.collision);
          const survivorDir = d.close === 'existing' ? incomingDir : existingDir;
          assert.equal(survivorDir, localId > remoteId ? 'outbound' : 'inbound', d.why);
          checked++;
        }
      }
    }
    assert.equal(checked, 8);
  });

  it('no collision with connections that have not exchanged OPENs', () => {
    for (const state of ['Idle', 'Connect', 'Active'] as const)
      assert.equal(resolveCollision(input({ existing: { direction: 'outbound', state } })).collision, false);
  });

  it('no collision when the existing connection leads to another identifier', () => {
    const d = resolveCollision(input({ existing: { direction: 'outbound', state: 'OpenConfirm', remoteBgpId: 0x01020304 } }));
    assert.equal(d.collision, false);
  });

  it('an Established session always wins (CollisionDetectEstablishedState FALSE)', () => {
    const d = resolveCollision(input({ existing: { direction: 'outbound', state: 'Established', remoteBgpId: HIGH } }));
    assert.ok(d.collision);
    assert.equal(d.close, 'incoming');
  });

  it('equal identifiers (eBGP, RFC 6286 §2.3): the larger AS wins', () => {
    const same = { localBgpId: LOW, remoteBgpId: LOW, existing: { direction: 'outbound' as const, state: 'OpenSent' as const } };
    const remoteBigger = resolveCollision(input({ ...same, localAs: 64512, remoteAs: 64513 }));
    assert.ok(remoteBigger.collision && remoteBigger.close === 'existing');
    const localBigger = resolveCollision(input({ ...same, localAs: 64514, remoteAs: 64513 }));
    assert.ok(localBigger.collision && localBigger.close === 'incoming');
  });

  it('two connections in the same direction: §6.8 steps 2–3 literally', () => {
    const both = { existing: { direction: 'inbound' as const, state: 'OpenConfirm' as const }, incoming: { direction: 'inbound' as const } };
    const a = resolveCollision(input({ ...both }));
    assert.ok(a.collision && a.close === 'existing');
    const b = resolveCollision(input({ ...both, localBgpId: HIGH, remoteBgpId: LOW }));
    assert.ok(b.collision && b.close === 'incoming');
  });

  it('the losing FSM sends exactly the decided NOTIFICATION via OpenCollisionDump', () => {
    let fsm = createFsm({ localAs: 64512, peerAs: 64513, localBgpId: LOW, holdTime: 90 });
    fsm = step(fsm, { type: 'ManualStart' }).fsm;
    fsm = step(fsm, { type: 'TcpCrAcked' }).fsm;
    const d = resolveCollision(input({ existing: { direction: 'outbound', state: fsm.state } }));
    assert.ok(d.collision && d.close === 'existing');
    const t = step(fsm, { type: 'OpenCollisionDump' });
    const n = t.actions.find((a) => a.type === 'SendNotification');
    assert.deepEqual(n && { code: n.code, subcode: n.subcode }, { code: d.notification.code, subcode: d.notification.subcode });
    assert.equal(t.fsm.state, 'Idle');
  });
});
