// Address pools: address syntax (CIDRs, ranges, masking), protocol rules, overlap checks, BGP advertisements
// (aggregation lengths, localpref, communities and aliases, large communities) and their error texts (§1.5–§1.8).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bad, ok, pool } from './helpers.js';

describe('pool defaults and fields', () => {
  test('a layer2 pool gets auto-assign true, avoid-buggy-ips false and no advertisements', () => {
    const c = ok(pool('layer2', ['10.0.0.0/24']));
    const p = c.pools[0];
    assert.ok(p);
    assert.equal(p.name, 'p1');
    assert.equal(p.protocol, 'layer2');
    assert.deepEqual(p.cidrs, ['10.0.0.0/24']);
    assert.equal(p.autoAssign, true);
    assert.equal(p.avoidBuggyIPs, false);
    assert.deepEqual(p.bgpAdvertisements, []);
    assert.deepEqual(p.nodeSelectors, []);
    assert.equal(p.prefixes[0]?.first, 0x0a000000n);
    assert.equal(p.prefixes[0]?.last, 0x0a0000ffn);
  });

  test('a bgp pool without advertisements gets the one default advertisement', () => {
    const p = ok(pool('bgp', ['10.0.0.0/24'])).pools[0];
    assert.deepEqual(p?.bgpAdvertisements, [
      { aggregationLength: 32, aggregationLengthV6: 128, localPref: 0, communities: [], largeCommunities: [] },
    ]);
  });

  test('an empty bgp-advertisements list and a null item both mean defaults', () => {
    assert.equal(ok(pool('bgp', ['10.0.0.0/24'], '  bgp-advertisements: []\n')).pools[0]?.bgpAdvertisements.length, 1);
    const p = ok(pool('bgp', ['10.0.0.0/24'], '  bgp-advertisements:\n  -\n')).pools[0];
    assert.equal(p?.bgpAdvertisements[0]?.aggregationLength, 32);
  });

  test('an empty bgp-advertisements list is allowed on a layer2 pool', () => {
    ok(pool('layer2', ['10.0.0.0/24'], '  bgp-advertisements: []\n'));
  });

  test('auto-assign false and avoid-buggy-ips true', () => {
    const p = ok(pool('layer2', ['10.0.0.0/24'], '  auto-assign: false\n  avoid-buggy-ips: true\n')).pools[0];
    assert.equal(p?.autoAssign, false);
    assert.equal(p?.avoidBuggyIPs, true);
  });

  test('pools keep config order, and IPv6 in a bgp pool is valid (ingot)', () => {
    const c = ok(
      'address-pools:\n- name: z\n  protocol: bgp\n  addresses: ["2001:db8::/64"]\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.0/8]\n',
    );
    assert.deepEqual(
      c.pools.map((p) => p.name),
      ['z', 'a'],
    );
    assert.equal(c.pools[0]?.prefixes[0]?.family, 6);
  });

  test('an empty document is a valid empty config', () => {
    assert.deepEqual(ok(''), { peers: [], pools: [], bfdProfiles: [] });
    assert.deepEqual(ok('# just a comment\n'), { peers: [], pools: [], bfdProfiles: [] });
  });
});

describe('address syntax', () => {
  const cases: Array<[string, string[], string[]]> = [
    ['host bits are masked', ['10.20.30.40/24'], ['10.20.30.0/24']],
    ['a /32', ['1.2.3.4/32'], ['1.2.3.4/32']],
    ['IPv6 host bits are masked and printed compressed', ['2001:DB8:0:0:1::5/64'], ['2001:db8::/64']],
    ['IPv4-mapped IPv6 CIDR is IPv4', ['::ffff:1.2.3.4/128'], ['1.2.3.4/32']],
    ['range turned into its minimal cover', ['3.3.3.2-3.3.3.254'], [
      '3.3.3.2/31', '3.3.3.4/30', '3.3.3.8/29', '3.3.3.16/28', '3.3.3.32/27', '3.3.3.64/26', '3.3.3.128/26',
      '3.3.3.192/27', '3.3.3.224/28', '3.3.3.240/29', '3.3.3.248/30', '3.3.3.252/31', '3.3.3.254/32',
    ]],
    ['spaces around the dash are trimmed', ['40.0.0.210 - 40.0.0.240'], ['40.0.0.210/31', '40.0.0.212/30', '40.0.0.216/29', '40.0.0.224/28', '40.0.0.240/32']],
    ['IPv4-mapped IPv6 range bound is IPv4', ['::ffff:1.2.3.4-1.2.3.7'], ['1.2.3.4/30']],
    ['single-IP range a-a', ['40.0.0.250 - 40.0.0.250'], ['40.0.0.250/32']],
    ['a range that is exactly a CIDR', ['192.168.0.0-192.168.255.255'], ['192.168.0.0/16']],
    ['IPv6 range', ['2001:db8::1-2001:db8::6'], ['2001:db8::1/128', '2001:db8::2/127', '2001:db8::4/127', '2001:db8::6/128']],
    ['IPv6 single-IP range', ['fc00::5-fc00::5'], ['fc00::5/128']],
    ['whole IPv4 space', ['0.0.0.0-255.255.255.255'], ['0.0.0.0/0']],
    ['several entries keep config order', ['10.0.1.0/24', '10.0.0.0/24', '10.0.2.0-10.0.2.1'], ['10.0.1.0/24', '10.0.0.0/24', '10.0.2.0/31']],
  ];
  for (const [name, addrs, want] of cases) {
    test(name, () => assert.deepEqual(ok(pool('layer2', addrs)).pools[0]?.cidrs, want));
  }

  const errors: Array<[string, string, string]> = [
    ['bare IP without mask', '10.0.0.1', 'parsing address pool #1: invalid CIDR "10.0.0.1" in pool "p1": invalid CIDR "10.0.0.1"'],
    ['prefix length 33', '1.2.3.0/33', 'parsing address pool #1: invalid CIDR "1.2.3.0/33" in pool "p1": invalid CIDR "1.2.3.0/33"'],
    ['IPv6 prefix length 129', 'fc00::/129', 'parsing address pool #1: invalid CIDR "fc00::/129" in pool "p1": invalid CIDR "fc00::/129"'],
    ['surrounding whitespace is not trimmed for CIDRs', ' 1.2.3.0/24', 'parsing address pool #1: invalid CIDR " 1.2.3.0/24" in pool "p1": invalid CIDR " 1.2.3.0/24"'],
    ['garbage', 'pool', 'parsing address pool #1: invalid CIDR "pool" in pool "p1": invalid CIDR "pool"'],
    ['bad range start', '1.2.3-1.2.3.5', 'parsing address pool #1: invalid CIDR "1.2.3-1.2.3.5" in pool "p1": invalid IP range "1.2.3-1.2.3.5": invalid start IP "1.2.3"'],
    ['bad range end (untrimmed in message)', '1.2.3.4- x', 'parsing address pool #1: invalid CIDR "1.2.3.4- x" in pool "p1": invalid IP range "1.2.3.4- x": invalid end IP " x"'],
    ['CIDR on one side of a range', '1.2.3.0/24-1.2.3.9', 'parsing address pool #1: invalid CIDR "1.2.3.0/24-1.2.3.9" in pool "p1": invalid IP range "1.2.3.0/24-1.2.3.9": invalid start IP "1.2.3.0/24"'],
    ['reversed range', '1.2.3.10-1.2.3.1', 'parsing address pool #1: invalid CIDR "1.2.3.10-1.2.3.1" in pool "p1": invalid IP range "1.2.3.10-1.2.3.1": start IP "1.2.3.10" is after the end IP "1.2.3.1"'],
    ['mixed-family range (ingot rejects; MetalLB yields no addresses)', '::1-1.2.3.4', 'parsing address pool #1: invalid CIDR "::1-1.2.3.4" in pool "p1": invalid IP range "::1-1.2.3.4": start IP "::1" and end IP "1.2.3.4" are of different families'],
  ];
  for (const [name, addr, want] of errors) {
    test(`error: ${name}`, () => assert.equal(bad(pool('layer2', [addr])), want));
  }
  test('error: a null addresses item is an empty string', () => {
    assert.equal(bad('address-pools:\n- name: p1\n  protocol: layer2\n  addresses:\n  -\n'), 'parsing address pool #1: invalid CIDR "" in pool "p1": invalid CIDR ""');
  });
});

describe('pool structure errors', () => {
  const cases: Array<[string, string, string]> = [
    ['no name', 'address-pools:\n- protocol: bgp\n  addresses: [1.2.3.0/24]\n', 'parsing address pool #1: missing pool name'],
    ['a null pool item', 'address-pools:\n-\n', 'parsing address pool #1: missing pool name'],
    ['no addresses', 'address-pools:\n- name: p1\n  protocol: bgp\n', 'parsing address pool #1: pool has no prefixes defined'],
    ['empty addresses', 'address-pools:\n- name: p1\n  protocol: bgp\n  addresses: []\n', 'parsing address pool #1: pool has no prefixes defined'],
    ['no protocol', 'address-pools:\n- name: p1\n  addresses: [1.2.3.0/24]\n', 'parsing address pool #1: address pool is missing the protocol field'],
    ['unknown protocol', 'address-pools:\n- name: p1\n  protocol: ospf\n  addresses: [1.2.3.0/24]\n', 'parsing address pool #1: unknown protocol "ospf"'],
    ['protocol is case-sensitive', 'address-pools:\n- name: p1\n  protocol: BGP\n  addresses: [1.2.3.0/24]\n', 'parsing address pool #1: unknown protocol "BGP"'],
    ['addresses are checked before the protocol', 'address-pools:\n- name: p1\n  protocol: ospf\n  addresses: [nope]\n', 'parsing address pool #1: invalid CIDR "nope" in pool "p1": invalid CIDR "nope"'],
    ['advertisements on a layer2 pool', pool('layer2', ['1.2.3.0/24'], '  bgp-advertisements:\n  - aggregation-length: 32\n'), 'parsing address pool #1: cannot have bgp-advertisements configuration element in a layer2 address pool'],
    ['duplicate pool name', 'address-pools:\n- name: a\n  protocol: bgp\n  addresses: [1.0.0.0/24]\n- name: a\n  protocol: bgp\n  addresses: [2.0.0.0/24]\n', 'duplicate definition of pool "a"'],
    ['same CIDR twice in one pool', pool('bgp', ['1.2.3.0/24', '1.2.3.0/24']), 'CIDR "1.2.3.0/24" in pool "p1" overlaps with already defined CIDR "1.2.3.0/24"'],
    ['overlap inside one pool via masking', pool('bgp', ['1.2.3.0/24', '1.2.3.77/28']), 'CIDR "1.2.3.64/28" in pool "p1" overlaps with already defined CIDR "1.2.3.0/24"'],
    ['range overlapping a CIDR in the same pool', pool('layer2', ['10.0.0.0/30', '10.0.0.3-10.0.0.5']), 'CIDR "10.0.0.3/32" in pool "p1" overlaps with already defined CIDR "10.0.0.0/30"'],
    ['overlap across pools', 'address-pools:\n- name: a\n  protocol: bgp\n  addresses: [10.0.0.0/16]\n- name: b\n  protocol: layer2\n  addresses: [10.0.200.0/24]\n', 'CIDR "10.0.200.0/24" in pool "b" overlaps with already defined CIDR "10.0.0.0/16"'],
    ['larger block after a smaller one', 'address-pools:\n- name: a\n  protocol: bgp\n  addresses: [10.0.200.0/24]\n- name: b\n  protocol: layer2\n  addresses: [10.0.0.0/8]\n', 'CIDR "10.0.0.0/8" in pool "b" overlaps with already defined CIDR "10.0.200.0/24"'],
    ['IPv6 overlap', pool('layer2', ['2001:db8::/64', '2001:db8::8-2001:db8::9']), 'CIDR "2001:db8::8/127" in pool "p1" overlaps with already defined CIDR "2001:db8::/64"'],
    ['IPv4-mapped IPv6 overlaps IPv4', pool('layer2', ['1.2.3.0/24', '::ffff:1.2.3.4/128']), 'CIDR "1.2.3.4/32" in pool "p1" overlaps with already defined CIDR "1.2.3.0/24"'],
    ['duplicate name is checked before overlap', 'address-pools:\n- name: a\n  protocol: bgp\n  addresses: [10.0.0.0/16]\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.0/16]\n', 'duplicate definition of pool "a"'],
  ];
  for (const [name, text, want] of cases) test(name, () => assert.equal(bad(text), want));

  test('adjacent blocks and different families do not overlap', () => {
    ok(pool('layer2', ['10.0.0.0/25', '10.0.0.128/25', '::/0', '128.0.0.0/1']));
  });
});

describe('bgp advertisements', () => {
  const ad = (lines: string): string => pool('bgp', ['10.0.0.0/24'], `  bgp-advertisements:\n${lines}`);
  test('all fields, aliases resolved, communities sorted and deduplicated', () => {
    const text =
      'bgp-communities:\n  zz: 64512:1\n  noexp: 65535:65281\n' +
      ad('  - aggregation-length: 24\n    aggregation-length-v6: 64\n    localpref: 200\n    communities: [noexp, 64512:7, zz, 64512:1]\n');
    const a = ok(text).pools[0]?.bgpAdvertisements[0];
    assert.deepEqual(a, {
      aggregationLength: 24,
      aggregationLengthV6: 64,
      localPref: 200,
      communities: [64512 * 65536 + 1, 64512 * 65536 + 7, 65535 * 65536 + 65281],
      largeCommunities: [],
    });
  });

  test('large communities (ingot): literals and aliases, sorted', () => {
    const text =
      'bgp-communities:\n  big: large:4200000000:1:2\n' +
      ad('  - communities: [big, "large:64512:9:9", "large:64512:1:100", 0:1]\n');
    const a = ok(text).pools[0]?.bgpAdvertisements[0];
    assert.deepEqual(a?.communities, [1]);
    assert.deepEqual(a?.largeCommunities, [
      { globalAdministrator: 64512, localData1: 1, localData2: 100 },
      { globalAdministrator: 64512, localData1: 9, localData2: 9 },
      { globalAdministrator: 4200000000, localData1: 1, localData2: 2 },
    ]);
  });

  test('an alias that shadows a literal spelling resolves to the alias', () => {
    const a = ok(`bgp-communities:\n  "1:1": 2:2\n${ad('  - communities: ["1:1"]\n')}`).pools[0]?.bgpAdvertisements[0];
    assert.deepEqual(a?.communities, [2 * 65536 + 2]);
  });

  test('aggregation per addresses entry (v0.12): a range passes with its largest block', () => {
    const p = ok(pool('bgp', ['3.3.3.2-3.3.3.254'], '  bgp-advertisements:\n  - aggregation-length: 26\n')).pools[0];
    assert.equal(p?.bgpAdvertisements[0]?.aggregationLength, 26);
    ok(pool('bgp', ['10.0.0.0/24'], '  bgp-advertisements:\n  - aggregation-length: 24\n'));
    ok(pool('bgp', ['10.0.0.0/24', 'fc00::/64'], '  bgp-advertisements:\n  - aggregation-length: 24\n    aggregation-length-v6: 64\n'));
  });

  test('two advertisements that differ only in an unset vs explicit default are not duplicates', () => {
    const p = ok(ad('  - aggregation-length: 32\n  - localpref: 0\n')).pools[0];
    assert.equal(p?.bgpAdvertisements.length, 2);
  });

  const errors: Array<[string, string, string]> = [
    ['duplicate advertisements', ad('  - localpref: 5\n  - aggregation-length: 30\n  - localpref: 5\n'), 'parsing address pool #1: parsing BGP communities: duplicate definition of bgpadvertisements. advertisement 1 and 3 are equal'],
    ['duplicate null advertisements', ad('  -\n  -\n'), 'parsing address pool #1: parsing BGP communities: duplicate definition of bgpadvertisements. advertisement 1 and 2 are equal'],
    ['duplicate community', ad('  - communities: [1:1, 2:2, 1:1]\n'), 'parsing address pool #1: parsing BGP communities: duplicate definition of community "1:1"'],
    ['aggregation length over 32', ad('  - aggregation-length: 33\n'), 'parsing address pool #1: parsing BGP communities: invalid aggregation length "33" for IPv4'],
    ['negative aggregation length (ingot names it)', ad('  - aggregation-length: -1\n'), 'parsing address pool #1: parsing BGP communities: invalid aggregation length "-1" for IPv4'],
    ['aggregation length v6 over 128', ad('  - aggregation-length-v6: 129\n'), 'parsing address pool #1: parsing BGP communities: invalid aggregation length "129" for IPv6'],
    ['aggregation shorter than the pool prefix', ad('  - aggregation-length: 16\n'), 'parsing address pool #1: parsing BGP communities: invalid aggregation length 16: prefix "24" in this pool is more specific than the aggregation length for addresses 10.0.0.0/24'],
    ['aggregation too wide for a range', pool('bgp', ['3.3.3.2-3.3.3.254'], '  bgp-advertisements:\n  - aggregation-length: 24\n'), 'parsing address pool #1: parsing BGP communities: invalid aggregation length 24: prefix "26" in this pool is more specific than the aggregation length for addresses 3.3.3.2-3.3.3.254'],
    ['IPv6 aggregation checked against IPv6 entries, printing the v6 length', pool('bgp', ['10.0.0.0/24', 'fc00::/64'], '  bgp-advertisements:\n  - aggregation-length-v6: 48\n'), 'parsing address pool #1: parsing BGP communities: invalid aggregation length 48: prefix "64" in this pool is more specific than the aggregation length for addresses fc00::/64'],
    ['aggregation 0 is shorter than every block', ad('  - aggregation-length: 0\n'), 'parsing address pool #1: parsing BGP communities: invalid aggregation length 0: prefix "24" in this pool is more specific than the aggregation length for addresses 10.0.0.0/24'],
    ['community without colon', ad('  - communities: [1234]\n'), 'parsing address pool #1: parsing BGP communities: invalid community "1234" in BGP advertisement: invalid community string "1234"'],
    ['community with three parts', ad('  - communities: ["1:2:3"]\n'), 'parsing address pool #1: parsing BGP communities: invalid community "1:2:3" in BGP advertisement: invalid community string "1:2:3"'],
    ['community first half too big', ad('  - communities: [99999:1]\n'), 'parsing address pool #1: parsing BGP communities: invalid community "99999:1" in BGP advertisement: invalid first section of community "99999": strconv.ParseUint: parsing "99999": value out of range'],
    ['community second half too big', ad('  - communities: [1:65536]\n'), 'parsing address pool #1: parsing BGP communities: invalid community "1:65536" in BGP advertisement: invalid second section of community "65536": strconv.ParseUint: parsing "65536": value out of range'],
    ['unknown alias', ad('  - communities: [no-export]\n'), 'parsing address pool #1: parsing BGP communities: invalid community "no-export" in BGP advertisement: invalid community string "no-export"'],
    ['bad large community literal', ad('  - communities: ["large:1:2"]\n'), 'parsing address pool #1: parsing BGP communities: invalid community "large:1:2" in BGP advertisement: invalid large community string "large:1:2"'],
    ['large community part beyond 32 bits', ad('  - communities: ["large:1:4294967296:0"]\n'), 'parsing address pool #1: parsing BGP communities: invalid community "large:1:4294967296:0" in BGP advertisement: invalid first local data part of large community "4294967296": strconv.ParseUint: parsing "4294967296": value out of range'],
    ['alias value with an oversized first half', 'bgp-communities:\n  big: 65536:1\n', 'parsing community "big": invalid first section of community "65536": strconv.ParseUint: parsing "65536": value out of range'],
    ['alias value with an oversized second half', 'bgp-communities:\n  big: 1:70000\n', 'parsing community "big": invalid second section of community "70000": strconv.ParseUint: parsing "70000": value out of range'],
    ['bad large alias value', 'bgp-communities:\n  big: large:1:2:-3\n', 'parsing community "big": invalid second local data part of large community "-3": strconv.ParseUint: parsing "-3": invalid syntax'],
    ['bad alias value, even unused', 'bgp-communities:\n  bad: 1:x\n', 'parsing community "bad": invalid second section of community "x": strconv.ParseUint: parsing "x": invalid syntax'],
    ['unquoted numeric alias value becomes its text and fails', 'bgp-communities:\n  n: 65535\n', 'parsing community "n": invalid community string "65535"'],
    ['localPref is not the key (lowercase localpref)', ad('  - localPref: 100\n'), 'could not parse config: line 7: field localPref not found in bgp advertisement #1 of address pool #1'],
    ['aliases are checked before pools', `bgp-communities:\n  bad: x\n${pool('bgp', ['nope'])}`, 'parsing community "bad": invalid community string "x"'],
  ];
  for (const [name, text, want] of errors) test(name, () => assert.equal(bad(text), want));
});
