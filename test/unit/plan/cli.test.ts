// `ingot plan` as a user runs it: exit codes, stdout and stderr per ../shared/spec/cli.md.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runIngot } from '../../helpers/cli.js';

describe('ingot plan', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-plan-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  test('the README example prints a table and exits 0', () => {
    const r = runIngot(['plan', '--config', 'examples/config.yaml', '--cluster', 'examples/cluster.yaml']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^SERVICE\s+TYPE\s+IPS\s+POOL\s+ANNOUNCE\s+ERROR$/);
    assert.ok(lines.some((l) => /^lab\/portal\s+LoadBalancer\s+198\.51\.100\.241,2001:db8:100::\s+lab\s/.test(l)), r.stdout);
    assert.equal(lines.length, 8);
  });

  test('-o json follows the contract, with --node accepted', () => {
    const r = runIngot(['plan', '--config', 'examples/config.yaml', '--cluster', 'examples/cluster.yaml', '--node', 'node-a', '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { services: Record<string, { ips: string[]; pool: string | null; error: string | null; announce: unknown }> };
    assert.deepEqual(out.services['infra/dns-udp'], {
      type: 'LoadBalancer',
      ips: ['198.51.100.240'],
      pool: 'lab',
      error: null,
      // node-c owns it (elected among every node); node-a does not.
      announce: { protocol: 'layer2', nodes: [], reason: 'notOwner' },
    });
    // --node narrows the announce column to that node: Local policy, endpoint on node-b only.
    assert.deepEqual(out.services['shop/checkout']?.announce, { protocol: 'bgp', nodes: [], reason: 'noLocalEndpoints' });
    assert.deepEqual(out.services['shop/checkout']?.ips, ['203.0.113.5']);
    assert.equal(Object.keys(out.services).length, 7);
  });

  test('allocation errors still exit 0; they are in the plan', () => {
    const cl = file('err.yaml', 'kind: Service\nmetadata: {name: s, annotations: {metallb.universe.tf/address-pool: nope}}\nspec: {type: LoadBalancer}\n');
    const r = runIngot(['plan', '--config', 'test/fixtures/cluster/config.yaml', '--cluster', cl, '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { services: Record<string, { error: string }> }).services['default/s']?.error, 'unknown pool "nope"');
  });

  test('an invalid config exits 1 with the same error line as config validate', () => {
    const bad = file('bad.yaml', 'address-pools:\n- name: p\n  protocol: bgp\n  addresses: [10.0.0.1]\n');
    const r = runIngot(['plan', '--config', bad, '--cluster', 'examples/cluster.yaml']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    const v = runIngot(['config', 'validate', bad]);
    assert.equal(v.status, 1);
    assert.equal(r.stderr, v.stderr);
    assert.match(r.stderr, /^error: .*10\.0\.0\.1.*\n$/);
  });

  test('usage errors, unreadable and malformed files exit 2', () => {
    const missing = join(dir, 'missing.yaml');
    const cases: [string[], RegExp][] = [
      [['plan', '--config', missing, '--cluster', 'examples/cluster.yaml'], /^error: cannot read .*missing\.yaml: ENOENT\n$/],
      [['plan', '--config', 'examples/config.yaml', '--cluster', missing], /^error: cannot read .*missing\.yaml: ENOENT\n$/],
      [['plan', '--config', 'examples/config.yaml', '--cluster', file('m.yaml', 'kind: Service\nmetadata: {}\n')], /^error: cluster file .*m\.yaml: document #1 \(Service \?\): metadata\.name: want a non-empty string, got nothing\n$/],
      [['plan', '--config', 'examples/config.yaml', '--cluster', 'examples/cluster.yaml', '-o', 'yaml'], /unknown output format "yaml"/],
      [['plan', '--config', 'examples/config.yaml'], /--cluster/],
    ];
    for (const [args, want] of cases) {
      const r = runIngot(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, want);
    }
  });
});
