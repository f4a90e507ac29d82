// negotiateContext: what the two OPENs agree on (RFC 6793 §3, RFC 8654 §3, RFC 4760 §6/§8).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Afi, INITIAL_CONTEXT, MessageType, Safi, capability, negotiateContext, type Capability, type OpenMessage } from '../../../src/bgp/index.js';

const open = (capabilities: Capability[]): OpenMessage => ({ type: MessageType.Open, version: 4, myAs: 1, holdTime: 90, bgpIdentifier: 1, capabilities, parameters: [] });
const v4 = capability.multiprotocol(Afi.Ipv4);
const v6 = capability.multiprotocol(Afi.Ipv6);

describe('negotiateContext', () => {
  it('before the OPENs: 2-octet ASNs, 4096 octets, IPv4 unicast', () => {
    assert.deepEqual(INITIAL_CONTEXT, { as4: false, extendedMessage: false, maxMessageLength: 4096, families: [{ afi: 1, safi: 1 }] });
  });
  it('4-octet AS and extended messages only when both sides advertise them', () => {
    const both = [capability.fourOctetAs(1), capability.extendedMessage()];
    assert.deepEqual(
      { ...negotiateContext(open(both), open(both)), families: undefined },
      { as4: true, extendedMessage: true, maxMessageLength: 65535, families: undefined },
    );
    const one = negotiateContext(open(both), open([capability.fourOctetAs(2)]));
    assert.equal(one.as4, true);
    assert.equal(one.extendedMessage, false);
    assert.equal(one.maxMessageLength, 4096);
    assert.equal(negotiateContext(open([]), open(both)).as4, false);
  });
  it('families: the intersection, in local order; no MP capability means IPv4 unicast', () => {
    assert.deepEqual(negotiateContext(open([v6, v4]), open([v4, v6])).families, [{ afi: Afi.Ipv6, safi: Safi.Unicast }, { afi: Afi.Ipv4, safi: Safi.Unicast }]);
    assert.deepEqual(negotiateContext(open([v6]), open([v4])).families, []);
    assert.deepEqual(negotiateContext(open([]), open([v4, v6])).families, [{ afi: 1, safi: 1 }]);
    assert.deepEqual(negotiateContext(open([]), open([v6])).families, []);
  });
});
