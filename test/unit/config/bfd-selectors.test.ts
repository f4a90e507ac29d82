// BFD profiles (spec §1.9: ranges, defaults, names) and node selectors (spec §1.4: validation and matching).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { selectorMatches } from '../../../src/config/index.js';
import type { NodeSelector } from '../../../src/config/index.js';
import { bad, ok, peer } from './helpers.js';

describe('bfd profiles', () => {
  test('unset fields take FRR defaults', () => {
    assert.deepEqual(ok('bfd-profiles:\n- name: default\n').bfdProfiles, [
      {
        name: 'default',
        receiveInterval: 300,
        transmitInterval: 300,
        detectMultiplier: 3,
        echoInterval: 50,
        echoMode: false,
        passiveMode: false,
        minimumTtl: 254,
      },
    ]);
  });
  test('every field set, at the range edges', () => {
    const text =
      'bfd-profiles:\n- name: full\n  receive-interval: 10\n  transmit-interval: 60000\n  detect-multiplier: 255\n' +
      '  echo-interval: 10\n  echo-mode: yes\n  passive-mode: on\n  minimum-ttl: 1\n- name: other\n  detect-multiplier: 2\n  minimum-ttl: 254\n';
    const [a, b] = ok(text).bfdProfiles;
    assert.deepEqual(a, {
      name: 'full',
      receiveInterval: 10,
      transmitInterval: 60000,
      detectMultiplier: 255,
      echoInterval: 10,
      echoMode: true,
      passiveMode: true,
      minimumTtl: 1,
    });
    assert.equal(b?.detectMultiplier, 2);
  });
  const errors: Array<[string, string, string]> = [
    ['missing name', 'bfd-profiles:\n- receive-interval: 100\n', 'parsing bfd profile #1: missing bfd profile name'],
    ['duplicate name', 'bfd-profiles:\n- name: a\n- name: a\n', 'found duplicate bfd profile name a'],
    ['receive interval too low', 'bfd-profiles:\n- name: a\n  receive-interval: 2\n', 'parsing bfd profile #1: invalid receive interval value: invalid value 2, must be in 10-60000 range'],
    ['receive interval too high', 'bfd-profiles:\n- name: a\n  receive-interval: 60001\n', 'parsing bfd profile #1: invalid receive interval value: invalid value 60001, must be in 10-60000 range'],
    ['transmit interval too low', 'bfd-profiles:\n- name: a\n  transmit-interval: 9\n', 'parsing bfd profile #1: invalid transmit interval value: invalid value 9, must be in 10-60000 range'],
    ['detect multiplier too low', 'bfd-profiles:\n- name: a\n  detect-multiplier: 1\n', 'parsing bfd profile #1: invalid detect multiplier value: invalid value 1, must be in 2-255 range'],
    ['minimum ttl zero', 'bfd-profiles:\n- name: a\n  minimum-ttl: 0\n', 'parsing bfd profile #1: invalid minimum ttl value: invalid value 0, must be in 1-254 range'],
    ['echo interval (ingot names the right field)', 'bfd-profiles:\n- name: a\n  echo-interval: 5\n', 'parsing bfd profile #1: invalid echo interval value: invalid value 5, must be in 10-60000 range'],
    ['MetalLB order: detect multiplier before receive interval', 'bfd-profiles:\n- name: a\n  receive-interval: 1\n  detect-multiplier: 1\n', 'parsing bfd profile #1: invalid detect multiplier value: invalid value 1, must be in 2-255 range'],
    ['profiles are parsed before peers', `${peer('  hold-time: 1s\n')}bfd-profiles:\n- name: a\n  minimum-ttl: 255\n`, 'parsing bfd profile #1: invalid minimum ttl value: invalid value 255, must be in 1-254 range'],
    ['second profile named in the error', 'bfd-profiles:\n- name: a\n- name: b\n  echo-interval: 70000\n', 'parsing bfd profile #2: invalid echo interval value: invalid value 70000, must be in 10-60000 range'],
  ];
  for (const [name, text, want] of errors) test(name, () => assert.equal(bad(text), want));
});

describe('node selectors: parsing', () => {
  const sel = (lines: string): string => peer(`  node-selectors:\n${lines}`);
  test('labels and expressions of every operator', () => {
    const p = ok(
      sel(
        '  - match-labels:\n      kubernetes.io/hostname: node-1\n      rack: ""\n    match-expressions:\n' +
          '    - {key: zone, operator: In, values: [a, b]}\n    - {key: tier, operator: NotIn, values: [db]}\n' +
          '    - {key: gpu, operator: Exists}\n    - {key: spot, operator: DoesNotExist, values: []}\n' +
          '  - match-labels: {role: edge}\n',
      ),
    ).peers[0];
    assert.deepEqual(p?.nodeSelectors, [
      {
        matchLabels: { 'kubernetes.io/hostname': 'node-1', rack: '' },
        matchExpressions: [
          { key: 'zone', operator: 'In', values: ['a', 'b'] },
          { key: 'tier', operator: 'NotIn', values: ['db'] },
          { key: 'gpu', operator: 'Exists', values: [] },
          { key: 'spot', operator: 'DoesNotExist', values: [] },
        ],
      },
      { matchLabels: { role: 'edge' }, matchExpressions: [] },
    ]);
  });
  test('an empty entry selects everything, so the list normalizes to []', () => {
    assert.deepEqual(ok(sel('  - {}\n')).peers[0]?.nodeSelectors, []);
    assert.deepEqual(ok(sel('  - match-labels: {}\n  - match-labels: {a: b}\n')).peers[0]?.nodeSelectors, []);
    assert.deepEqual(ok(peer('  node-selectors: []\n')).peers[0]?.nodeSelectors, []);
  });
  const errors: Array<[string, string, string]> = [
    ['missing key', '  - match-expressions:\n    - {operator: Exists}\n', 'parsing peer #1: parsing node selector: invalid label key "": name part must be non-empty'],
    ['missing operator', '  - match-expressions:\n    - {key: a}\n', 'parsing peer #1: parsing node selector: "" is not a valid pod selector operator'],
    ['unknown operator', '  - match-expressions:\n    - {key: a, operator: Surrounds, values: [b]}\n', 'parsing peer #1: parsing node selector: "Surrounds" is not a valid pod selector operator'],
    ['operators are case-sensitive', '  - match-expressions:\n    - {key: a, operator: in, values: [b]}\n', 'parsing peer #1: parsing node selector: "in" is not a valid pod selector operator'],
    ['In without values', '  - match-expressions:\n    - {key: a, operator: In}\n', "parsing peer #1: parsing node selector: for 'in', 'notin' operators, values set can't be empty"],
    ['Exists with values', '  - match-expressions:\n    - {key: a, operator: Exists, values: [b]}\n', 'parsing peer #1: parsing node selector: values set must be empty for exists and does not exist'],
    ['bad label key', '  - match-labels: {"bad key": x}\n', "parsing peer #1: parsing node selector: invalid label key \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"],
    ['bad key prefix', '  - match-labels: {"Example.com/a": x}\n', 'parsing peer #1: parsing node selector: invalid label key "Example.com/a": prefix part must be a lowercase RFC 1123 subdomain of at most 253 characters'],
    ['two slashes', '  - match-labels: {"a/b/c": x}\n', 'parsing peer #1: parsing node selector: invalid label key "a/b/c": a qualified name must have at most one "/"'],
    ['long name', `  - match-labels: {${'a'.repeat(64)}: x}\n`, `parsing peer #1: parsing node selector: invalid label key "${'a'.repeat(64)}": name part must be no more than 63 characters`],
    ['bad label value', '  - match-labels: {a: "-x"}\n', "parsing peer #1: parsing node selector: invalid label value \"-x\": must be no more than 63 characters, consist of alphanumeric characters, '-', '_' or '.', and start and end with an alphanumeric character"],
    ['bad expression value', '  - match-expressions:\n    - {key: a, operator: In, values: ["x y"]}\n', "parsing peer #1: parsing node selector: invalid label value \"x y\": must be no more than 63 characters, consist of alphanumeric characters, '-', '_' or '.', and start and end with an alphanumeric character"],
  ];
  for (const [name, lines, want] of errors) test(name, () => assert.equal(bad(sel(lines)), want));
});

describe('node selectors: matching', () => {
  const s = (matchLabels: Record<string, string>, matchExpressions: NodeSelector['matchExpressions'] = []): NodeSelector => ({
    matchLabels,
    matchExpressions,
  });
  const node = { 'kubernetes.io/hostname': 'n1', zone: 'a', gpu: 'true' };
  const cases: Array<[string, NodeSelector | NodeSelector[], boolean]> = [
    ['empty selector matches', s({}), true],
    ['empty list matches', [], true],
    ['matching label', s({ zone: 'a' }), true],
    ['wrong label value', s({ zone: 'b' }), false],
    ['missing label', s({ rack: 'r1' }), false],
    ['labels are ANDed', s({ zone: 'a', 'kubernetes.io/hostname': 'n2' }), false],
    ['In hit', s({}, [{ key: 'zone', operator: 'In', values: ['b', 'a'] }]), true],
    ['In miss', s({}, [{ key: 'zone', operator: 'In', values: ['b'] }]), false],
    ['In on a missing key', s({}, [{ key: 'rack', operator: 'In', values: ['a'] }]), false],
    ['NotIn hit', s({}, [{ key: 'zone', operator: 'NotIn', values: ['b'] }]), true],
    ['NotIn miss', s({}, [{ key: 'zone', operator: 'NotIn', values: ['a'] }]), false],
    ['NotIn matches a missing key', s({}, [{ key: 'rack', operator: 'NotIn', values: ['a'] }]), true],
    ['Exists', s({}, [{ key: 'gpu', operator: 'Exists', values: [] }]), true],
    ['Exists on a missing key', s({}, [{ key: 'rack', operator: 'Exists', values: [] }]), false],
    ['DoesNotExist', s({}, [{ key: 'rack', operator: 'DoesNotExist', values: [] }]), true],
    ['DoesNotExist on a present key', s({}, [{ key: 'gpu', operator: 'DoesNotExist', values: [] }]), false],
    ['labels AND expressions', s({ zone: 'a' }, [{ key: 'gpu', operator: 'DoesNotExist', values: [] }]), false],
    ['list entries are ORed (second matches)', [s({ zone: 'b' }), s({ gpu: 'true' })], true],
    ['list entries are ORed (none matches)', [s({ zone: 'b' }), s({ gpu: 'false' })], false],
  ];
  for (const [name, selector, want] of cases) {
    test(name, () => {
      assert.equal(selectorMatches(selector, node), want);
      assert.equal(selectorMatches(selector, new Map(Object.entries(node))), want, 'Map labels');
    });
  }
  test('inherited object keys are not labels', () => {
    assert.equal(selectorMatches(s({}, [{ key: 'constructor', operator: 'Exists', values: [] }]), {}), false);
  });
  test('a parsed config selector matches end to end', () => {
    const p = ok(peer('  node-selectors:\n  - match-labels: {zone: a}\n  - match-expressions: [{key: gpu, operator: Exists}]\n')).peers[0];
    assert.ok(p);
    assert.equal(selectorMatches(p.nodeSelectors, { zone: 'b', gpu: '' }), true);
    assert.equal(selectorMatches(p.nodeSelectors, { zone: 'b' }), false);
  });
});
