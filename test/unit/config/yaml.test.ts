// YAML decoding with yaml.v2 UnmarshalStrict semantics (spec §1.1, §1.12): strictness, YAML 1.1 scalars,
// scalars into string fields, nulls, anchors and merge keys, manifests and syntax errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bad, ok, peer, pool } from './helpers.js';

describe('YAML 1.1 booleans', () => {
  const truthy = ['true', 'True', 'TRUE', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'y', 'Y'];
  const falsy = ['false', 'False', 'FALSE', 'no', 'No', 'NO', 'off', 'Off', 'OFF', 'n', 'N'];
  for (const [words, want] of [[truthy, true], [falsy, false]] as const) {
    for (const w of words) {
      test(`auto-assign: ${w} is ${want}`, () => {
        assert.equal(ok(pool('layer2', ['10.0.0.0/24'], `  auto-assign: ${w}\n`)).pools[0]?.autoAssign, want);
      });
    }
  }
  test('a null bool keeps the default', () => {
    assert.equal(ok(pool('layer2', ['10.0.0.0/24'], '  auto-assign:\n')).pools[0]?.autoAssign, true);
    assert.equal(ok(pool('layer2', ['10.0.0.0/24'], '  auto-assign: ~\n')).pools[0]?.autoAssign, true);
  });
  const errors: Array<[string, string]> = [
    ['"false"', 'could not parse config: line 6: cannot unmarshal !!str "false" into bool (auto-assign of address pool #1)'],
    ["'yes'", 'could not parse config: line 6: cannot unmarshal !!str "yes" into bool (auto-assign of address pool #1)'],
    ['1', 'could not parse config: line 6: cannot unmarshal !!int "1" into bool (auto-assign of address pool #1)'],
    ['enabled', 'could not parse config: line 6: cannot unmarshal !!str "enabled" into bool (auto-assign of address pool #1)'],
    ['[true]', 'could not parse config: line 6: cannot unmarshal !!seq sequence into bool (auto-assign of address pool #1)'],
  ];
  for (const [v, want] of errors) {
    test(`auto-assign: ${v} is an error`, () => assert.equal(bad(pool('layer2', ['10.0.0.0/24'], `  auto-assign: ${v}\n`)), want));
  }
});

describe('scalars into string and integer fields', () => {
  test('a bool-looking or numeric scalar in a string field is its source text', () => {
    assert.equal(ok(peer('  password: yes\n')).peers[0]?.password, 'yes');
    assert.equal(ok(peer('  password: 0x10\n')).peers[0]?.password, '0x10');
    assert.equal(ok(peer('  password: |\n    multi\n')).peers[0]?.password, 'multi\n');
  });
  test('a colon-separated community is not a YAML 1.1 sexagesimal number', () => {
    const c = ok(`bgp-communities:\n  a: 64512:10\n${pool('bgp', ['10.0.0.0/24'], '  bgp-advertisements:\n  - communities: [a, 1:20]\n')}`);
    assert.deepEqual(c.pools[0]?.bgpAdvertisements[0]?.communities, [65556, 64512 * 65536 + 10]);
  });
  test('YAML 1.1 integer forms decode into integer fields', () => {
    assert.equal(ok(peer('').replace('64500', '0xFBF4')).peers[0]?.myASN, 64500);
    assert.equal(ok(peer('').replace('64500', '64_500')).peers[0]?.myASN, 64500);
  });
  test('a negative number into an unsigned field fails', () => {
    assert.equal(bad(peer('  peer-port: -1\n')), 'could not parse config: line 5: cannot unmarshal !!int "-1" into uint16 (peer-port of peer #1)');
  });
  test('a mapping into a string field fails', () => {
    assert.equal(bad(peer('  password: {a: b}\n')), 'could not parse config: line 5: cannot unmarshal !!map mapping into string (password of peer #1)');
  });
  test('a scalar where a list is expected fails', () => {
    assert.equal(bad('address-pools:\n- name: p\n  protocol: bgp\n  addresses: 10.0.0.0/24\n'), 'could not parse config: line 4: cannot unmarshal !!str "10.0.0.0/24" into []string (addresses of address pool #1)');
    assert.equal(bad('peers: 5\n'), 'could not parse config: line 1: cannot unmarshal !!int "5" into list (peers of config)');
  });
  test('a top-level list is not a config', () => {
    assert.equal(bad('- a\n- b\n'), 'could not parse config: line 1: cannot unmarshal !!seq into config');
  });
});

describe('strictness', () => {
  const cases: Array<[string, string, string]> = [
    ['unknown top-level key', 'peer:\n- my-asn: 1\n', 'could not parse config: line 1: field peer not found in config'],
    ['misspelt pool key', 'address-pools:\n- name: p\n  adresses: [10.0.0.0/24]\n', 'could not parse config: line 3: field adresses not found in address pool #1'],
    ['unknown peer key', peer('  hold_time: 90s\n'), 'could not parse config: line 5: field hold_time not found in peer #1'],
    ['unknown selector key', peer('  node-selectors:\n  - matchLabels: {a: b}\n'), 'could not parse config: line 6: field matchLabels not found in node selector #1 of peer #1'],
    ['unknown BFD key', 'bfd-profiles:\n- name: a\n  interval: 5\n', 'could not parse config: line 3: field interval not found in bfd profile #1'],
    ['duplicate key in a pool', 'address-pools:\n- name: p\n  name: q\n', 'could not parse config: line 3: field name already set in address pool #1'],
    ['duplicate top-level key', 'peers: []\npeers: []\n', 'could not parse config: line 2: field peers already set in config'],
    ['duplicate key in a string map', 'bgp-communities:\n  a: 1:1\n  a: 1:2\n', 'could not parse config: line 3: key "a" already set in bgp-communities'],
    ['duplicate match-labels key', peer('  node-selectors:\n  - match-labels:\n      a: b\n      a: c\n'), 'could not parse config: line 8: key "a" already set in match-labels of node selector #1 of peer #1'],
    ['invalid label selector shape (map value)', peer('  node-selectors:\n  - match-labels:\n      foo:\n        bar: baz\n'), 'could not parse config: line 8: cannot unmarshal !!map mapping into string (foo in match-labels of node selector #1 of peer #1)'],
  ];
  for (const [name, text, want] of cases) test(name, () => assert.equal(bad(text), want));

  test('decoding errors win over semantic errors anywhere (strict decode runs first)', () => {
    const text = `${peer('  hold-time: 1s\n')}address-pools:\n- name: p\n  protocol: bgp\n  addresses: [10.0.0.0/24]\n  auto-assign: "no"\n`;
    assert.match(bad(text), /^could not parse config: line 10: cannot unmarshal !!str "no" into bool/);
  });
});

describe('anchors, aliases and merge keys', () => {
  test('an alias reuses an anchored mapping, and << merges with local keys winning', () => {
    const text = `peers:
- &base
  my-asn: 64500
  peer-asn: 64501
  peer-address: 10.0.0.1
- <<: *base
  peer-address: 10.0.0.2
`;
    const c = ok(text);
    assert.deepEqual(
      c.peers.map((p) => [p.myASN, p.peerAddress]),
      [
        [64500, '10.0.0.1'],
        [64500, '10.0.0.2'],
      ],
    );
  });
  test('an unknown key arriving through a merge is still an error', () => {
    assert.equal(bad('peers:\n- <<: {bogus: 1}\n'), 'could not parse config: line 2: field bogus not found in peer #1');
  });
});

describe('documents and manifests', () => {
  test('syntax errors are reported with a line', () => {
    assert.match(bad('peers: [\n'), /^could not parse config: .*line 2/);
    assert.match(bad('a: b\n  c: d\n'), /^could not parse config: /);
  });
  test('a ConfigMap manifest is detected and its data.config parsed', () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\ndata:\n  config: |\n${pool('layer2', ['10.0.0.0/24']).replace(/^/gm, '    ')}`;
    assert.deepEqual(ok(text).pools[0]?.cidrs, ['10.0.0.0/24']);
  });
  test('errors inside a manifest are reported like raw-config errors', () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\ndata:\n  config: |\n    address-pools:\n    - name: p\n      protocol: bgp\n      addresses: [10.0.0.1]\n`;
    assert.equal(bad(text), 'parsing address pool #1: invalid CIDR "10.0.0.1" in pool "p": invalid CIDR "10.0.0.1"');
  });
  test('line numbers inside data.config count lines of the manifest file', () => {
    const head = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\ndata:\n  config: |\n';
    assert.equal(bad(`${head}    peers:\n    - my-asn: "1"\n`), 'could not parse config: line 8: cannot unmarshal !!str "1" into uint32 (my-asn of peer #1)');
    assert.equal(bad(`${head}    peers:\n    - bogus: 1\n`), 'could not parse config: line 8: field bogus not found in peer #1');
    assert.match(bad(`${head}    peers: [\n`), /^could not parse config: line 8: Flow sequence/);
  });
  test('a ConfigMap with an empty config string is an empty config', () => {
    assert.deepEqual(ok('apiVersion: v1\nkind: ConfigMap\ndata:\n  config: ""\n'), { peers: [], pools: [], bfdProfiles: [] });
  });
  test('a multi-document manifest file uses its one ConfigMap', () => {
    const text = `apiVersion: v1\nkind: Namespace\nmetadata: {name: metallb-system}\n---\napiVersion: v1\nkind: ConfigMap\ndata:\n  config: |\n    peers: []\n`;
    assert.deepEqual(ok(text).peers, []);
  });
  // What `kubectl get configmap -n metallb-system -o yaml` prints: a List, here with kube-root-ca.crt beside it.
  const listOf = (...items: string[]): string => `apiVersion: v1\nkind: List\nmetadata: {resourceVersion: ""}\nitems:\n${items.join('')}`;
  const cmItem = (name: string, config: string): string =>
    `- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: ${name}\n  data:\n    config: |\n${config.replace(/^(?=.)/gm, '      ')}`;
  const caItem = '- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: kube-root-ca.crt}\n  data: {ca.crt: x}\n';
  test('a kind: List uses its one ConfigMap with a data.config', () => {
    assert.deepEqual(ok(listOf(caItem, cmItem('metallb', pool('layer2', ['10.0.0.0/24'])))).pools[0]?.cidrs, ['10.0.0.0/24']);
  });
  test('a kind: List with several such ConfigMaps uses the one named "config" (MetalLB\'s name)', () => {
    const text = listOf(cmItem('old', pool('layer2', ['10.9.0.0/24'])), cmItem('config', pool('layer2', ['10.0.0.0/24'])));
    assert.deepEqual(ok(text).pools[0]?.cidrs, ['10.0.0.0/24']);
  });
  test('errors inside a List item count lines of the whole file', () => {
    // Line 12 of the file is the item's `- my-asn: "1"` (lines: apiVersion, kind, metadata, items, - apiVersion,
    // kind, metadata, name, data, config, peers, - my-asn).
    const text = listOf(cmItem('config', 'peers:\n- my-asn: "1"\n'));
    assert.equal(bad(text), 'could not parse config: line 12: cannot unmarshal !!str "1" into uint32 (my-asn of peer #1)');
  });
  const errors: Array<[string, string, string]> = [
    ['a List without a MetalLB ConfigMap', listOf(caItem), 'could not parse config: the List of 1 items has no ConfigMap with a data.config'],
    [
      'a List with two MetalLB-looking ConfigMaps, none named config',
      listOf(cmItem('a', 'peers: []\n'), cmItem('b', 'peers: []\n')),
      'could not parse config: the List has 2 ConfigMaps with a data.config ("a", "b") and none, or several, named "config"',
    ],
    ['a List without items', 'apiVersion: v1\nkind: List\n', 'could not parse config: the List has no items'],
    ['a manifest of another kind', 'apiVersion: v1\nkind: Secret\ndata: {}\n', 'could not parse config: manifest of kind "Secret" is not a ConfigMap'],
    ['a ConfigMap without data.config', 'apiVersion: v1\nkind: ConfigMap\ndata:\n  other: x\n', 'could not parse config: the ConfigMap has no data.config string (MetalLB reads its config from that key)'],
    ['two raw documents', 'peers: []\n---\npeers: []\n', 'could not parse config: expected one YAML document, found several'],
    ['two ConfigMaps', 'kind: ConfigMap\ndata: {config: ""}\n---\nkind: ConfigMap\ndata: {config: ""}\n', 'could not parse config: expected exactly one ConfigMap among 2 YAML documents, found 2'],
  ];
  for (const [name, text, want] of errors) test(name, () => assert.equal(bad(text), want));
});
