// `ingot lab demo` end to end, as a user runs it: the key lines of every step are there (three next hops, the
// spread over the nodes, the narrowing to one next hop, the withdrawal, a speaker's status), and afterwards
// — and after `ingot lab down` — no namespace or process of the lab is left.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { NetnsLab } from '../../src/lab/netns.js';
import { INGOT_BIN, REPO_ROOT } from '../helpers/cli.js';
import { interopSkip } from '../helpers/interop.js';

function labProcesses(): string[] {
  // Every process whose namespace is one of the lab's: none may remain.
  const out: string[] = [];
  for (const ns of NetnsLab.list().filter((n) => n.startsWith('ilab-'))) {
    const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
    out.push(...(r.stdout ?? '').split('\n').filter(Boolean).map((p) => `${ns}:${p}`));
  }
  return out;
}

describe('ingot lab', { skip: interopSkip({ binaries: ['/usr/lib/frr/bgpd', '/usr/lib/frr/zebra', 'vtysh', 'curl'] }) }, () => {
  test('demo shows allocation, ECMP, spread, narrowing, withdrawal and status, and leaves nothing behind', () => {
    const r = spawnSync(INGOT_BIN, ['lab', 'demo', '--no-install'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env, NO_COLOR: '1' } });
    const out = r.stdout ?? '';
    const context = `\n--- stdout\n${out}\n--- stderr\n${r.stderr ?? ''}`;
    assert.equal(r.status, 0, `exit ${r.status}${context}`);
    assert.doesNotMatch(out, /\x1b\[/, 'no colour codes when stdout is not a terminal');
    for (const n of [1, 2, 3, 4, 5]) assert.match(out, new RegExp(`^\\[${n}/5\\] `, 'm'), `step ${n}${context}`);
    assert.match(out, /default\/web\s+LoadBalancer\s+192\.168\.131\.1\s+default\s+bgp: node-1,node-2,node-3/, context);
    assert.match(out, /3 ECMP next hops 192\.168\.129\.1, 192\.168\.129\.2, 192\.168\.129\.3/, context);
    const kernel = out.slice(out.indexOf('the router kernel'), out.indexOf('[2/5]'));
    for (const n of [1, 2, 3]) assert.match(kernel, new RegExp(`nexthop via 192\\.168\\.129\\.${n} dev eth-lan`), `kernel multipath hop ${n}${context}`);
    const spread = [...out.matchAll(/^\s+node-(\d)\s+(\d+)\s+#*$/gm)].map((m) => Number(m[2]));
    assert.equal(spread.length, 3, `three spread rows${context}`);
    assert.equal(spread.reduce((a, b) => a + b, 0), 30, `30 answered requests${context}`);
    assert.ok(spread.filter((c) => c > 0).length >= 2, `the requests spread over at least two nodes${context}`);
    assert.match(out, /narrowed to one next hop, 192\.168\.129\.2 \(node-2\): in the BGP table \d+(\.\d+)? m?s after the change/, context);
    assert.match(out, /the route is gone from the router: from the BGP table \d+(\.\d+)? m?s after the deletion/, context);
    // Step 4: a Layer 2 VIP from the pool "lan"; the LAN client's neighbour entry names the owner; failover.
    const owner = /every speaker names (node-[123]) the owner of 192\.168\.129\.240 /.exec(out)?.[1];
    assert.ok(owner !== undefined, `layer2 owner line${context}`);
    assert.match(out, new RegExp(`arping 192\\.168\\.129\\.240 from ilab-lanc \\(192\\.168\\.129\\.100\\): reply from [0-9a-f:]{17} = ${owner}`), context);
    assert.match(out, new RegExp(`ilab-lanc's neighbour entry: 192\\.168\\.129\\.240 lladdr [0-9a-f:]{17} \\S+ → ${owner}; curl http://192\\.168\\.129\\.240/ answers ${owner}`), context);
    const fo = /failover: (node-[123]) answers (\d+(?:\.\d+)?) (m?s) after the kill/.exec(out);
    assert.ok(fo !== null, `failover line${context}`);
    assert.notEqual(fo[1], owner, `a new owner${context}`);
    const foMs = Number(fo[2]) * (fo[3] === 's' ? 1000 : 1);
    assert.ok(foMs < 2000, `failover took ${foMs} ms${context}`);
    assert.match(out, new RegExp(`neighbour entry now: 192\\.168\\.129\\.240 lladdr [0-9a-f:]{17} \\S+ → ${fo[1]}`), context);
    assert.match(out, new RegExp(`${owner} is back and agrees: ${fo[1]} keeps 192\\.168\\.129\\.240`), context);
    assert.match(out, /BGP sessions \(1\)\n\s+PEER.*\n\s+192\.168\.129\.254:179\s+65002→65001\s+Established/, context);
    assert.match(out, /metallb_bgp_session_up\{peer="192\.168\.129\.254:179"\} 1/, context);
    assert.deepEqual(NetnsLab.list().filter((n) => n.startsWith('ilab-')), [], 'demo removed its namespaces');
    const down = spawnSync(INGOT_BIN, ['lab', 'down'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(down.status, 0, down.stderr);
    assert.match(down.stdout, /nothing of the lab was left/);
    assert.deepEqual(labProcesses(), []);
  });

  test('up leaves it running for a person; down removes all of it, twice in a row', () => {
    const up = spawnSync(INGOT_BIN, ['lab', 'up', '--no-install'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env, NO_COLOR: '1' } });
    try {
      assert.equal(up.status, 0, `${up.stdout}\n${up.stderr}`);
      assert.match(up.stdout, /The lab is up\. Things to try:/);
      const curl = spawnSync('ip', ['netns', 'exec', 'ilab-cli', 'curl', '-s', '-m', '5', 'http://192.168.131.1/'], { encoding: 'utf8' });
      assert.match(curl.stdout, /^node-[123]\n$/, 'the Service answers from outside after `up` returned');
      const again = spawnSync(INGOT_BIN, ['lab', 'up', '--no-install'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
      assert.equal(again.status, 2);
      assert.match(again.stderr, /a lab is already up/);
      const st = spawnSync(INGOT_BIN, ['lab', 'status'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
      assert.match(st.stdout, /the lab is up: 7 namespaces/);
    } finally {
      const down = spawnSync(INGOT_BIN, ['lab', 'down'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
      assert.equal(down.status, 0, down.stderr);
      assert.match(down.stdout, /removed 7 namespaces/);
    }
    assert.deepEqual(NetnsLab.list().filter((n) => n.startsWith('ilab-')), []);
    assert.deepEqual(labProcesses(), []);
    const twice = spawnSync(INGOT_BIN, ['lab', 'down'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(twice.status, 0);
    assert.match(twice.stdout, /nothing of the lab was left/);
  });
});
