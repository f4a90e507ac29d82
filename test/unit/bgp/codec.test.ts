// Hand-written cases for every message type: expected bytes come from test/helpers/wire-builder.ts, never
// from the encoder.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Afi,
  AsPathSegmentType,
  AttrFlag,
  CapabilityCode,
  KEEPALIVE,
  MessageType,
  NotificationCode,
  Origin,
  RouteRefreshSubtype,
  Safi,
  attr,
  attributesForPassOn,
  capability,
  decodeMessage,
  emptyPrefixList,
  encodeMessage,
  encodeMessageInto,
  endOfRib,
  findAttribute,
  isEndOfRib,
  makeContext,
  openAsn,
  parsePrefixes,
  prefixStrings,
  announcedPrefixes,
  withdrawnPrefixes,
  type OpenMessage,
  type UpdateMessage,
} from '../../../src/bgp/index.js';
import { ipv4Number, ipv6Bytes } from '../../../src/ip/index.js';
import * as W from '../../helpers/wire-builder.js';
import { codecCase } from './codec-helpers.js';

const as4 = makeContext({ as4: true });
const as2 = makeContext({ as4: false });
const v4none = emptyPrefixList(Afi.Ipv4);

function update(attributes: UpdateMessage['attributes'], nlri: string[] = [], withdrawn: string[] = []): UpdateMessage {
  return {
    type: MessageType.Update,
    withdrawn: parsePrefixes(Afi.Ipv4, withdrawn),
    attributes,
    nlri: parsePrefixes(Afi.Ipv4, nlri),
  };
}

describe('KEEPALIVE', () => {
  codecCase('keepalive', KEEPALIVE, W.keepalive(), as4);
  it('always decodes to the same frozen object', () => {
    assert.equal(decodeMessage(W.bytes(W.keepalive()), as4), KEEPALIVE);
  });
});

describe('NOTIFICATION', () => {
  codecCase(
    'cease with data',
    { type: MessageType.Notification, code: NotificationCode.Cease, subcode: 2, data: W.bytes([5, 104, 101, 108, 108, 111]) },
    W.notification(6, 2, [5, 104, 101, 108, 108, 111]),
    as4,
  );
  codecCase('hold timer expired, no data', { type: MessageType.Notification, code: 4, subcode: 0, data: new Uint8Array(0) }, W.notification(4, 0), as4);
});

describe('ROUTE-REFRESH', () => {
  codecCase('normal IPv6 unicast', { type: MessageType.RouteRefresh, afi: Afi.Ipv6, safi: Safi.Unicast, subtype: RouteRefreshSubtype.Normal }, W.routeRefresh(2, 1), as4);
  codecCase('EoRR (RFC 7313)', { type: MessageType.RouteRefresh, afi: 1, safi: 1, subtype: RouteRefreshSubtype.EndOfRouteRefresh }, W.routeRefresh(1, 1, 2), as4);
});

describe('OPEN', () => {
  const caps = [capability.multiprotocol(Afi.Ipv4), capability.multiprotocol(Afi.Ipv6), capability.routeRefresh(), capability.fourOctetAs(65002)];
  const open: OpenMessage = { type: MessageType.Open, version: 4, myAs: 65002, holdTime: 90, bgpIdentifier: W.ip4n('192.0.2.2'), capabilities: caps, parameters: [] };
  codecCase(
    'GoBGP-style: all capabilities in one parameter',
    open,
    W.open(65002, 90, '192.0.2.2', [W.param(2, W.cat(W.capMp(1, 1), W.capMp(2, 1), W.cap(2), W.capAs4(65002)))]),
    as4,
  );
  codecCase(
    'FRR-style: one parameter per capability',
    { ...open, parameterLayout: [1, 1, 1, 1] },
    W.open(65002, 90, '192.0.2.2', [W.param(2, W.capMp(1, 1)), W.param(2, W.capMp(2, 1)), W.param(2, W.cap(2)), W.param(2, W.capAs4(65002))]),
    as4,
  );
  codecCase('no optional parameters', { ...open, capabilities: [] }, W.open(65002, 90, '192.0.2.2', []), as4);
  codecCase('an empty capabilities parameter', { ...open, capabilities: [], parameterLayout: [0] }, W.open(65002, 90, '192.0.2.2', [W.param(2, [])]), as4);
  codecCase(
    'a non-capability parameter is kept for the session to reject',
    { ...open, capabilities: [capability.routeRefresh()], parameters: [{ type: 1, value: W.bytes([7, 7]) }], parameterLayout: [-1, 1] },
    W.open(65002, 90, '192.0.2.2', [W.param(1, [7, 7]), W.param(2, W.cap(2))]),
    as4,
  );
  const everything = [
    capability.multiprotocol(Afi.Ipv6, Safi.Unicast),
    capability.routeRefresh(),
    capability.enhancedRouteRefresh(),
    capability.extendedMessage(),
    capability.fourOctetAs(4200000001),
    capability.gracefulRestart(120, [{ afi: 1, safi: 1, flags: 0x80 }, { afi: 2, safi: 1, flags: 0 }], 0x8 | 0x4),
    capability.addPath([{ afi: 1, safi: 1, mode: 3 }]),
    capability.fqdn('router-1', 'example.net'),
    capability.unknown(71, W.bytes([0, 1, 1, 0, 0, 0, 0])),
    capability.unknown(200, new Uint8Array(0)),
  ];
  const everythingWire = W.cat(
    W.capMp(2, 1),
    W.cap(2),
    W.cap(70),
    W.cap(6),
    W.capAs4(4200000001),
    W.cap(64, W.cat([0xc0 | (120 >> 8), 120 & 0xff], W.u16(1), [1, 0x80], W.u16(2), [1, 0])),
    W.cap(69, W.cat(W.u16(1), [1, 3])),
    W.cap(73, W.cat([8], [...Buffer.from('router-1')], [11], [...Buffer.from('example.net')])),
    W.cap(71, [0, 1, 1, 0, 0, 0, 0]),
    W.cap(200),
  );
  codecCase(
    'every capability kind, 4-octet AS with AS_TRANS in My AS',
    { ...open, myAs: 23456, capabilities: everything },
    W.open(23456, 90, '192.0.2.2', [W.param(2, everythingWire)]),
    as4,
  );
  it('openAsn reads the 4-octet AS capability (RFC 6793)', () => {
    const m = decodeMessage(W.bytes(W.open(23456, 90, '192.0.2.2', [W.param(2, everythingWire)])), as4) as OpenMessage;
    assert.equal(openAsn(m), 4200000001);
    assert.equal(openAsn({ ...m, capabilities: [] }), 23456);
  });
  const many = Array.from({ length: 60 }, (_, i) => capability.unknown(100 + i, W.bytes([i, i, i])));
  const manyWire = W.cat(...many.map((_, i) => W.cap(100 + i, [i, i, i])));
  codecCase(
    'RFC 9072 extended optional parameters when they exceed 255 octets',
    { ...open, capabilities: many, extendedParameters: true },
    W.openExtended(65002, 90, '192.0.2.2', [{ type: 2, value: manyWire }]),
    as4,
  );
  codecCase(
    'RFC 9072 form also decodes when short, and is kept',
    { ...open, capabilities: [capability.routeRefresh()], extendedParameters: true },
    W.openExtended(65002, 90, '192.0.2.2', [{ type: 2, value: W.cap(2) }]),
    as4,
  );
  it('the encoder switches to RFC 9072 on its own when the parameters exceed 255 octets', () => {
    const wire = encodeMessage({ ...open, capabilities: many }, as4);
    assert.equal(W.hex(wire), W.hex(W.openExtended(65002, 90, '192.0.2.2', [{ type: 2, value: manyWire }])));
  });
  it('a capability value that is not UTF-8 FQDN stays opaque and re-encodes identically', () => {
    const wire = W.open(65002, 90, '192.0.2.2', [W.param(2, W.cap(73, [1, 0xff, 0]))]);
    const m = decodeMessage(W.bytes(wire), as4) as OpenMessage;
    assert.equal(m.capabilities[0]!.kind, 'unknown');
    assert.equal(W.hex(encodeMessage(m, as4)), W.hex(wire));
  });
  it('codes in capabilities are the IANA ones', () => {
    assert.deepEqual(everything.map((c) => c.code), [1, 2, 70, 6, 65, 64, 69, 73, 71, 200]);
    assert.equal(CapabilityCode.Fqdn, 73);
  });
});

describe('UPDATE, IPv4', () => {
  const base = [attr.origin(Origin.Igp), attr.asSequence([65002]), attr.nextHop(ipv4Number('192.0.2.2'))];
  const baseWire = W.cat(W.origin(0), W.asPath([65002]), W.nextHop('192.0.2.2'));
  codecCase('one /32 (the benchmark message)', update(base, ['198.18.0.1/32']), W.update([], baseWire, W.prefixes(['198.18.0.1/32'])), as4);
  const mixed = ['0.0.0.0/0', '10.0.0.0/8', '172.16.0.0/12', '192.0.2.0/24', '198.18.0.1/32', '203.0.113.128/25'];
  codecCase('prefixes of every octet count', update(base, mixed), W.update([], baseWire, W.prefixes(mixed)), as4);
  codecCase('withdrawals only', update([], [], mixed), W.update(W.prefixes(mixed), [], []), as4);
  codecCase(
    'withdrawals and announcements together',
    update(base, ['198.18.0.2/32'], ['198.18.0.1/32']),
    W.update(W.prefixes(['198.18.0.1/32']), baseWire, W.prefixes(['198.18.0.2/32'])),
    as4,
  );
  codecCase(
    '2-octet AS_PATH with AS_SET, AGGREGATOR, AS4_PATH and AS4_AGGREGATOR (RFC 6793 old speaker)',
    update(
      [
        attr.origin(Origin.Incomplete),
        attr.asPath([
          { type: AsPathSegmentType.AsSequence, asns: [65001, 23456] },
          { type: AsPathSegmentType.AsSet, asns: [1, 2, 3] },
        ]),
        attr.nextHop(ipv4Number('10.0.0.1')),
        attr.atomicAggregate(),
        attr.aggregator(23456, ipv4Number('10.0.0.9')),
        attr.as4Path([{ type: AsPathSegmentType.AsSequence, asns: [65001, 4200000000] }]),
        attr.as4Aggregator(4200000000, ipv4Number('10.0.0.9')),
      ],
      ['10.1.0.0/16'],
    ),
    W.update(
      [],
      W.cat(
        W.origin(2),
        W.attr(0x40, 2, W.segments([{ type: 2, asns: [65001, 23456] }, { type: 1, asns: [1, 2, 3] }], 2)),
        W.nextHop('10.0.0.1'),
        W.attr(0x40, 6, []),
        W.attr(0xc0, 7, W.cat(W.u16(23456), W.ip4('10.0.0.9'))),
        W.attr(0xc0, 17, W.segments([{ type: 2, asns: [65001, 4200000000] }], 4)),
        W.attr(0xc0, 18, W.cat(W.u32(4200000000), W.ip4('10.0.0.9'))),
      ),
      W.prefixes(['10.1.0.0/16']),
    ),
    as2,
  );
  codecCase(
    'MED, LOCAL_PREF, COMMUNITIES, EXTENDED and LARGE COMMUNITIES, 4-octet AGGREGATOR, empty AS_PATH',
    update(
      [
        attr.origin(Origin.Egp),
        attr.asSequence([]),
        attr.nextHop(ipv4Number('192.0.2.1')),
        attr.med(100),
        attr.localPref(200),
        attr.aggregator(4200000000, ipv4Number('192.0.2.9')),
        attr.communities([((65000 << 16) | 1) >>> 0, 0xffffff01]),
        attr.extendedCommunities(W.bytes([0, 2, 0xfd, 0xe8, 0, 0, 0, 1])),
        attr.largeCommunities([{ globalAdmin: 4200000000, localData1: 1, localData2: 2 }]),
      ],
      ['192.0.2.0/24'],
    ),
    W.update(
      [],
      W.cat(
        W.origin(1),
        W.asPath([]),
        W.nextHop('192.0.2.1'),
        W.med(100),
        W.localPref(200),
        W.attr(0xc0, 7, W.cat(W.u32(4200000000), W.ip4('192.0.2.9'))),
        W.communities([((65000 << 16) | 1) >>> 0, 0xffffff01]),
        W.attr(0xc0, 16, [0, 2, 0xfd, 0xe8, 0, 0, 0, 1]),
        W.largeCommunities([[4200000000, 1, 2]]),
      ),
      W.prefixes(['192.0.2.0/24']),
    ),
    as4,
  );
  codecCase(
    'unknown optional attributes kept as they came, Partial bit included, ORIGINATOR_ID and CLUSTER_LIST opaque',
    update([...base, attr.unknown(9, 0x80, W.bytes(W.ip4('1.2.3.4'))), attr.unknown(10, 0x80, W.bytes(W.ip4('5.6.7.8'))), attr.unknown(99, 0xe0, W.bytes([1, 2, 3])), attr.unknown(100, 0x80, W.bytes([4]))], ['10.0.0.0/8']),
    W.update([], W.cat(baseWire, W.attr(0x80, 9, W.ip4('1.2.3.4')), W.attr(0x80, 10, W.ip4('5.6.7.8')), W.attr(0xe0, 99, [1, 2, 3]), W.attr(0x80, 100, [4])), W.prefixes(['10.0.0.0/8'])),
    as4,
  );
  codecCase(
    'Extended Length flag on a short attribute is kept (FRR does this for MP_REACH_NLRI)',
    update([attr.origin(0), { kind: 'as-path', flags: 0x50, segments: [{ type: 2, asns: [1] }] }, attr.nextHop(1)], ['10.0.0.0/8']),
    W.update([], W.cat(W.origin(0), W.attr(0x50, 2, W.segments([{ type: 2, asns: [1] }], 4)), W.nextHop('0.0.0.1')), W.prefixes(['10.0.0.0/8'])),
    as4,
  );
  it('attributes longer than 255 octets get the 2-octet length on their own', () => {
    const asns = Array.from({ length: 100 }, (_, i) => 64512 + i);
    const m = update([attr.origin(0), attr.asSequence(asns), attr.nextHop(1)], ['10.0.0.0/8']);
    const wire = W.update([], W.cat(W.origin(0), W.attr(0x50, 2, W.segments([{ type: 2, asns }], 4)), W.nextHop('0.0.0.1')), W.prefixes(['10.0.0.0/8']));
    assert.equal(W.hex(encodeMessage(m, as4)), W.hex(wire));
  });
  it('towards a 2-octet speaker, ASNs above 65535 are written as AS_TRANS (RFC 6793 §4.2.2)', () => {
    const m = update([attr.origin(0), attr.asSequence([4200000000]), attr.nextHop(1), attr.aggregator(4200000000, 1)], ['10.0.0.0/8']);
    const wire = W.update([], W.cat(W.origin(0), W.asPath([23456], 2), W.nextHop('0.0.0.1'), W.attr(0xc0, 7, W.cat(W.u16(23456), W.u32(1)))), W.prefixes(['10.0.0.0/8']));
    assert.equal(W.hex(encodeMessage(m, as2)), W.hex(wire));
  });
  it('prefixes and attributes can be read back', () => {
    const m = decodeMessage(W.bytes(W.update(W.prefixes(['10.9.0.0/16']), baseWire, W.prefixes(mixed))), as4) as UpdateMessage;
    assert.deepEqual(prefixStrings(m.nlri), mixed);
    assert.deepEqual(withdrawnPrefixes(m).map(prefixStrings), [['10.9.0.0/16']]);
    assert.deepEqual(announcedPrefixes(m).map(prefixStrings), [mixed]);
    assert.equal(findAttribute(m, 'next-hop')?.nextHop, ipv4Number('192.0.2.2'));
    assert.equal(findAttribute(m, 'med'), undefined);
  });
});

describe('UPDATE, IPv6 (MP_REACH_NLRI / MP_UNREACH_NLRI)', () => {
  const v6 = ['2001:db8:1::1/128', '2001:db8::/32', '::/0', '2001:db8:ff00::/40'];
  const nhGlobal = ipv6Bytes('2001:db8::2');
  const nhBoth = new Uint8Array([...W.ip6('2001:db8::2'), ...W.ip6('fe80::1')]);
  codecCase(
    'global next hop',
    update([attr.origin(0), attr.asSequence([65002]), attr.mpReach(Afi.Ipv6, nhGlobal, parsePrefixes(Afi.Ipv6, v6))]),
    W.update([], W.cat(W.origin(0), W.asPath([65002]), W.mpReach(2, 1, W.ip6('2001:db8::2'), W.prefixes(v6))), []),
    as4,
  );
  codecCase(
    'global + link-local next hop, MP_REACH first with the Extended Length flag',
    update([{ ...attr.mpReach(Afi.Ipv6, nhBoth, parsePrefixes(Afi.Ipv6, v6)), flags: 0x90 }, attr.origin(0), attr.asSequence([65002])]),
    W.update([], W.cat(W.attr(0x90, 14, W.cat(W.u16(2), [1, 32], W.ip6('2001:db8::2'), W.ip6('fe80::1'), [0], W.prefixes(v6))), W.origin(0), W.asPath([65002])), []),
    as4,
  );
  codecCase(
    'withdrawal',
    update([attr.mpUnreach(Afi.Ipv6, parsePrefixes(Afi.Ipv6, v6))]),
    W.update([], W.mpUnreach(2, 1, W.prefixes(v6)), []),
    as4,
  );
  const hundred = Array.from({ length: 100 }, (_, i) => `2001:db8:1::${(i + 1).toString(16)}/128`);
  codecCase(
    '100 /128s: MP_REACH_NLRI needs the 2-octet length',
    update([attr.origin(0), attr.asSequence([65002]), attr.mpReach(Afi.Ipv6, nhGlobal, parsePrefixes(Afi.Ipv6, hundred))]),
    W.update([], W.cat(W.origin(0), W.asPath([65002]), W.mpReach(2, 1, W.ip6('2001:db8::2'), W.prefixes(hundred))), []),
    as4,
  );
  it('decoded next hops are interned copies: equal bytes give the same array, never a view of the message', () => {
    const wire = (nh: string) => W.bytes(W.update([], W.cat(W.origin(0), W.asPath([1]), W.mpReach(2, 1, W.ip6(nh), W.prefixes(v6))), []));
    const a = wire('2001:db8::2');
    const hop = (w: Uint8Array) => findAttribute(decodeMessage(w, as4) as UpdateMessage, 'mp-reach')!.nextHop;
    const first = hop(a);
    assert.notEqual(first.buffer, a.buffer);
    assert.equal(hop(wire('2001:db8::2')), first);
    const other = hop(wire('2001:db8::3'));
    assert.deepEqual(Array.from(other), W.ip6('2001:db8::3'));
    assert.deepEqual(Array.from(first), W.ip6('2001:db8::2'), 'an earlier next hop is not overwritten');
  });
  it('a next hop from the link-local pair is readable', () => {
    const m = decodeMessage(
      W.bytes(W.update([], W.cat(W.origin(0), W.asPath([1]), W.mpReach(2, 1, [...W.ip6('2001:db8::2'), ...W.ip6('fe80::1')], W.prefixes(v6))), [])),
      as4,
    ) as UpdateMessage;
    const mp = findAttribute(m, 'mp-reach')!;
    assert.equal(mp.nextHop.length, 32);
    assert.deepEqual(Array.from(mp.nextHop.subarray(16)), W.ip6('fe80::1'));
    assert.deepEqual(prefixStrings(mp.nlri), v6);
  });
  codecCase(
    'MP_REACH_NLRI of a family the codec does not parse stays opaque',
    update([attr.origin(0), attr.asSequence([1]), attr.unknown(14, 0x80, W.bytes(W.cat(W.u16(1), [128, 12], new Array(12).fill(0), [0], [88, 0, 0, 1])))]),
    W.update([], W.cat(W.origin(0), W.asPath([1]), W.attr(0x80, 14, W.cat(W.u16(1), [128, 12], new Array(12).fill(0), [0], [88, 0, 0, 1]))), []),
    as4,
  );
});

describe('End-of-RIB (RFC 4724 §2)', () => {
  codecCase('IPv4 unicast: an empty UPDATE', endOfRib(), W.update([], [], []), as4);
  codecCase('IPv6 unicast: an empty MP_UNREACH_NLRI', endOfRib({ afi: Afi.Ipv6, safi: Safi.Unicast }), W.update([], W.mpUnreach(2, 1, []), []), as4);
  it('is detected for both families and not for other UPDATEs', () => {
    const d = (w: number[]) => decodeMessage(W.bytes(w), as4) as UpdateMessage;
    assert.deepEqual(isEndOfRib(d(W.update([], [], []))), { afi: 1, safi: 1 });
    assert.deepEqual(isEndOfRib(d(W.update([], W.mpUnreach(2, 1, []), []))), { afi: 2, safi: 1 });
    assert.equal(isEndOfRib(d(W.update(W.prefixes(['10.0.0.0/8']), [], []))), undefined);
    assert.equal(isEndOfRib(d(W.update([], W.mpUnreach(2, 1, W.prefixes(['2001:db8::/32'])), []))), undefined);
    assert.equal(isEndOfRib(d(W.update([], W.cat(W.mpUnreach(2, 1, []), W.origin(0)), []))), undefined);
  });
});

describe('passing attributes on', () => {
  it('drops unknown optional non-transitive, sets Partial on unknown optional transitive, keeps known ones', () => {
    const attrs = [attr.origin(0), attr.med(5), attr.unknown(99, 0xc0, W.bytes([1])), attr.unknown(100, 0x80, W.bytes([2])), attr.unknown(9, 0x80, W.bytes([0, 0, 0, 1]))];
    const out = attributesForPassOn(attrs);
    assert.deepEqual(out.map((a) => (a.kind === 'unknown' ? `${a.code}:${a.flags.toString(16)}` : a.kind)), ['origin', 'med', '99:e0', '9:80']);
    assert.equal(attrs[2]!.flags, 0xc0, 'input left untouched');
    assert.equal((out[2]!.flags & AttrFlag.Partial) !== 0, true);
  });
});

describe('encodeMessageInto', () => {
  it('writes at an offset and returns the end; several messages back to back', () => {
    const out = new Uint8Array(100);
    let p = encodeMessageInto(KEEPALIVE, as4, out, 3);
    p = encodeMessageInto(KEEPALIVE, as4, out, p);
    assert.equal(p, 3 + 38);
    assert.equal(W.hex(out.subarray(3, p)), W.hex([...W.keepalive(), ...W.keepalive()]));
  });
  it('refuses a buffer that is too small', () => {
    assert.throws(() => encodeMessageInto(KEEPALIVE, as4, new Uint8Array(18), 0), RangeError);
  });
  it('refuses messages above the negotiated maximum, and OPEN above 4096 even with extended messages', () => {
    const big = update([attr.origin(0), attr.asSequence([1]), attr.nextHop(1)], Array.from({ length: 1000 }, (_, i) => `10.${i >> 8}.${i & 255}.1/32`));
    assert.throws(() => encodeMessage(big, as4), /exceeds the maximum of 4096/);
    assert.equal(encodeMessage(big, makeContext({ as4: true, extendedMessage: true })).length, 23 + 4 + 9 + 7 + 5000);
    const open: OpenMessage = { type: MessageType.Open, version: 4, myAs: 1, holdTime: 90, bgpIdentifier: 1, capabilities: Array.from({ length: 20 }, () => capability.unknown(200, new Uint8Array(250))), parameters: [] };
    assert.throws(() => encodeMessage(open, makeContext({ extendedMessage: true })), /exceeds the maximum of 4096/);
  });
  it('refuses IPv6 prefixes in the IPv4-only UPDATE fields', () => {
    assert.throws(() => encodeMessage({ ...update([]), nlri: parsePrefixes(Afi.Ipv6, ['2001:db8::/32']) }, as4), RangeError);
  });
});

describe('decoded messages', () => {
  it('prefix lists point into the received bytes (no copies on the hot path)', () => {
    const wire = W.bytes(W.update([], W.cat(W.origin(0), W.asPath([1]), W.nextHop('1.1.1.1')), W.prefixes(['10.0.0.0/8'])));
    const m = decodeMessage(wire, as4) as UpdateMessage;
    assert.equal(m.nlri.bytes, wire);
    assert.equal(m.withdrawn, v4none, 'empty lists are the shared empty list');
  });
});
