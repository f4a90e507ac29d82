// Prefix lists: building from numbers, bytes and text; reading back; formatting (RFC 5952).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Afi,
  forEachPrefix,
  ipv4PrefixArrays,
  ipv4Prefixes,
  ipv6Prefixes,
  parsePrefix,
  parsePrefixes,
  prefixListEquals,
  prefixListFromWire,
  prefixStrings,
  prefixToString,
} from '../../../src/bgp/index.js';
import { formatIPv6Bytes, ipv4Number, ipv6Bytes } from '../../../src/ip/index.js';
import * as W from '../../helpers/wire-builder.js';

const wire = (l: { bytes: Uint8Array; start: number; end: number }) => W.hex(l.bytes.subarray(l.start, l.end));

describe('IPv4 prefix lists', () => {
  it('encode each length with the minimal octets and clear host bits', () => {
    const l = ipv4Prefixes([0xc0000201, 0x0a0000ff, 0xffffffff, 0xc6120001], [24, 8, 0, 32]);
    assert.equal(wire(l), W.hex(W.prefixes(['192.0.2.0/24', '10.0.0.0/8', '0.0.0.0/0', '198.18.0.1/32'])));
    assert.equal(l.count, 4);
    assert.deepEqual(prefixStrings(l), ['192.0.2.0/24', '10.0.0.0/8', '0.0.0.0/0', '198.18.0.1/32']);
  });
  it('read back as parallel arrays', () => {
    const { addrs, lengths } = ipv4PrefixArrays(parsePrefixes(Afi.Ipv4, ['10.1.2.0/23', '255.255.255.255/32']));
    assert.deepEqual(Array.from(addrs), [0x0a010200, 0xffffffff]);
    assert.deepEqual(Array.from(lengths), [23, 32]);
  });
  it('refuse bad lengths', () => {
    assert.throws(() => ipv4Prefixes([1], 33), RangeError);
    assert.throws(() => ipv4Prefixes([1, 2], [8]), RangeError);
  });
});

describe('IPv6 prefix lists', () => {
  it('encode, clear host bits, print RFC 5952 text', () => {
    const addrs = new Uint8Array([...ipv6Bytes('2001:db8:ffff::1'), ...ipv6Bytes('::1')]);
    const l = ipv6Prefixes(addrs, [36, 128]);
    assert.equal(wire(l), W.hex([36, 0x20, 0x01, 0x0d, 0xb8, 0xf0, 128, ...W.ip6('::1')]));
    assert.deepEqual(prefixStrings(l), ['2001:db8:f000::/36', '::1/128']);
  });
  it('forEachPrefix gives offsets into the wire bytes', () => {
    const l = parsePrefixes(Afi.Ipv6, ['2001:db8::/32', 'fe80::/10']);
    const seen: string[] = [];
    forEachPrefix(l, (b, o, len) => seen.push(prefixToString(Afi.Ipv6, b, o, len)));
    assert.deepEqual(seen, ['2001:db8::/32', 'fe80::/10']);
  });
});

describe('text forms', () => {
  it('RFC 5952: longest zero run compressed, first on ties, none for a single zero group', () => {
    const f = (s: number[]) => formatIPv6Bytes(Uint8Array.from(s), 0);
    assert.equal(f(W.ip6('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
    assert.equal(f(W.ip6('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1');
    assert.equal(f(W.ip6('::')), '::');
    assert.equal(f(W.ip6('1::')), '1::');
  });
  it('parse IPv6 with an embedded dotted quad, and refuse garbage', () => {
    assert.deepEqual(Array.from(ipv6Bytes('::ffff:192.0.2.1')), [...new Array(10).fill(0), 255, 255, 192, 0, 2, 1]);
    for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '12345::', '']) assert.throws(() => ipv6Bytes(bad), RangeError, bad);
  });
  it('parse IPv4 and prefixes, and refuse garbage', () => {
    assert.equal(ipv4Number('198.18.0.1'), 0xc6120001);
    for (const bad of ['1.2.3', '1.2.3.256', 'a.b.c.d', '1.2.3.4.5']) assert.throws(() => ipv4Number(bad), RangeError, bad);
    assert.deepEqual(parsePrefix('10.0.0.0/8'), { afi: Afi.Ipv4, length: 8, address: Uint8Array.from([10, 0, 0, 0]) });
    assert.equal(parsePrefix('2001:db8::1').length, 128);
    assert.throws(() => parsePrefix('10.0.0.0/33'), RangeError);
    assert.throws(() => parsePrefixes(Afi.Ipv4, ['2001:db8::/32']), RangeError);
  });
});

describe('wire spans', () => {
  it('prefixListFromWire validates', () => {
    const b = W.bytes(W.prefixes(['10.0.0.0/8', '192.0.2.0/24']));
    assert.ok(prefixListEquals(prefixListFromWire(Afi.Ipv4, b), parsePrefixes(Afi.Ipv4, ['10.0.0.0/8', '192.0.2.0/24'])));
    assert.throws(() => prefixListFromWire(Afi.Ipv4, W.bytes([33, 1, 2, 3, 4, 5])), RangeError);
    assert.throws(() => prefixListFromWire(Afi.Ipv4, W.bytes([24, 1, 2])), RangeError);
  });
  it('prefixListEquals compares family, count and bytes', () => {
    const a = parsePrefixes(Afi.Ipv4, ['10.0.0.0/8']);
    assert.ok(!prefixListEquals(a, parsePrefixes(Afi.Ipv4, ['11.0.0.0/8'])));
    assert.ok(!prefixListEquals(a, parsePrefixes(Afi.Ipv4, [])));
  });
});
