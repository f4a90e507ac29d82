// Issue 8 item 3 (and 2 for the config): YAML alias expansion and nesting are bounded in the config parser.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/config/index.js';

function timed(text: string): { r: ReturnType<typeof parseConfig>; ms: number } {
  const t0 = performance.now();
  const r = parseConfig(text);
  return { r, ms: performance.now() - t0 };
}

/** Five aliases per merge level, eight levels: ~5^8 re-expansions without a bound (17 s before the fix). */
function mergeBomb(levels = 8): string {
  let t = 'peers:\n- peer-address: 10.0.0.1\n  peer-asn: 1\n  my-asn: 2\n  node-selectors:\n  - match-labels: &a {a: b}\n';
  let prev = 'a';
  for (let i = 1; i <= levels; i++) {
    const nm = String.fromCharCode(97 + i);
    t += `  - match-labels: &${nm} {<<: [*${prev},*${prev},*${prev},*${prev},*${prev}]}\n`;
    prev = nm;
  }
  return t;
}

describe('config parser limits', () => {
  it('a ~400-byte merge-key alias bomb fails fast with a clear error', () => {
    const text = mergeBomb();
    assert.ok(text.length < 500, `${text.length} bytes`);
    const { r, ms } = timed(text);
    assert.ok(!r.ok);
    assert.match(r.error, /^could not parse config: line \d+: too many YAML aliases: more than 100/);
    assert.ok(ms < 100, `took ${ms.toFixed(1)} ms`);
  });
  it('a few aliases still work (merge keys included)', () => {
    const { r } = timed(
      'peers:\n- &p {peer-address: 10.0.0.1, peer-asn: 1, my-asn: 2}\n- {<<: *p, peer-address: 10.0.0.2}\naddress-pools:\n- {name: a, protocol: bgp, addresses: &x [10.1.0.0/24]}\n',
    );
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.deepEqual(r.config.peers.map((p) => p.peerAddress), ['10.0.0.1', '10.0.0.2']);
  });
  it('an undefined alias, deep nesting (twice), in a file and inside a ConfigMap', () => {
    assert.match((timed('peers: *nope\n').r as { error: string }).error, /alias|nope/);
    for (let i = 0; i < 2; i++) {
      const { r, ms } = timed('['.repeat(20_000));
      assert.ok(!r.ok);
      assert.match(r.error, /nested more than 256 levels deep/);
      assert.ok(ms < 100);
    }
    const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\ndata:\n  config: |\n    peers: ${'['.repeat(5000)}\n`;
    const r = timed(cm).r;
    assert.ok(!r.ok);
    assert.match(r.error, /line 6: nested more than 256 levels deep/);
  });
});
