// src/ip's byte conversions and throwing forms (the Go-rules text parsing and RFC 5952 formatting are covered,
// with ip-num as an independent oracle, in test/unit/config/ip-duration.test.ts and the allocator's tests).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  familyOfText,
  formatIPv4,
  formatIPv4Bytes,
  formatIPv6,
  formatIPv6Bytes,
  ipFromBytes,
  ipToBytes,
  ipv4Number,
  ipv6Bytes,
  parseIP,
} from '../../../src/ip/index.js';

describe('src/ip bytes', () => {
  it('IPv4 and IPv6 round-trip through bytes and text', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 0xffffffff }), (v6, v4) => {
        const b6 = ipToBytes({ family: 6, value: v6 });
        assert.equal(b6.length, 16);
        assert.deepEqual(ipFromBytes(6, b6), { family: 6, value: v6 });
        assert.equal(formatIPv6Bytes(b6), formatIPv6(v6));
        const b4 = ipToBytes({ family: 4, value: BigInt(v4) });
        assert.deepEqual(ipFromBytes(4, b4), { family: 4, value: BigInt(v4) });
        assert.equal(formatIPv4Bytes(b4), formatIPv4(v4));
        assert.equal(ipv4Number(formatIPv4(v4)), v4);
      }),
    );
  });
  it('an IPv4-mapped address stays 16 octets in ipv6Bytes but is IPv4 to parseIP (Go)', () => {
    assert.deepEqual(Array.from(ipv6Bytes('::ffff:192.0.2.1')), [...new Array(10).fill(0), 255, 255, 192, 0, 2, 1]);
    assert.deepEqual(parseIP('::ffff:192.0.2.1'), { family: 4, value: 0xc0000201n });
  });
  it('throwing forms name the bad value; Go rules (no leading zeros, no zones)', () => {
    for (const bad of ['1.2.3', '1.2.3.256', '010.0.0.1', '1.2.3.4.5', '']) assert.throws(() => ipv4Number(bad), /bad IPv4 address/, bad);
    for (const bad of ['1::2::3', 'fe80::1%eth0', 'g::1', '1.2.3.4']) assert.throws(() => ipv6Bytes(bad), /bad IPv6 address/, bad);
  });
  it('familyOfText', () => {
    assert.equal(familyOfText('10.0.0.1'), 4);
    assert.equal(familyOfText('fe80::1%eth0'), 6);
  });
});
