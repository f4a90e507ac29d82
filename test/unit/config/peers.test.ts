// Peers: defaults, every validation rule and error text of spec §1.3, duplicate detection, BFD references
// and ingot's peer extensions (graceful restart, GTSM).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bad, ok, peer } from './helpers.js';

describe('peer defaults', () => {
  test('a minimal peer gets MetalLB defaults and ingot extension defaults', () => {
    const c = ok(peer(''));
    assert.equal(c.peers.length, 1);
    assert.deepEqual(c.peers[0], {
      myASN: 64500,
      peerASN: 64501,
      peerAddress: '10.0.0.1',
      peerPort: 179,
      holdTime: 90,
      keepaliveTime: 30,
      routerID: null,
      sourceAddress: null,
      ebgpMultihop: false,
      password: null,
      bfdProfile: null,
      nodeSelectors: [],
      gracefulRestart: false,
      gracefulRestartTime: 120,
      gtsm: false,
    });
  });

  const cases: Array<[string, string, Record<string, unknown>]> = [
    ['peer-port 0 means 179', '  peer-port: 0\n', { peerPort: 179 }],
    ['explicit peer-port', '  peer-port: 1179\n', { peerPort: 1179 }],
    ['hold-time with units, truncated to seconds', '  hold-time: 1m30.9s\n', { holdTime: 90, keepaliveTime: 30 }],
    ['hold-time 0s disables keepalives', '  hold-time: 0s\n', { holdTime: 0, keepaliveTime: 0 }],
    ['bare 0 is a valid Go duration', '  hold-time: "0"\n', { holdTime: 0 }],
    ['hold-time 3s is the minimum', '  hold-time: 3s\n', { holdTime: 3, keepaliveTime: 1 }],
    ['keepalive defaults to floor(hold/3)', '  hold-time: 100s\n', { holdTime: 100, keepaliveTime: 33 }],
    ['keepalive-time is accepted (FRR-only in MetalLB)', '  keepalive-time: 10s\n', { keepaliveTime: 10 }],
    ['keepalive equal to hold is allowed', '  hold-time: 30s\n  keepalive-time: 30s\n', { keepaliveTime: 30 }],
    ['hours with a fraction', '  hold-time: 1.5h\n', { holdTime: 5400 }],
    ['hold time 65535s is the largest (ingot)', '  hold-time: 18h12m15s\n', { holdTime: 65535, keepaliveTime: 21845 }],
    ['router-id and source-address', '  router-id: 10.0.0.100\n  source-address: 10.0.0.2\n', { routerID: '10.0.0.100', sourceAddress: '10.0.0.2' }],
    ['numeric password becomes its text', '  password: 12345\n', { password: '12345' }],
    ['an 80-byte password is the longest TCP-MD5 key Linux takes', `  password: ${'k'.repeat(80)}\n`, { password: 'k'.repeat(80) }],
    ['empty password is null', '  password: ""\n', { password: null }],
    ['ebgp-multihop for an eBGP peer', '  ebgp-multihop: true\n', { ebgpMultihop: true }],
    ['graceful restart on, default time', '  graceful-restart: yes\n', { gracefulRestart: true, gracefulRestartTime: 120 }],
    ['graceful restart time bounds (1s)', '  graceful-restart: true\n  graceful-restart-time: 1s\n', { gracefulRestartTime: 1 }],
    ['graceful restart time bounds (4095s)', '  graceful-restart-time: 68m15s\n', { gracefulRestartTime: 4095 }],
    ['gtsm on', '  gtsm: on\n', { gtsm: true }],
  ];
  for (const [name, extra, want] of cases) {
    assert.ok(Object.keys(want).length > 0, name);
    test(name, () => {
      const p = ok(peer(extra)).peers[0];
      assert.ok(p);
      for (const [k, v] of Object.entries(want)) assert.deepEqual((p as unknown as Record<string, unknown>)[k], v, k);
    });
  }

  test('IPv6 peer, router ID and source address print in RFC 5952 form', () => {
    const c = ok(
      'peers:\n- my-asn: 4200000000\n  peer-asn: 4294967295\n  peer-address: "2001:DB8:0:0:0:0:0:1"\n  source-address: "::FFFF:10.0.0.2"\n',
    );
    assert.equal(c.peers[0]?.peerAddress, '2001:db8::1');
    assert.equal(c.peers[0]?.sourceAddress, '10.0.0.2');
    assert.equal(c.peers[0]?.myASN, 4200000000);
    assert.equal(c.peers[0]?.peerASN, 4294967295);
  });
});

describe('peer validation errors (first error wins, MetalLB texts)', () => {
  const cases: Array<[string, string, string]> = [
    ['missing my-asn', 'peers:\n- peer-asn: 1\n  peer-address: 1.2.3.4\n', 'parsing peer #1: missing local ASN'],
    ['my-asn 0', 'peers:\n- my-asn: 0\n  peer-asn: 1\n  peer-address: 1.2.3.4\n', 'parsing peer #1: missing local ASN'],
    ['missing peer-asn', 'peers:\n- my-asn: 1\n  peer-address: 1.2.3.4\n', 'parsing peer #1: missing peer ASN'],
    [
      'ebgp-multihop on an iBGP peer',
      'peers:\n- my-asn: 1\n  peer-asn: 1\n  peer-address: 1.2.3.4\n  ebgp-multihop: true\n',
      'parsing peer #1: invalid ebgp-multihop parameter set for an ibgp peer',
    ],
    ['missing peer address', 'peers:\n- my-asn: 1\n  peer-asn: 2\n', 'parsing peer #1: invalid peer IP ""'],
    ['bad peer address', peer('').replace('10.0.0.1', '1.2.3.400'), 'parsing peer #1: invalid peer IP "1.2.3.400"'],
    ['leading zero in IPv4', peer('').replace('10.0.0.1', '10.0.0.01'), 'parsing peer #1: invalid peer IP "10.0.0.01"'],
    ['IPv6 zone is not an IP', peer('').replace('10.0.0.1', '"fe80::1%eth0"'), 'parsing peer #1: invalid peer IP "fe80::1%eth0"'],
    ['hold time without unit', peer('  hold-time: 90\n'), 'parsing peer #1: invalid hold time "90": time: missing unit in duration "90"'],
    ['hold time garbage', peer('  hold-time: soon\n'), 'parsing peer #1: invalid hold time "soon": time: invalid duration "soon"'],
    ['hold time unknown unit', peer('  hold-time: 9d\n'), 'parsing peer #1: invalid hold time "9d": time: unknown unit "d" in duration "9d"'],
    ['hold time 1s', peer('  hold-time: 1s\n'), 'parsing peer #1: invalid hold time "1s": must be 0 or >=3s'],
    ['hold time 2.9s truncates to 2s', peer('  hold-time: 2.9s\n'), 'parsing peer #1: invalid hold time "2.9s": must be 0 or >=3s'],
    ['hold time beyond the 16-bit OPEN field (ingot)', peer('  hold-time: 18h12m16s\n'), 'parsing peer #1: invalid hold time "18h12m16s": must be at most 65535s'],
    ['negative hold time', peer('  hold-time: -5s\n'), 'parsing peer #1: invalid hold time "-5s": must be 0 or >=3s'],
    ['keepalive garbage', peer('  keepalive-time: x\n'), 'parsing peer #1: invalid keepalive time "x": time: invalid duration "x"'],
    ['keepalive above hold', peer('  hold-time: 30s\n  keepalive-time: 31s\n'), 'parsing peer #1: invalid keepaliveTime "31s"'],
    ['keepalive with hold 0', peer('  hold-time: 0s\n  keepalive-time: 1s\n'), 'parsing peer #1: invalid keepaliveTime "1s"'],
    ['negative keepalive (ingot)', peer('  keepalive-time: -1s\n'), 'parsing peer #1: invalid keepaliveTime "-1s"'],
    ['bad router id', peer('  router-id: 1.2.3\n'), 'parsing peer #1: invalid router ID "1.2.3"'],
    ['bad source address', peer('  source-address: host\n'), 'parsing peer #1: invalid source IP "host"'],
    [
      'graceful restart time 0s (ingot)',
      peer('  graceful-restart-time: 0s\n'),
      'parsing peer #1: invalid graceful restart time "0s": must be between 1s and 4095s',
    ],
    [
      'graceful restart time above the 12-bit field (ingot)',
      peer('  graceful-restart-time: 4096s\n'),
      'parsing peer #1: invalid graceful restart time "4096s": must be between 1s and 4095s',
    ],
    [
      'graceful restart time without unit (ingot)',
      peer('  graceful-restart-time: 120\n'),
      'parsing peer #1: invalid graceful restart time "120": time: missing unit in duration "120"',
    ],
    [
      'gtsm with ebgp-multihop (ingot)',
      peer('  gtsm: true\n  ebgp-multihop: true\n'),
      'parsing peer #1: invalid gtsm parameter: gtsm cannot be combined with ebgp-multihop',
    ],
    [
      'the error names the failing entry (#2)',
      `${peer('')}- my-asn: 64500\n  peer-asn: 64502\n  peer-address: 10.0.0.2\n  hold-time: 1s\n`,
      'parsing peer #2: invalid hold time "1s": must be 0 or >=3s',
    ],
    [
      'checks run in MetalLB order: ASN before address before hold time',
      'peers:\n- peer-asn: 1\n  peer-address: nope\n  hold-time: 1s\n',
      'parsing peer #1: missing local ASN',
    ],
    [
      'address before hold time',
      'peers:\n- my-asn: 2\n  peer-asn: 1\n  peer-address: nope\n  hold-time: 1s\n',
      'parsing peer #1: invalid peer IP "nope"',
    ],
    ['identical peers', `${peer('')}- my-asn: 64500\n  peer-asn: 64501\n  peer-address: 10.0.0.1\n`, 'peer #2 already exists'],
    [
      'identical after defaults (port 0 = 179, 90s = 1m30s)',
      `${peer('  peer-port: 179\n')}- my-asn: 64500\n  peer-asn: 64501\n  peer-address: 10.0.0.1\n  hold-time: 1m30s\n  peer-port: 0\n`,
      'peer #2 already exists',
    ],
    ['unknown BFD profile', peer('  bfd-profile: fast\n'), 'peer #1 referencing non existing bfd profile fast'],
    [
      'an 81-byte password is longer than a TCP-MD5 key may be (ingot)',
      peer(`  password: ${'k'.repeat(81)}\n`),
      'parsing peer #1: invalid password: 81 bytes, TCP-MD5 keys are at most 80 bytes (Linux TCP_MD5SIG_MAXKEYLEN)',
    ],
    [
      'password length counts UTF-8 bytes: 41 two-byte characters are 82 bytes (ingot)',
      `${peer('')}- my-asn: 64500\n  peer-asn: 64502\n  peer-address: 10.0.0.2\n  password: ${'é'.repeat(41)}\n`,
      'parsing peer #2: invalid password: 82 bytes, TCP-MD5 keys are at most 80 bytes (Linux TCP_MD5SIG_MAXKEYLEN)',
    ],
    ['out-of-range port fails decoding', peer('  peer-port: 65536\n'), 'could not parse config: line 5: cannot unmarshal !!int "65536" into uint16 (peer-port of peer #1)'],
    ['ASN beyond 32 bits fails decoding', peer('').replace('64500', '4294967296'), 'could not parse config: line 2: cannot unmarshal !!int "4294967296" into uint32 (my-asn of peer #1)'],
    ['quoted ASN fails decoding', peer('').replace('64500', '"64500"'), 'could not parse config: line 2: cannot unmarshal !!str "64500" into uint32 (my-asn of peer #1)'],
    ['float ASN (asdot) is rejected by ingot', peer('').replace('64500', '1.10'), 'could not parse config: line 2: cannot unmarshal !!float "1.10" into uint32 (my-asn of peer #1)'],
  ];
  for (const [name, text, want] of cases) {
    test(name, () => assert.equal(bad(text), want));
  }
});

describe('peer duplicates and BFD references', () => {
  test('same address with a different hold time is two peers (MetalLB behaviour)', () => {
    const c = ok(`${peer('')}- my-asn: 64500\n  peer-asn: 64501\n  peer-address: 10.0.0.1\n  hold-time: 60s\n`);
    assert.equal(c.peers.length, 2);
  });
  test('match-labels order does not make peers different', () => {
    const a = peer('  node-selectors:\n  - match-labels: {a: "1", b: "2"}\n');
    const b = '- my-asn: 64500\n  peer-asn: 64501\n  peer-address: 10.0.0.1\n  node-selectors:\n  - match-labels: {b: "2", a: "1"}\n';
    assert.equal(bad(a + b), 'peer #2 already exists');
  });
  test('a peer may reference a profile defined in the same config', () => {
    const c = ok(`bfd-profiles:\n- name: fast\n${peer('  bfd-profile: fast\n')}`);
    assert.equal(c.peers[0]?.bfdProfile, 'fast');
  });
});
