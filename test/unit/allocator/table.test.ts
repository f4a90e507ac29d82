// The ServiceTable under the allocator: slots survive release for reuse, are swept in bulk once unheld ones
// outnumber held ones, and a swept slot is handed to the next new Service without disturbing held ones.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceTable } from '../../../src/allocator/table.js';
import { OrdinalMap } from '../../../src/allocator/ordinal-set.js';
import { Allocator } from '../../../src/allocator/allocator.js';
import type { ServiceInput } from '../../../src/allocator/types.js';

const POOL = { name: 'pool' };

describe('ServiceTable', () => {
  test('hold, address fields, unhold and reuse of the same slot', () => {
    const t = new ServiceTable<typeof POOL>();
    const trie = new OrdinalMap<number>(2);
    const leaf = trie.put(Uint8Array.from([7, 3]), 0);
    const s = t.hold('ns/a', undefined, POOL, ['TCP/80'], 'k', 'app=x');
    assert.equal(t.size, 1);
    t.setAddress(s, 0, leaf, 7, 'ipv6');
    t.setAddress(s, 1, leaf, 31, 'ipv4');
    assert.deepEqual(
      [t.key(s), t.pool(s), t.ports(s), t.sharingKey(s), t.backendKey(s), t.addressCount(s)],
      ['ns/a', POOL, ['TCP/80'], 'k', 'app=x', 2],
    );
    assert.deepEqual([t.family(s, 0), t.index(s, 0), t.family(s, 1), t.index(s, 1)], ['ipv6', 7, 'ipv4', 31]);
    assert.equal(t.leaf(s, 1), leaf);
    assert.equal(t.heldSlot('ns/a'), s);
    t.unhold(s);
    assert.equal(t.size, 0);
    assert.equal(t.heldSlot('ns/a'), -1);
    assert.equal(t.slotOf('ns/a'), s, 'an unheld slot stays keyed for the next allocation');
    assert.equal(t.hold('ns/a', undefined, POOL, [], '', ''), s);
    assert.equal(t.addressCount(s), 1, 'a re-held slot starts without addresses');
  });

  test('unheld slots are swept once they outnumber held ones, and their slots are reused', () => {
    const t = new ServiceTable<typeof POOL>();
    const n = 5000;
    for (let i = 0; i < n; i++) t.hold(`ns/s${i}`, undefined, POOL, [], '', '');
    // Release all but 100: the sweep must run (more than 1,024 unheld and more than held).
    for (let i = 100; i < n; i++) t.unhold(t.slotOf(`ns/s${i}`));
    assert.equal(t.size, 100);
    const remembered = Array.from({ length: n - 100 }, (_, i) => t.slotOf(`ns/s${i + 100}`)).filter((s) => s >= 0);
    assert.ok(remembered.length < 1100, `the sweep dropped unheld slots (${remembered.length} left)`);
    assert.deepEqual(t.heldKeys(), Array.from({ length: 100 }, (_, i) => `ns/s${i}`).sort());
    const held = new Set(Array.from({ length: 100 }, (_, i) => t.slotOf(`ns/s${i}`)));
    // New Services take swept slots, never a held one.
    for (let i = 0; i < 3000; i++) {
      const s = t.hold(`ns/new${i}`, undefined, POOL, [], '', '');
      assert.ok(!held.has(s), `slot ${s} was still held`);
      assert.ok(s < n, 'swept slots are reused before new ones are made');
    }
    for (let i = 0; i < 100; i++) assert.equal(t.key(t.slotOf(`ns/s${i}`)), `ns/s${i}`);
  });
});

describe('Allocator over many released Services', () => {
  test('sweeps keep allocations intact (5,000 Services come and go around 200 that stay)', () => {
    const a = new Allocator([{ name: 'p', cidrs: ['10.0.0.0/16'], autoAssign: true, avoidBuggyIPs: false, protocol: 'bgp' }]);
    const svc = (k: string, extra: Partial<ServiceInput> = {}): ServiceInput => ({
      key: k,
      type: 'LoadBalancer',
      ports: [{ protocol: 'TCP', port: 80 }],
      ...extra,
    });
    const stay = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      const r = a.allocate(svc(`keep/s${i}`));
      assert.ok(r.ok);
      stay.set(`keep/s${i}`, r.ips[0]!);
    }
    // Two sharing Services among the stayers: their address is a SharedAddress holding slot numbers.
    const sh1 = a.allocate(svc('keep/sh1', { annotations: { 'metallb.universe.tf/allow-shared-ip': 'x' } }));
    const sh2 = a.allocate(svc('keep/sh2', { ports: [{ protocol: 'TCP', port: 443 }], annotations: { 'metallb.universe.tf/allow-shared-ip': 'x' } }));
    assert.ok(sh1.ok && sh2.ok);
    assert.deepEqual(sh1.ips, sh2.ips);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1000; i++) assert.ok(a.allocate(svc(`churn/r${round}-${i}`)).ok);
      for (let i = 0; i < 1000; i++) assert.equal(a.release(`churn/r${round}-${i}`), true);
    }
    for (const [k, ip] of stay) assert.deepEqual(a.allocationOf(k), { ips: [ip], pool: 'p' });
    assert.deepEqual(a.usersOf(sh1.ips[0]!), ['keep/sh1', 'keep/sh2']);
    assert.equal(a.allocations().length, 202);
    for (const k of [...stay.keys(), 'keep/sh1', 'keep/sh2']) assert.equal(a.release(k), true);
    assert.equal(a.isEmpty(), true);
  });
});
