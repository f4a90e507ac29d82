// `ingot config validate FILE [-o json]` through the real bin/ingot (contract: ../shared/spec/cli.md).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runIngot, REPO_ROOT } from '../../helpers/cli.js';

describe('ingot config validate', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-config-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  test('a valid ConfigMap exits 0 and prints nothing without -o', () => {
    const r = runIngot(['config', 'validate', 'examples/config.yaml']);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.equal(r.stdout, '');
  });

  test('-o json prints the normalized config (golden; --show-secrets, else passwords are "<redacted>")', () => {
    const golden = readFileSync(join(REPO_ROOT, 'test/fixtures/config/metallb-docs-full.golden.json'), 'utf8');
    const r = runIngot(['config', 'validate', 'test/fixtures/config/metallb-docs-full.yaml', '-o', 'json', '--show-secrets']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, golden);
    const redacted = runIngot(['config', 'validate', 'test/fixtures/config/metallb-docs-full.yaml', '-o', 'json']);
    assert.equal(redacted.stdout, golden.replace('"password": "s3cret"', '"password": "<redacted>"'));
  });

  test('--output json on a ConfigMap manifest', () => {
    const r = runIngot(['config', 'validate', '--output', 'json', 'test/fixtures/config/configmap.yaml']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { pools: Array<{ name: string; cidrs: string[] }> };
    assert.equal(j.pools[0]?.name, 'default');
    assert.equal(j.pools[0]?.cidrs[0], '172.18.255.200/29');
  });

  test('an invalid config exits 1 with exactly one "error:" line naming entry and value', () => {
    const p = file('bad.yaml', 'address-pools:\n- name: ok\n  protocol: layer2\n  addresses: [10.9.0.0/24]\n- name: prod\n  protocol: bgp\n  addresses: [10.0.0.1]\n');
    const r = runIngot(['config', 'validate', p, '-o', 'json']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'error: parsing address pool #2: invalid CIDR "10.0.0.1" in pool "prod": invalid CIDR "10.0.0.1"\n');
  });

  test('a YAML syntax error is still a single line, exit 1', () => {
    const r = runIngot(['config', 'validate', file('syntax.yaml', 'peers: [\n  - a\n')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: could not parse config: [^\n]*\n$/);
  });

  test('an 81-byte TCP-MD5 password fails validation, naming the peer and the field, without printing it (issue 8)', () => {
    const secret = 's'.repeat(81);
    const p = file('md5.yaml', `peers:\n- {my-asn: 1, peer-asn: 2, peer-address: 10.0.0.1}\n- {my-asn: 1, peer-asn: 2, peer-address: 10.0.0.2, password: ${secret}}\n`);
    const r = runIngot(['config', 'validate', p]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'error: parsing peer #2: invalid password: 81 bytes, TCP-MD5 keys are at most 80 bytes (Linux TCP_MD5SIG_MAXKEYLEN)\n');
    assert.ok(!r.stderr.includes(secret));
  });

  test('peer error text from the issue', () => {
    const p = file('peer.yaml', 'peers:\n- {my-asn: 1, peer-asn: 2, peer-address: 10.0.0.1}\n- {my-asn: 1, peer-asn: 2, peer-address: 10.0.0.2, hold-time: 1s}\n');
    const r = runIngot(['config', 'validate', p]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'error: parsing peer #2: invalid hold time "1s": must be 0 or >=3s\n');
  });

  test('- reads standard input (kubectl get configmap -o yaml | ingot config validate -)', () => {
    const manifest = readFileSync(join(REPO_ROOT, 'test/fixtures/config/configmap.yaml'), 'utf8');
    const list = `apiVersion: v1\nkind: List\nitems:\n${manifest.replace(/^/gm, '  ').replace(/^  /, '- ')}`;
    const r = runIngot(['config', 'validate', '-', '-o', 'json'], { input: list });
    assert.equal(r.status, 0, r.stderr);
    const viaFile = runIngot(['config', 'validate', 'test/fixtures/config/configmap.yaml', '-o', 'json']);
    assert.equal(r.stdout, viaFile.stdout, 'the List from stdin normalizes like the ConfigMap file');
    const bad = runIngot(['config', 'validate', '-'], { input: 'peers: [\n' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^error: could not parse config: line 2: /);
  });

  test('an unreadable file exits 2', () => {
    const r = runIngot(['config', 'validate', join(dir, 'missing.yaml')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^error: cannot read .*missing\.yaml: ENOENT\n$/);
    assert.equal(runIngot(['config', 'validate', dir]).status, 2, 'a directory is unreadable as a file');
  });

  test('usage errors exit 2', () => {
    assert.equal(runIngot(['config', 'validate']).status, 2);
    assert.equal(runIngot(['config', 'validate', 'examples/config.yaml', '-o', 'yaml']).status, 2);
    assert.equal(runIngot(['config', 'validate', 'examples/config.yaml', '--bogus']).status, 2);
  });
});
