// "No scan from the pool start", checked structurally rather than with a clock (the VM is shared): count the
// index operations one allocation performs when the only free address of a /16 is the very last one, or a
// random one. A scanning allocator would touch tens of thousands of addresses here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Allocator } from '../../../src/allocator/allocator.js';
import { OrdinalMap } from '../../../src/allocator/ordinal-set.js';
import { V4Space } from '../../../src/allocator/space.js';
import type { ServiceInput } from '../../../src/allocator/types.js';

function counting<T extends object>(proto: T, names: (keyof T)[], counts: Map<string, number>): () => void {
  const saved = names.map((n) => [n, proto[n]] as const);
  for (const n of names) {
    const orig = proto[n] as unknown as (...a: unknown[]) => unknown;
    (proto as Record<keyof T, unknown>)[n] = function (this: unknown, ...args: unknown[]) {
      counts.set(String(n), (counts.get(String(n)) ?? 0) + 1);
      return orig.apply(this, args);
    };
  }
  return () => {
    for (const [n, f] of saved) (proto as Record<keyof T, unknown>)[n] = f;
  };
}

test('an allocation at 65,535 held touches a constant number of index entries', () => {
  const a = new Allocator([{ name: 'p', cidrs: ['10.0.0.0/16'], autoAssign: true, avoidBuggyIPs: false, protocol: 'bgp' }]);
  const svc = (i: number): ServiceInput => ({ key: `ns/s${i}`, type: 'LoadBalancer', ports: [{ protocol: 'TCP', port: 80 }] });
  for (let i = 0; i < 65_536; i++) assert.equal(a.allocate(svc(i)).ok, true);
  const counts = new Map<string, number>();
  const restore = [
    counting(OrdinalMap.prototype, ['get', 'has', 'lowestAbsent', 'nextPresent', 'first', 'set', 'put', 'delete', 'removeAt', 'valueAt', 'replaceAt', 'digitsAt'], counts),
    counting(V4Space.prototype, ['ipAt', 'textAt', 'inRange', 'digitsOf'], counts),
  ];
  try {
    for (const victim of [65_535, 12_345, 0]) {
      a.release(`ns/s${victim}`);
      counts.clear();
      const r = a.allocate(svc(100_000 + victim));
      assert.deepEqual(r.ok && r.ips, [`10.0.${victim >> 8}.${victim & 255}`]);
      const total = [...counts.values()].reduce((x, y) => x + y, 0);
      assert.ok(total > 0, 'the spies must see the index being used');
      assert.ok(total <= 6, `one allocation used ${total} index operations: ${JSON.stringify([...counts])}`);
      assert.equal(counts.get('lowestAbsent'), 1);
    }
    counts.clear();
    assert.deepEqual(a.allocate(svc(200_000)), { ok: false, reason: 'poolExhausted', message: 'no available IPs' });
    assert.ok([...counts.values()].reduce((x, y) => x + y, 0) <= 2, 'a full pool is recognized without a walk');
  } finally {
    for (const r of restore) r();
  }
});
