// OPEN validation (RFC 4271 §6.2, RFC 6793, RFC 6286, RFC 7607) and what the FSM does with a bad OPEN.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createFsm, negotiateKeepalive, openPeerAs, step, validateOpen, type FsmConfig } from '../../../src/bgp/fsm.js';
import { AS_TRANS, CapabilityCode, MessageType, NotificationCode, OpenSubcode } from '../../../src/bgp/constants.js';
import type { Capability, OpenMessage } from '../../../src/bgp/types.js';

const EBGP: FsmConfig = { localAs: 64512, peerAs: 64513, localBgpId: 0x0a000001, holdTime: 90 };
const as4 = (asn: number): Capability => ({ kind: 'four-octet-as', code: CapabilityCode.FourOctetAs, asn });

function open(over: Partial<OpenMessage> = {}): OpenMessage {
  return { type: MessageType.Open, version: 4, myAs: 64513, holdTime: 90, bgpIdentifier: 0x0a000002, capabilities: [], parameters: [], ...over };
}

function rejects(config: FsmConfig, o: OpenMessage, subcode: OpenSubcode, data?: number[]): void {
  const r = validateOpen(config, o);
  assert.equal(r.ok, false, 'OPEN should be refused');
  if (r.ok) return;
  assert.equal(r.error.code, NotificationCode.OpenMessageError);
  assert.equal(r.error.subcode, subcode, r.reason);
  if (data) assert.deepEqual([...r.error.data], data);
}

describe('validateOpen', () => {
  it('accepts a plain 2-octet-AS OPEN and negotiates min hold and hold/3 keepalive', () => {
    const r = validateOpen(EBGP, open({ holdTime: 30 }));
    assert.ok(r.ok);
    assert.equal(r.negotiated.holdTime, 30);
    assert.equal(r.negotiated.keepaliveTime, 10);
    assert.equal(r.negotiated.peerAs, 64513);
    assert.equal(r.negotiated.peerFourOctetAs, false);
  });

  it('version other than 4 → Unsupported Version Number with 2-octet data 4', () => {
    rejects(EBGP, open({ version: 3 }), OpenSubcode.UnsupportedVersionNumber, [0, 4]);
    rejects(EBGP, open({ version: 5 }), OpenSubcode.UnsupportedVersionNumber, [0, 4]);
  });

  it('peer AS must match peer-asn → Bad Peer AS', () => {
    rejects(EBGP, open({ myAs: 64514 }), OpenSubcode.BadPeerAs, []);
    rejects(EBGP, open({ myAs: 0 }), OpenSubcode.BadPeerAs);
  });

  it('4-octet AS capability carries the real AS (RFC 6793), AS_TRANS in My AS', () => {
    const cfg: FsmConfig = { ...EBGP, peerAs: 4_200_000_001 };
    const r = validateOpen(cfg, open({ myAs: AS_TRANS, capabilities: [as4(4_200_000_001)] }));
    assert.ok(r.ok);
    assert.equal(r.negotiated.peerAs, 4_200_000_001);
    assert.equal(r.negotiated.peerFourOctetAs, true);
    rejects(cfg, open({ myAs: AS_TRANS, capabilities: [as4(4_200_000_002)] }), OpenSubcode.BadPeerAs);
    // AS_TRANS without the capability cannot be a 4-octet AS.
    rejects(cfg, open({ myAs: AS_TRANS }), OpenSubcode.BadPeerAs);
    // The capability wins over My AS when both are present.
    assert.deepEqual(openPeerAs(open({ myAs: 64513, capabilities: [as4(64513)] })), { asn: 64513, fourOctet: true });
    rejects(EBGP, open({ myAs: 64513, capabilities: [as4(0)] }), OpenSubcode.BadPeerAs);
  });

  it('a peer configured as AS 23456 (an old speaker fronting a 4-octet AS) is accepted', () => {
    assert.ok(validateOpen({ ...EBGP, peerAs: AS_TRANS }, open({ myAs: AS_TRANS })).ok);
  });

  it('hold time 1 or 2 → Unacceptable Hold Time; 0 and 3 are fine', () => {
    rejects(EBGP, open({ holdTime: 1 }), OpenSubcode.UnacceptableHoldTime);
    rejects(EBGP, open({ holdTime: 2 }), OpenSubcode.UnacceptableHoldTime);
    assert.ok(validateOpen(EBGP, open({ holdTime: 0 })).ok);
    const r = validateOpen(EBGP, open({ holdTime: 3 }));
    assert.ok(r.ok && r.negotiated.holdTime === 3 && r.negotiated.keepaliveTime === 1);
  });

  it('BGP Identifier 0, or ours on an iBGP session → Bad BGP Identifier; ours on eBGP is allowed (RFC 6286)', () => {
    rejects(EBGP, open({ bgpIdentifier: 0 }), OpenSubcode.BadBgpIdentifier);
    const ibgp: FsmConfig = { ...EBGP, peerAs: 64512 };
    rejects(ibgp, open({ myAs: 64512, bgpIdentifier: 0x0a000001 }), OpenSubcode.BadBgpIdentifier);
    assert.ok(validateOpen(EBGP, open({ bgpIdentifier: 0x0a000001 })).ok);
    // Identifiers compare as unsigned 32-bit values.
    const high: FsmConfig = { ...ibgp, localBgpId: 0xfffffffe };
    rejects(high, open({ myAs: 64512, bgpIdentifier: 0xfffffffe }), OpenSubcode.BadBgpIdentifier);
    assert.ok(validateOpen(high, open({ myAs: 64512, bgpIdentifier: 0xffffffff })).ok);
  });

  it('an optional parameter other than Capabilities → Unsupported Optional Parameter', () => {
    rejects(EBGP, open({ parameters: [{ type: 1, value: new Uint8Array([0, 1]) }] }), OpenSubcode.UnsupportedOptionalParameter);
  });

  it('keepalive negotiation', () => {
    assert.equal(negotiateKeepalive(0, 10), 0);
    assert.equal(negotiateKeepalive(90, undefined), 30);
    assert.equal(negotiateKeepalive(90, 5), 5);
    assert.equal(negotiateKeepalive(90, 45), 30);
    assert.equal(negotiateKeepalive(4, undefined), 1);
  });

  it('an invalid OPEN in OpenSent sends the OPEN Message Error and goes to Idle', () => {
    let fsm = createFsm(EBGP);
    fsm = step(fsm, { type: 'ManualStart' }).fsm;
    fsm = step(fsm, { type: 'TcpCrAcked' }).fsm;
    assert.equal(fsm.state, 'OpenSent');
    const t = step(fsm, { type: 'BGPOpen', open: open({ myAs: 65000 }) });
    assert.equal(t.fsm.state, 'Idle');
    const n = t.actions.find((a) => a.type === 'SendNotification');
    assert.deepEqual(n && [n.code, n.subcode], [NotificationCode.OpenMessageError, OpenSubcode.BadPeerAs]);
    assert.equal(t.fsm.connectRetryCounter, 1);
    assert.equal(t.fsm.lastError?.notification?.direction, 'sent');
  });

  it('createFsm refuses configurations the FSM cannot run', () => {
    assert.throws(() => createFsm({ ...EBGP, holdTime: 2 }), /holdTime/);
    assert.throws(() => createFsm({ ...EBGP, localBgpId: 0 }), /localBgpId/);
    assert.throws(() => createFsm({ ...EBGP, peerAs: 0 }), /peerAs/);
    assert.throws(() => createFsm({ ...EBGP, keepaliveTime: 0 }), /keepaliveTime/);
  });
});
