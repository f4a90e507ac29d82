// Property tests over random operation sequences: the sharing invariant, release-all returns to empty,
// determinism, and lowest-free agreement with a brute-force reference allocator.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Allocator } from '../../../src/allocator/allocator.js';
import { backendKey, servicePorts, sharingKey } from '../../../src/allocator/service.js';
import { formatIPv4, parseCIDR } from '../../../src/allocator/ip.js';
import type { PoolSpec, ServiceInput } from '../../../src/allocator/types.js';
import { serviceArb, toService } from '../../helpers/allocator-ops.js';

const POOLS: PoolSpec[] = [
  { name: 'p1', cidrs: ['10.0.0.0/30', 'fd00::/126'], autoAssign: true, avoidBuggyIPs: false, protocol: 'bgp' },
  { name: 'p2', cidrs: ['10.0.1.254/31', '10.0.2.0/31'], autoAssign: true, avoidBuggyIPs: true, protocol: 'layer2' },
  { name: 'p3', cidrs: ['10.0.3.0/30'], autoAssign: false, avoidBuggyIPs: false, protocol: 'bgp' },
];
const ADDRESSES = ['10.0.0.1', '10.0.0.3', '10.0.1.254', '10.0.2.0', '10.0.3.2', 'fd00::2', '192.0.2.1'];

const KEYS = ['a/s0', 'a/s1', 'b/s2', 'b/s3', 'c/s4', 'c/s5'];
const serviceArbitrary = serviceArb(KEYS, ADDRESSES, ['p1', 'p2', 'p3', 'nope']);

const opArb = fc.oneof(
  { weight: 5, arbitrary: serviceArbitrary.map((s) => ({ op: 'allocate' as const, svc: s })) },
  { weight: 3, arbitrary: serviceArbitrary.map((s) => ({ op: 'converge' as const, svc: s })) },
  { weight: 2, arbitrary: fc.constantFrom(...KEYS).map((key) => ({ op: 'release' as const, key })) },
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

/** Runs ops; returns every result and the spec each held Service was last successfully allocated with. */
function play(a: Allocator, ops: Op[], check?: (a: Allocator, specs: Map<string, ServiceInput>) => void): unknown[] {
  const specs = new Map<string, ServiceInput>();
  const results: unknown[] = [];
  for (const o of ops) {
    if (o.op === 'release') {
      results.push(a.release(o.key));
      specs.delete(o.key);
    } else {
      const svc = toService(o.svc);
      const r = o.op === 'allocate' ? a.allocate(svc) : a.converge(svc);
      results.push(r);
      if (r.ok && r.ips.length > 0) specs.set(svc.key, svc);
      else if (a.allocationOf(svc.key) === undefined) specs.delete(svc.key);
    }
    check?.(a, specs);
  }
  return results;
}

function disjoint(x: readonly string[], y: readonly string[]): boolean {
  return x.every((p) => !y.includes(p));
}

describe('allocator properties', () => {
  test('no address is held by two Services unless MetalLB sharing rules allow it', () => {
    let shared = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
        play(new Allocator(POOLS), ops, (a, specs) => {
          const byIP = new Map<string, string[]>();
          for (const [key, al] of a.allocations()) {
            assert.ok(specs.has(key), `${key} holds ${al.ips.join(',')} without a successful allocation`);
            assert.ok(al.ips.length === 1 || al.ips.length === 2);
            for (const ip of al.ips) byIP.set(ip, [...(byIP.get(ip) ?? []), key]);
          }
          for (const [ip, users] of byIP) {
            assert.deepEqual(a.usersOf(ip), [...users].sort());
            if (users.length > 1) shared++;
            for (let i = 0; i < users.length; i++) {
              for (let j = i + 1; j < users.length; j++) {
                const x = specs.get(users[i]!)!;
                const y = specs.get(users[j]!)!;
                assert.notEqual(sharingKey(x), '', `${ip}: ${x.key} has no sharing key`);
                assert.equal(sharingKey(x), sharingKey(y), `${ip}: keys differ`);
                assert.equal(backendKey(x), backendKey(y), `${ip}: backend keys differ`);
                const px = servicePorts(x);
                const py = servicePorts(y);
                assert.ok(px.ok && py.ok && disjoint(px.value, py.value), `${ip}: ports overlap`);
              }
            }
          }
          // The indexes agree with the allocations.
          const inUse = new Map<string, number>();
          for (const [ip] of byIP) {
            const pool = a.allocations().find(([, al]) => al.ips.includes(ip))![1].pool;
            const fam = ip.includes(':') ? 'ipv6' : 'ipv4';
            inUse.set(`${pool}/${fam}`, (inUse.get(`${pool}/${fam}`) ?? 0) + 1);
          }
          for (const u of a.usage()) assert.equal(u.inUse, inUse.get(`${u.pool}/${u.family}`) ?? 0, `${u.pool}/${u.family}`);
        });
      }),
      { numRuns: 200 },
    );
    assert.ok(shared > 0, 'the generator must actually produce shared addresses');
  });

  test('releasing everything returns every pool to empty', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
        const a = new Allocator(POOLS);
        play(a, ops);
        for (const [key] of a.allocations()) a.release(key);
        assert.ok(a.isEmpty());
        assert.ok(a.usage().every((u) => u.inUse === 0));
      }),
      { numRuns: 150 },
    );
  });

  test('same input, same answers (and a reload with the same pools changes nothing)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
        const a = new Allocator(POOLS);
        const b = new Allocator(POOLS);
        assert.deepEqual(play(a, ops), play(b, ops));
        assert.deepEqual(a.allocations(), b.allocations());
        assert.deepEqual(b.setPools(POOLS), { ok: true });
        assert.deepEqual(a.allocations(), b.allocations());
        // After the reload both still answer the same.
        const more = ops.slice(0, 10);
        assert.deepEqual(play(a, more), play(b, more));
      }),
      { numRuns: 100 },
    );
  });

  test('without sharing, every allocation is the lowest free address of the first pool with room', () => {
    const pools: PoolSpec[] = [
      { name: 'a', cidrs: ['10.0.0.252/30', '10.0.0.0/31'], autoAssign: true, avoidBuggyIPs: true, protocol: 'bgp' },
      { name: 'b', cidrs: ['10.1.0.0/29'], autoAssign: false, avoidBuggyIPs: false, protocol: 'bgp' },
      { name: 'c', cidrs: ['10.2.0.0/23'], autoAssign: true, avoidBuggyIPs: true, protocol: 'bgp' },
    ];
    // Brute-force reference: enumerate each pool in walk order, take the first unused address.
    const order = new Map<string, string[]>();
    for (const p of pools) {
      const list: string[] = [];
      for (const c of p.cidrs) {
        const x = parseCIDR(c)!;
        for (let i = 0; i < 2 ** (32 - x.length); i++) {
          const n = x.base.v4 + i;
          if (p.avoidBuggyIPs && ((n & 255) === 0 || (n & 255) === 255)) continue;
          list.push(formatIPv4(n));
        }
      }
      order.set(p.name, list);
    }
    const refOp = fc.oneof(
      fc.record({ op: fc.constant('alloc' as const), key: fc.integer({ min: 0, max: 600 }), pool: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }) }),
      fc.record({ op: fc.constant('free' as const), key: fc.integer({ min: 0, max: 600 }) }),
    );
    fc.assert(
      fc.property(fc.array(refOp, { minLength: 1, maxLength: 700 }), (ops) => {
        const a = new Allocator(pools);
        const held = new Map<number, { ip: string; pool: string }>();
        const used = new Set<string>();
        for (const o of ops) {
          if (o.op === 'free') {
            assert.equal(a.release(`ns/${o.key}`), held.has(o.key));
            const h = held.get(o.key);
            if (h) used.delete(h.ip);
            held.delete(o.key);
            continue;
          }
          const svc: ServiceInput = { key: `ns/${o.key}`, type: 'LoadBalancer', annotations: o.pool ? { 'metallb.universe.tf/address-pool': o.pool } : {} };
          const r = a.allocate(svc);
          let want: { ip: string; pool: string } | null = null;
          const h = held.get(o.key);
          if (h && (o.pool === undefined || o.pool === h.pool)) want = h;
          else {
            if (h) {
              used.delete(h.ip);
              held.delete(o.key);
            }
            const candidates = o.pool ? [o.pool] : pools.filter((p) => p.autoAssign).map((p) => p.name);
            for (const name of candidates) {
              const ip = order.get(name)!.find((x) => !used.has(x));
              if (ip !== undefined) {
                want = { ip, pool: name };
                break;
              }
            }
          }
          if (want === null) assert.equal(r.ok, false);
          else {
            assert.deepEqual(r, { ok: true, ips: [want.ip], pool: want.pool });
            held.set(o.key, want);
            used.add(want.ip);
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
