// Allocator benchmarks. Every case measures ONE operation per call, so ns/op is the cost of one allocation:
// the fill cases walk a pool from empty to full (a fresh allocator replaces the full one, amortized), the
// churn case works at 65,536 held addresses. MetalLB scans from the pool start, so its cost grows with the
// number held; ingot's must not.
import { lazy, type Register } from './case.js';
import { Allocator } from '../src/allocator/allocator.js';
import type { PoolSpec, ServiceInput } from '../src/allocator/types.js';
import type { Config } from '../src/config/types.js';
import type { ServiceObject } from '../src/plan/cluster.js';
import { planCluster } from '../src/plan/plan.js';

function pool(name: string, cidrs: string[], extra: Partial<PoolSpec> = {}): PoolSpec {
  return { name, cidrs, autoAssign: true, avoidBuggyIPs: false, protocol: 'bgp', ...extra };
}

function services(n: number, make: (i: number) => Partial<ServiceInput> = () => ({})): ServiceInput[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `bench/svc-${i}`,
    type: 'LoadBalancer',
    ports: [{ protocol: 'TCP', port: 80 }],
    ...make(i),
  }));
}

/**
 * Cycles through `svcs`, allocating each once into a fresh allocator per round. The function is run hot
 * before mitata sees it: mitata batches 4,096 calls per sample only when its warm-up calls take under 65 µs,
 * and a cold first call on a busy VM does not, which leaves one call per sample right after a forced full GC
 * (numbers 5-50x too high).
 */
function filler(pools: PoolSpec[], svcs: ServiceInput[]): () => unknown {
  let a = new Allocator(pools);
  let i = 0;
  const step = () => {
    if (i === svcs.length) {
      a = new Allocator(pools);
      i = 0;
    }
    const r = a.allocate(svcs[i++]!);
    if (!r.ok) throw new Error(`bench allocation failed: ${r.message}`);
    return r;
  };
  warm(step, Math.min(svcs.length, 20_000));
  a = new Allocator(pools);
  i = 0;
  return step;
}

function warm(fn: () => unknown, n: number): void {
  for (let k = 0; k < n; k++) fn();
}

// Every case is lazy: each is measured in a process of its own, holding only its own state.
export function register(bench: Register): void {
  const slash16 = [pool('p', ['10.0.0.0/16'])];
  bench(
    'alloc.v4.slash16.fill',
    lazy(() => {
      const fill16 = services(65_536);
      // Sanity: the last of the 65,536 gets the last address, so the case really fills the /16.
      const a = new Allocator(slash16);
      let last: unknown;
      for (const s of fill16) last = a.allocate(s);
      const want = { ok: true, ips: ['10.0.255.255'], pool: 'p' };
      if (JSON.stringify(last) !== JSON.stringify(want)) throw new Error(`fill sanity: ${JSON.stringify(last)}`);
      return filler(slash16, fill16);
    }),
  );

  // At 65,536 held: free one address (pseudo-random order), allocate it again. ns/op = release + allocate.
  bench('alloc.v4.slash16.churn_at_65536', lazy(() => {
    const fill16 = services(65_536);
    const a = new Allocator(slash16);
    for (const s of fill16) a.allocate(s);
    let j = 0;
    const churn = () => {
      j = (j + 40_503) & 0xffff; // odd step: visits every Service
      const s = fill16[j]!;
      a.release(s.key);
      const r = a.allocate(s);
      if (!r.ok) throw new Error(r.message);
      return r;
    };
    warm(churn, 20_000);
    return churn;
  }));

  // avoid-buggy-ips changes the ordinal mapping; it must not change the cost.
  bench('alloc.v4.slash16.avoidbuggy.fill', lazy(() => filler([pool('p', ['10.0.0.0/16'], { avoidBuggyIPs: true })], services(65_024))));

  // 10,000 Services over 20 pools of /23: odd ones auto-assign (pools 0-9, config order, so the walk passes
  // full pools), even ones name one of pools 10-19 (auto-assign off) round robin.
  const twenty = Array.from({ length: 20 }, (_, i) => pool(`pool-${i}`, [`10.${i}.0.0/23`], { autoAssign: i < 10 }));
  bench(
    'alloc.10000svc.20pools',
    lazy(() =>
      filler(
        twenty,
        services(10_000, (i) => (i % 2 === 0 ? { annotations: { 'metallb.universe.tf/address-pool': `pool-${10 + ((i / 2) % 10)}` } } : {})),
      ),
    ),
  );

  // IPv6 goes through bigint ordinals: slower, still independent of how many are held.
  bench('alloc.v6.slash64.fill', lazy(() => filler([pool('v6', ['2001:db8::/64'])], services(65_536, () => ({ ipFamilies: ['IPv6'] })))));

  // Calibration, not the allocator: one Map.set of a fresh string key into a map growing to 65,536. Read the
  // figures above against it; on the shared 2-vCPU VM it swings several-fold with the load of other sessions.
  bench('alloc.calibration.mapset', lazy(() => {
    const keys = services(65_536).map((s) => s.key);
    let m = new Map<string, number>();
    let k = 0;
    const set = () => {
      if (k === keys.length) {
        m = new Map();
        k = 0;
      }
      m.set(keys[k]!, k);
      return k++;
    };
    warm(set, 20_000);
    return set;
  }));

  // Calibration for the churn case: the memory any release + allocate of a random Service must touch before
  // it does anything, here only that: read the Service and its port, and look its key up in a Map of 65,536.
  // On a VM whose random memory reads cost ~150-200 ns (TLB misses), this floor is most of the churn figure.
  bench('alloc.calibration.random_service_lookup', lazy(() => {
    const fill16 = services(65_536);
    const m = new Map<string, number>(fill16.map((s, i) => [s.key, i]));
    let j = 0;
    const touch = () => {
      j = (j + 40_503) & 0xffff;
      const s = fill16[j]!;
      return m.get(s.key)! + s.ports![0]!.port;
    };
    warm(touch, 20_000);
    return touch;
  }));

  // Sharing: every Service carries the same key and a distinct port, so each one lands on 10.0.0.0.
  bench(
    'alloc.v4.shared.fill',
    lazy(() =>
      filler(
        [pool('p', ['10.0.0.0/24'])],
        services(4096, (i) => ({ ports: [{ protocol: 'TCP', port: 1 + i }], annotations: { 'metallb.universe.tf/allow-shared-ip': 'k' } })),
      ),
    ),
  );

  // A whole `ingot plan` of 10,000 LoadBalancer Services over the same 20 pools, 1,000 of them with status IPs
  // to claim first; one op = one full plan (sorting included), so divide by 10,000 for per-Service cost.
  bench('plan.10000svc.20pools', lazy(() => {
    const config = { peers: [], bfdProfiles: [], pools: twenty.map((p) => ({ ...p, prefixes: [], bgpAdvertisements: [], nodeSelectors: [] })) } as unknown as Config;
    const objects: ServiceObject[] = services(10_000, (i): Partial<ServiceInput> => ({
      creationTimestamp: `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`,
      statusIPs: i % 10 === 5 ? [`10.${Math.floor(i / 10) % 10}.1.${Math.floor(i / 100)}`] : [],
      annotations: i % 2 === 0 ? { 'metallb.universe.tf/address-pool': `pool-${10 + ((i / 2) % 10)}` } : ({} as Record<string, string>),
    })).map((s) => ({ ...s, namespace: 'bench', name: s.key.slice(6), labels: {}, loadBalancerClass: null, ports: [{ name: null, protocol: 'TCP', port: 80 }] }));
    const cluster = { services: objects, endpointSlices: [], nodes: [] };
    const once = () => planCluster(config, cluster);
    const sample = once().services['bench/svc-15'];
    // svc-15 claims its status address although lower ones are free: the claim phase really ran.
    if (sample?.ips[0] !== '10.1.1.0') throw new Error(`plan sanity: ${JSON.stringify(sample)}`);
    warm(once, 3);
    return once;
  }));
}
