// The normalized JSON of `ingot config validate -o json`: exact shape and key order of the CLI contract,
// whole seconds, aliases resolved and communities sorted by value; golden files for the fixtures.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, toNormalized, toNormalizedJSON } from '../../../src/config/index.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { ok } from './helpers.js';

const FIXTURES = join(REPO_ROOT, 'test/fixtures/config');

describe('normalized JSON', () => {
  test('contract shape for a small config, key order included', () => {
    const c = ok(`peers:
- my-asn: 64512
  peer-asn: 64500
  peer-address: 10.0.0.1
  hold-time: 1m30s
bgp-communities:
  low: 64512:100
  high: 65535:65281
address-pools:
- name: prod
  protocol: bgp
  addresses: [10.1.0.0/24, 10.2.0.0 - 10.2.0.2]
  bgp-advertisements:
  - communities: [high, low, 1:1]
`);
    const expected =
      '{"peers":[{"myASN":64512,"peerASN":64500,"peerAddress":"10.0.0.1","peerPort":179,"holdTime":90,"keepaliveTime":30,' +
      '"routerID":null,"sourceAddress":null,"ebgpMultihop":false,"password":null,"bfdProfile":null,"nodeSelectors":[],' +
      '"gracefulRestart":false,"gracefulRestartTime":120,"gtsm":false}],' +
      '"pools":[{"name":"prod","protocol":"bgp","cidrs":["10.1.0.0/24","10.2.0.0/31","10.2.0.2/32"],"autoAssign":true,' +
      '"avoidBuggyIPs":false,"bgpAdvertisements":[{"aggregationLength":32,"aggregationLengthV6":128,"localPref":0,' +
      '"communities":["1:1","64512:100","65535:65281"],"largeCommunities":[]}]}],"bfdProfiles":[]}';
    assert.equal(JSON.stringify(toNormalized(c)), expected);
    assert.equal(toNormalizedJSON(c), `${JSON.stringify(JSON.parse(expected), null, 2)}\n`);
  });

  test('ingot extensions appear with their values', () => {
    const n = toNormalized(ok(readFileSync(join(FIXTURES, 'ingot-extensions.yaml'), 'utf8'))) as {
      peers: Array<Record<string, unknown>>;
      pools: Array<{ bgpAdvertisements: Array<Record<string, unknown>>; cidrs: string[] }>;
    };
    assert.equal(n.peers[0]?.peerAddress, '2001:db8::1');
    assert.equal(n.peers[0]?.keepaliveTime, 20);
    assert.equal(n.peers[0]?.gracefulRestart, true);
    assert.equal(n.peers[0]?.gracefulRestartTime, 300);
    assert.equal(n.peers[0]?.gtsm, true);
    assert.deepEqual(n.pools[0]?.cidrs, ['2001:db8:1::/64', '10.96.0.0/28']);
    assert.deepEqual(n.pools[0]?.bgpAdvertisements[0]?.communities, ['1:1', '65535:666']);
    assert.deepEqual(n.pools[0]?.bgpAdvertisements[0]?.largeCommunities, ['64500:0:1', '64500:1:100']);
  });

  const goldens = readdirSync(FIXTURES).filter((f) => f.endsWith('.golden.json'));
  test('there are golden fixtures', () => assert.ok(goldens.length >= 2));
  for (const golden of goldens) {
    test(`golden: ${golden}`, () => {
      const r = parseConfig(readFileSync(join(FIXTURES, golden.replace('.golden.json', '.yaml')), 'utf8'));
      assert.ok(r.ok, r.ok ? '' : r.error);
      assert.equal(toNormalizedJSON(r.config), readFileSync(join(FIXTURES, golden), 'utf8'));
    });
  }

  test('a ConfigMap and its raw data.config normalize identically', () => {
    const manifest = readFileSync(join(REPO_ROOT, 'examples/config.yaml'), 'utf8');
    const raw = manifest.split('config: |\n')[1]?.replace(/^ {4}/gm, '') ?? '';
    assert.ok(raw.includes('address-pools'));
    const a = parseConfig(manifest);
    const b = parseConfig(raw);
    assert.ok(a.ok && b.ok);
    assert.equal(toNormalizedJSON(a.config), toNormalizedJSON(b.config));
    assert.equal(a.config.peers.length, 2);
    assert.deepEqual(a.config.pools.map((p) => p.protocol), ['bgp', 'layer2']);
  });
});
