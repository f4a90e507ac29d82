// Address arithmetic (Go net.ParseIP / ParseCIDR semantics, RFC 5952 output, range → minimal CIDR cover) and
// Go duration parsing. The property tests check covers against their definition and against ip-num as an
// independent oracle for CIDR bounds.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IPv4, IPv4CidrRange, IPv6, IPv6CidrRange } from 'ip-num';
import { parseAddressEntry, parseGoDuration } from '../../../src/config/index.js';
import { formatIP, makePrefix, parseCIDR, parseIP, summarizeRange, type IPFamily } from '../../../src/ip/index.js';

describe('parseIP (Go net.ParseIP)', () => {
  const valid: Array<[string, IPFamily, string]> = [
    ['10.0.0.1', 4, '10.0.0.1'],
    ['0.0.0.0', 4, '0.0.0.0'],
    ['255.255.255.255', 4, '255.255.255.255'],
    ['::', 6, '::'],
    ['::1', 6, '::1'],
    ['1::', 6, '1::'],
    ['2001:DB8::0:1', 6, '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', 6, '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', 6, '2001:db8::1:0:0:1'],
    ['2001:0:0:1:0:0:0:1', 6, '2001:0:0:1::1'],
    ['2001:db8:0:1:1:1:1:1', 6, '2001:db8:0:1:1:1:1:1'],
    ['1:2:3:4:5:6:7::', 6, '1:2:3:4:5:6:7:0'],
    ['::ffff:1.2.3.4', 4, '1.2.3.4'],
    ['::1.2.3.4', 6, '::102:304'],
    ['64:ff9b::192.0.2.33', 6, '64:ff9b::c000:221'],
  ];
  for (const [text, family, canonical] of valid) {
    test(`${text} → ${canonical}`, () => {
      const ip = parseIP(text);
      assert.ok(ip);
      assert.equal(ip.family, family);
      assert.equal(formatIP(ip.family, ip.value), canonical);
    });
  }
  const invalid = ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.1.1.1', '1.2.3.-1', ' 1.2.3.4', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::8', '12345::', 'g::1', 'fe80::1%eth0', '1.2.3.4:', '::ffff:1.2.3', '1.2.3.4/32', 'localhost'];
  for (const text of invalid) test(`invalid: ${JSON.stringify(text)}`, () => assert.equal(parseIP(text), null));

  test('property: formatIP/parseIP round-trip for every IPv6 value outside ::ffff:0:0/96', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
        fc.pre(v >> 32n !== 0xffffn);
        const text = formatIP(6, v);
        assert.equal(parseIP(text)?.value, v);
        // ip-num prints the uncompressed form; our parser must read it back to the same value.
        assert.equal(parseIP(IPv6.fromBigInt(v).toString())?.value, v);
      }),
    );
  });
});

describe('parseCIDR (Go net.ParseCIDR + IPNet.String)', () => {
  const cases: Array<[string, string | null]> = [
    ['10.20.30.40/24', '10.20.30.0/24'],
    ['10.0.0.0/0', '0.0.0.0/0'],
    ['1.2.3.4/32', '1.2.3.4/32'],
    ['2001:db8::ff/120', '2001:db8::/120'],
    ['::ffff:1.2.3.4/120', '1.2.3.0/24'],
    ['1.2.3.4', null],
    ['1.2.3.4/33', null],
    ['1.2.3.4/', null],
    ['1.2.3.4/-1', null],
    ['1.2.3.4/+8', null],
    ['::/129', null],
    ['1.2.3.04/24', null],
  ];
  for (const [text, want] of cases) test(`${text} → ${want}`, () => assert.equal(parseCIDR(text)?.text ?? null, want));
});

describe('summarizeRange (minimal CIDR cover)', () => {
  const cases: Array<[string, string, string[]]> = [
    ['10.0.0.0', '10.0.0.255', ['10.0.0.0/24']],
    ['10.0.0.1', '10.0.0.1', ['10.0.0.1/32']],
    ['10.0.0.255', '10.0.1.0', ['10.0.0.255/32', '10.0.1.0/32']],
    ['0.0.0.1', '255.255.255.254', [
      '0.0.0.1/32', '0.0.0.2/31', '0.0.0.4/30', '0.0.0.8/29', '0.0.0.16/28', '0.0.0.32/27', '0.0.0.64/26', '0.0.0.128/25',
      '0.0.1.0/24', '0.0.2.0/23', '0.0.4.0/22', '0.0.8.0/21', '0.0.16.0/20', '0.0.32.0/19', '0.0.64.0/18', '0.0.128.0/17',
      '0.1.0.0/16', '0.2.0.0/15', '0.4.0.0/14', '0.8.0.0/13', '0.16.0.0/12', '0.32.0.0/11', '0.64.0.0/10', '0.128.0.0/9',
      '1.0.0.0/8', '2.0.0.0/7', '4.0.0.0/6', '8.0.0.0/5', '16.0.0.0/4', '32.0.0.0/3', '64.0.0.0/2', '128.0.0.0/2',
      '192.0.0.0/3', '224.0.0.0/4', '240.0.0.0/5', '248.0.0.0/6', '252.0.0.0/7', '254.0.0.0/8', '255.0.0.0/9',
      '255.128.0.0/10', '255.192.0.0/11', '255.224.0.0/12', '255.240.0.0/13', '255.248.0.0/14', '255.252.0.0/15',
      '255.254.0.0/16', '255.255.0.0/17', '255.255.128.0/18', '255.255.192.0/19', '255.255.224.0/20', '255.255.240.0/21',
      '255.255.248.0/22', '255.255.252.0/23', '255.255.254.0/24', '255.255.255.0/25', '255.255.255.128/26',
      '255.255.255.192/27', '255.255.255.224/28', '255.255.255.240/29', '255.255.255.248/30', '255.255.255.252/31',
      '255.255.255.254/32',
    ]],
    ['::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', ['::/0']],
    ['2001:db8::', '2001:db8::1:0', ['2001:db8::/112', '2001:db8::1:0/128']],
  ];
  for (const [start, end, want] of cases) {
    test(`${start}-${end}`, () => {
      const s = parseIP(start);
      const e = parseIP(end);
      assert.ok(s && e);
      assert.deepEqual(summarizeRange(s.family, s.value, e.value).map((p) => p.text), want);
    });
  }

  const rangeArb = fc.oneof(
    fc.tuple(fc.constant<IPFamily>(4), fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 32n) - 1n })),
    fc.tuple(fc.constant<IPFamily>(6), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n })),
    // Short IPv6 ranges, where alignment effects are dense.
    fc.tuple(fc.constant<IPFamily>(6), fc.bigInt({ min: 0n, max: (1n << 128n) - 1000n }), fc.bigInt({ min: 0n, max: 999n })).map(
      ([f, a, d]): [IPFamily, bigint, bigint] => [f, a, a + d],
    ),
  );

  test('property: the cover is ascending, contiguous, exact and minimal', () => {
    fc.assert(
      fc.property(rangeArb, ([family, a, b]) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        const cover = summarizeRange(family, start, end);
        assert.ok(cover.length > 0);
        assert.ok(cover.length <= 2 * (family === 4 ? 32 : 128));
        assert.equal(cover[0]?.first, start);
        assert.equal(cover[cover.length - 1]?.last, end);
        for (let i = 0; i < cover.length; i++) {
          const p = cover[i];
          assert.ok(p);
          const next = cover[i + 1];
          if (next) assert.equal(next.first, p.last + 1n, 'contiguous and ascending');
          // Minimal iff no block's parent block lies wholly inside the range (else merging would shrink it).
          if (p.length > 0) {
            const parent = makePrefix(family, p.first, p.length - 1);
            assert.ok(!(parent.first >= start && parent.last <= end), `${p.text} could merge into ${parent.text}`);
          }
          // Independent check of each block's bounds and text with ip-num.
          const oracle = family === 4 ? IPv4CidrRange.fromCidr(p.text) : IPv6CidrRange.fromCidr(p.text);
          assert.equal(oracle.getFirst().getValue(), p.first);
          assert.equal(oracle.getLast().getValue(), p.last);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('property: a written range "a - b" parses to the cover of [a, b], in either spacing', () => {
    fc.assert(
      fc.property(rangeArb, fc.constantFrom('-', ' - ', '  -\t'), ([family, a, b], dash) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        fc.pre(family === 4 || (start >> 32n !== 0xffffn && end >> 32n !== 0xffffn));
        const r = parseAddressEntry(`${formatIP(family, start)}${dash}${formatIP(family, end)}`);
        assert.ok(r.ok);
        assert.deepEqual(r.prefixes, summarizeRange(family, start, end));
        if (start !== end) {
          const rev = parseAddressEntry(`${formatIP(family, end)}${dash}${formatIP(family, start)}`);
          assert.ok(!rev.ok && rev.error.includes('is after the end IP'));
        }
      }),
      { numRuns: 200 },
    );
  });

  test('property: the cover of a CIDR-aligned range is that CIDR', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), fc.integer({ min: 0, max: 32 }), (v, len) => {
        const p = makePrefix(4, v, len);
        assert.deepEqual(summarizeRange(4, p.first, p.last).map((x) => x.text), [p.text]);
        assert.equal(IPv4.fromNumber(p.first).toString(), p.address);
      }),
    );
  });
});

describe('parseGoDuration (Go time.ParseDuration)', () => {
  const S = 1_000_000_000n;
  const valid: Array<[string, bigint]> = [
    ['90s', 90n * S],
    ['1m30s', 90n * S],
    ['1.5h', 5400n * S],
    ['300ms', 300_000_000n],
    ['-2s', -2n * S],
    ['+3s', 3n * S],
    ['0', 0n],
    ['-0', 0n],
    ['.5s', S / 2n],
    ['5.s', 5n * S],
    ['1h2m3s4ms5us6ns', 3723n * S + 4_005_006n],
    ['7\u00b5s', 7000n],
    ['7\u03bcs', 7000n],
    ['1.0000000001s', S],
    ['9223372036854775807ns', (1n << 63n) - 1n],
  ];
  for (const [text, ns] of valid) {
    test(`${text} = ${ns}ns`, () => assert.deepEqual(parseGoDuration(text), { ok: true, nanoseconds: ns }));
  }
  const invalid: Array<[string, string]> = [
    ['', 'time: invalid duration ""'],
    ['s', 'time: invalid duration "s"'],
    ['.s', 'time: invalid duration ".s"'],
    ['-', 'time: invalid duration "-"'],
    ['90', 'time: missing unit in duration "90"'],
    ['1m30', 'time: missing unit in duration "1m30"'],
    ['3d', 'time: unknown unit "d" in duration "3d"'],
    ['3 s', 'time: unknown unit " s" in duration "3 s"'],
    ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
  ];
  for (const [text, error] of invalid) {
    test(`invalid: ${JSON.stringify(text)}`, () => assert.deepEqual(parseGoDuration(text), { ok: false, error }));
  }
});
