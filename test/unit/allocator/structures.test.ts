// The index structures under the allocator, checked against brute force: the ordinal trie against a plain
// Set, the address spaces against an enumeration of every address in MetalLB's walk order.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OrdinalSet, compareDigits, incrementDigits } from '../../../src/allocator/ordinal-set.js';
import { V4Space, V6Space, buildSpaces } from '../../../src/allocator/space.js';
import { collapseIPv6Number } from 'ip-num';
import { formatIPv4, formatIPv6, parseCIDR, parseIP, v4 } from '../../../src/allocator/ip.js';

/** ip-num's RFC 5952 collapse of the uncompressed form: an independent reference for formatIPv6. */
function formatIPv6Reference(n: bigint): string {
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((n >> shift) & 0xffffn).toString(16));
  return collapseIPv6Number(groups.join(':'));
}

function digitsOf(n: number, depth: number): Uint8Array {
  const d = new Uint8Array(depth);
  for (let l = 0; l < depth; l++) d[l] = Math.floor(n / 32 ** l) % 32;
  return d;
}
function valueOf(d: Uint8Array): number {
  let n = 0;
  for (let l = d.length - 1; l >= 0; l--) n = n * 32 + d[l]!;
  return n;
}

describe('OrdinalSet', () => {
  test('agrees with a Set on add/delete/has/lowestAbsent/nextPresent', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.tuple(fc.boolean(), fc.nat()), { minLength: 1, maxLength: 300 }),
        (depth, ops) => {
          const range = 32 ** depth;
          const s = new OrdinalSet(depth);
          const ref = new Set<number>();
          const out = new Uint8Array(depth);
          for (const [isAdd, raw] of ops) {
            const n = raw % range;
            const d = digitsOf(n, depth);
            assert.equal(isAdd ? s.add(d) : s.delete(d), isAdd ? !ref.has(n) : ref.has(n));
            if (isAdd) ref.add(n);
            else ref.delete(n);
            assert.equal(s.size, ref.size);
            assert.equal(s.has(d), ref.has(n));
            let low = 0;
            while (ref.has(low)) low++;
            if (low >= range) assert.equal(s.lowestAbsent(out), false);
            else {
              assert.equal(s.lowestAbsent(out), true);
              assert.equal(valueOf(out), low);
            }
            const from = (raw * 7) % range;
            const next = [...ref].filter((x) => x >= from).sort((a, b) => a - b)[0];
            const found = s.nextPresent(digitsOf(from, depth), out);
            assert.equal(found, next !== undefined);
            if (next !== undefined) assert.equal(valueOf(out), next);
          }
          for (const n of [...ref]) s.delete(digitsOf(n, depth));
          assert.equal(s.size, 0);
          assert.ok(s.isBare, 'deleting everything prunes every node');
        },
      ),
      { numRuns: 150 },
    );
  });

  test('filling a depth-2 trie saturates it exactly at 1024', () => {
    const s = new OrdinalSet(2);
    const d = new Uint8Array(2);
    for (let i = 0; i < 1024; i++) {
      assert.equal(s.lowestAbsent(d), true);
      assert.equal(valueOf(d), i);
      s.add(d);
    }
    assert.equal(s.saturated, true);
    assert.equal(s.lowestAbsent(d), false);
  });

  test('digit helpers', () => {
    const a = Uint8Array.from([31, 31]);
    assert.equal(incrementDigits(a), false);
    const b = Uint8Array.from([31, 0]);
    assert.equal(incrementDigits(b), true);
    assert.deepEqual([...b], [0, 1]);
    assert.equal(compareDigits(Uint8Array.from([5, 1]), Uint8Array.from([31, 0])), 1);
    assert.equal(compareDigits(Uint8Array.from([5, 1]), Uint8Array.from([5, 1])), 0);
  });
});

describe('address spaces', () => {
  // Every usable address of a pool in MetalLB's walk order, enumerated the slow obvious way.
  function enumerate(cidrs: string[], avoidBuggy: boolean): string[] {
    const out: string[] = [];
    for (const c of cidrs) {
      const p = parseCIDR(c)!;
      const size = 2 ** (32 - p.length);
      for (let i = 0; i < size; i++) {
        const n = p.base.v4 + i;
        if (avoidBuggy && ((n & 255) === 0 || (n & 255) === 255)) continue;
        out.push(formatIPv4(n));
      }
    }
    return out;
  }

  test('IPv4 ordinals follow config order and skip .0/.255 with avoid-buggy-ips', () => {
    const cidrArb = fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 22, max: 32 }))
      .map(([third, len]) => `10.${third % 8}.${third}.0/${len}`);
    fc.assert(
      fc.property(fc.uniqueArray(cidrArb, { minLength: 1, maxLength: 3, selector: (c) => c.split('.')[1] }), fc.boolean(), (cidrs, buggy) => {
        // Distinct second octets keep the CIDRs disjoint, as a validated config guarantees.
        const parsed = cidrs.map((c) => parseCIDR(c)!);
        const norm = parsed.map((p) => `${p.base.text}/${p.length}`);
        const want = enumerate(norm, buggy);
        const space = new V4Space(parsed.map((p) => ({ base: p.base.v4, length: p.length })), buggy);
        assert.equal(space.capacity, want.length);
        const d = new Uint8Array(space.depth);
        want.forEach((ip, i) => {
          const got = space.ipAt(digitsOf(i, space.depth));
          assert.equal(got?.text, ip);
          assert.equal(space.digitsOf(parseIP(ip)!, d), true);
          assert.equal(valueOf(d), i);
        });
        if (want.length < 32 ** space.depth) assert.equal(space.ipAt(digitsOf(want.length, space.depth)), null);
        if (buggy) assert.equal(space.digitsOf(v4(parsed[0]!.base.v4), d), false, '.0 has no ordinal');
      }),
      { numRuns: 60 },
    );
  });

  test('small blocks inside one /24 with avoid-buggy-ips', () => {
    const sp = buildSpaces('p', ['10.0.0.0/32', '10.0.0.255/32', '10.0.1.254/31', '10.0.2.0/30'], true);
    assert.equal(sp.ipv4!.capacity, 1 + 3);
    const none = buildSpaces('p', ['10.0.0.0/32'], true);
    assert.equal(none.ipv4, null, 'a pool of only buggy addresses has no IPv4 space');
  });

  test('IPv6 spaces: /64 and ::/0 capacities, round trip', () => {
    const s64 = new V6Space([{ base: parseIP('2001:db8::')!.v6, length: 64 }]);
    assert.equal(s64.capacity, 1n << 64n);
    const all = new V6Space([{ base: 0n, length: 0 }]);
    assert.equal(all.capacity, 1n << 128n);
    assert.equal(all.depth, 26);
    const d = new Uint8Array(all.depth);
    const ip = parseIP('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')!;
    assert.equal(all.digitsOf(ip, d), true);
    assert.equal(all.ipAt(d)?.text, ip.text);
    assert.equal(s64.digitsOf(parseIP('2001:db8:0:1::')!, new Uint8Array(s64.depth)), false);
  });

  test('IPv6 text agrees with ip-num\'s RFC 5952 collapse', () => {
    // Groups drawn mostly from 0 so that zero runs of every length and position occur.
    const group = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) });
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        const n = groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
        assert.equal(formatIPv6(n), formatIPv6Reference(n));
      }),
      { numRuns: 2000 },
    );
    assert.equal(formatIPv6(0n), '::');
    assert.equal(formatIPv6(1n), '::1');
    assert.equal(formatIPv6(0x20010db8000000010000000000000001n), '2001:db8:0:1::1');
    assert.equal(formatIPv6(0x20010db8000000000001000000000001n), '2001:db8::1:0:0:1', 'first of two equal runs');
  });

  test('IP parsing follows Go net.ParseIP', () => {
    for (const bad of ['', ' 1.2.3.4', '1.2.3.4 ', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1..2.3', 'fe80::1%eth0', '1::2::3', 'x', '1.2.3.4/32']) {
      assert.equal(parseIP(bad), null, JSON.stringify(bad));
    }
    assert.equal(parseIP('0.0.0.0')?.text, '0.0.0.0');
    assert.equal(parseIP('255.255.255.255')?.v4, 2 ** 32 - 1);
    assert.equal(parseIP('::ffff:192.0.2.1')?.family, 'ipv4');
    assert.equal(parseIP('2001:db8:0:0:1:0:0:1')?.text, '2001:db8::1:0:0:1');
    assert.equal(parseIP('2001:db8:0:1:1:1:1:1')?.text, '2001:db8:0:1:1:1:1:1', 'a single zero group stays (RFC 5952 4.2.2)');
  });
});
