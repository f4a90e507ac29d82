// Issue 8 items 2 and 11: a hostile or broken cluster file is an error value, never an exception (undefined
// alias, too many aliases, deep nesting, alias bombs), and `kubectl get -o json` output is read by JSON.parse.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCluster } from '../../../src/plan/cluster.js';
import { clusterJson, clusterYaml } from '../../../bench/cluster-file.js';

function bad(text: string, re: RegExp, ms = 1000): void {
  const t0 = performance.now();
  let r;
  assert.doesNotThrow(() => (r = parseCluster(text)));
  const took = performance.now() - t0;
  assert.ok(r !== undefined && !(r as { ok: boolean }).ok, 'an error value');
  assert.match((r as unknown as { error: string }).error, re);
  assert.ok(took < ms, `took ${took.toFixed(0)} ms`);
}

describe('cluster file: hostile input is an error value', () => {
  it('an undefined alias', () => bad('x: *nope\n', /^document #1: invalid YAML: line 1, column \d+: unidentified alias "nope"/));
  it('more than 100 aliases', () => bad(`a: &a [1]\nb: [${Array(200).fill('*a').join(',')}]\n`, /too many YAML aliases/));
  it('an alias bomb (each level ten aliases of the one before)', () => {
    let t = 'l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++) t += `l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]\n`;
    bad(`${t}kind: List\nitems: [*l8]\n`, /too many YAML aliases/);
  });
  it('`[` nested 20,000 deep, twice in one process (the second used to abort Node)', () => {
    bad('['.repeat(20_000), /nested more than 256 levels deep/);
    bad('['.repeat(20_000), /nested more than 256 levels deep/);
    bad(`${'- '.repeat(50_000)}x\n`, /nested more than 256 levels deep/);
  });
  it('deep JSON is read (JSON.parse is not recursive) and reported briefly', () => {
    bad(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, /^document #1: want a Kubernetes object \(a mapping\), got \[\[\[\[/);
    bad(`{"kind":"List","items":[{"kind":"Service","metadata":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}]}`, /metadata\.name: want a non-empty string/);
  });
  it('garbage and truncations are errors, never exceptions', () => {
    const good = clusterYaml(3);
    let checked = 0;
    for (let cut = 1; cut < good.length; cut += 7) {
      assert.doesNotThrow(() => parseCluster(good.slice(0, cut)));
      checked++;
    }
    for (const g of ['\u0000\u0001', '{', '[', ']]', '"', "'", '*', '&a', '!!binary x', '? a', ': :', '---\n...\n---', '\t- x']) {
      assert.doesNotThrow(() => parseCluster(g), g);
      checked++;
    }
    assert.ok(checked > 100);
  });
});

describe('cluster file: kubectl -o json and -o yaml give the same objects', () => {
  it('10 Services, both layouts', () => {
    const y = parseCluster(clusterYaml(10));
    const j = parseCluster(clusterJson(10));
    assert.ok(y.ok && j.ok);
    assert.equal(y.cluster.services.length, 10);
    assert.equal(y.cluster.endpointSlices.length, 10);
    assert.deepEqual(j.cluster, y.cluster);
  });
  it('errors in JSON name the object and field', () => {
    const o = JSON.parse(clusterJson(2)) as { items: { spec?: { ports?: { port: unknown }[] } }[] };
    o.items[2]!.spec!.ports![0]!.port = 'http';
    const r = parseCluster(JSON.stringify(o));
    assert.ok(!r.ok);
    assert.match(r.error, /^document #1 items\[2\] \(Service team-1\/svc-1\): spec\.ports\[0\]\.port: want an integer 1-65535, got "http"$/);
  });
});
