// The Layer 2 ownership rule as tables (ownership.ts header: claims first, earliest wins, rendezvous for new
// owners) and as fast-check properties: agreement, stickiness, one owner after convergence.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decideOwner,
  eligibleFor,
  layer2AnnounceSummary,
  nextClaims,
  rendezvousOrder,
  demandOf,
  canonicalKey,
  type LiveMember,
} from '../../../src/l2/ownership.js';
import { ok, pool } from '../config/helpers.js';
import type { EndpointView, NodeView, ServiceView } from '../../../src/announce/index.js';

const IP = '192.0.2.10';
const claims = (o: Record<string, number>): Map<string, number> => new Map(Object.entries(o));

describe('l2 ownership: rendezvous (MetalLB hash)', () => {
  it('orders by sha256(node + "#" + ip), smallest first (known answer from sha256sum)', () => {
    // n2#192.0.2.10 → 6c55…, n3 → 83d3…, n1 → 9870…
    assert.deepEqual(rendezvousOrder(IP, ['n1', 'n2', 'n3']), ['n2', 'n3', 'n1']);
    assert.deepEqual(rendezvousOrder(IP, ['n3', 'n1', 'n2', 'n1']), ['n2', 'n3', 'n1']);
  });
});

describe('l2 ownership: decideOwner table', () => {
  const rows: [string, string[], Record<string, number>, string | null, string, string[]][] = [
    ['nobody eligible', [], { n1: 5 }, null, 'none', []],
    ['no claims: rendezvous winner', ['n1', 'n2', 'n3'], {}, 'n2', 'rendezvous', []],
    ['no claims, winner not live: next in order', ['n1', 'n3'], {}, 'n3', 'rendezvous', []],
    ['a sole claimant keeps it although the hash prefers another', ['n1', 'n2', 'n3'], { n1: 100 }, 'n1', 'claim', []],
    ['a claimant that is not eligible (dead, excluded, no endpoint) is ignored', ['n1', 'n3'], { n2: 100 }, 'n3', 'rendezvous', []],
    ['two claimants (partition healed): the earlier claim wins', ['n1', 'n2', 'n3'], { n2: 200, n1: 100 }, 'n1', 'conflict', ['n2']],
    ['same time: the rendezvous rank breaks the tie', ['n1', 'n2', 'n3'], { n1: 100, n3: 100 }, 'n3', 'conflict', ['n1']],
    ['three claimants', ['n1', 'n2', 'n3'], { n1: 300, n2: 200, n3: 100 }, 'n3', 'conflict', ['n2', 'n1']],
  ];
  for (const [name, eligible, c, owner, basis, losers] of rows) {
    it(name, () => {
      const d = decideOwner({ ip: IP, eligible, claims: claims(c) });
      assert.equal(d.owner, owner);
      assert.equal(d.basis, basis);
      assert.deepEqual(d.losers, losers);
    });
  }
});

describe('l2 ownership: eligibility', () => {
  const live: LiveMember[] = [
    { name: 'n1', excluded: false, claims: new Map() },
    { name: 'n2', excluded: true, claims: new Map() },
    { name: 'n3', excluded: false, claims: new Map() },
  ];
  const ep = (nodeName: string | null, ready = true): EndpointView => ({ nodeName, ready });
  const rows: [string, { policy: 'Cluster' | 'Local'; eps: EndpointView[] }[], string[]][] = [
    ['Cluster: every live speaker not excluded', [{ policy: 'Cluster', eps: [ep('n9')] }], ['n1', 'n3']],
    ['Cluster: nobody without a ready endpoint anywhere', [{ policy: 'Cluster', eps: [ep('n1', false)] }], []],
    ['Cluster: an endpoint without a node name counts', [{ policy: 'Cluster', eps: [ep(null)] }], ['n1', 'n3']],
    ['Local: nodes with a ready endpoint', [{ policy: 'Local', eps: [ep('n1'), ep('n3', false)] }], ['n1']],
    ['Local: an excluded node with an endpoint is not eligible', [{ policy: 'Local', eps: [ep('n2')] }], []],
    ['shared IP: eligible for every Service', [{ policy: 'Local', eps: [ep('n1'), ep('n3')] }, { policy: 'Local', eps: [ep('n3')] }], ['n3']],
    ['shared IP, no common node: eligible for any', [{ policy: 'Local', eps: [ep('n1')] }, { policy: 'Local', eps: [ep('n3')] }], ['n1', 'n3']],
  ];
  for (const [name, svcs, want] of rows) {
    it(name, () => {
      const demands = svcs.map((s) => demandOf({ externalTrafficPolicy: s.policy }, s.eps));
      assert.deepEqual(eligibleFor(demands, live).sort(), want);
    });
  }
  it('nextClaims keeps the original since and stamps new ones', () => {
    const owners = new Map<string, string | null>([['a', 'me'], ['b', 'me'], ['c', 'other'], ['d', null]]);
    assert.deepEqual([...nextClaims('me', owners, claims({ a: 5, c: 6 }), 99)], [['a', 5], ['b', 99]]);
  });
  it('canonicalKey normalises IPv6 text', () => {
    assert.equal(canonicalKey('2001:DB8:0:0::1'), '2001:db8::1');
    assert.equal(canonicalKey('nonsense'), 'nonsense');
  });
});

describe('l2 ownership: ingot plan summary', () => {
  const config = ok(`${pool('layer2', ['192.0.2.0/24'])}\n- name: b\n  protocol: bgp\n  addresses:\n  - 198.51.100.0/24\n`);
  const nodes: NodeView[] = ['n1', 'n2', 'n3'].map((name) => ({ name, labels: {} }));
  const svc = (ips: string[], policy: 'Cluster' | 'Local' = 'Cluster'): ServiceView => ({ key: 'default/web', type: 'LoadBalancer', ips, externalTrafficPolicy: policy });
  const rows: [string, ServiceView, EndpointView[], NodeView[], string[], string | null][] = [
    ['Cluster: the rendezvous winner', svc([IP]), [{ nodeName: 'n1', ready: true }], nodes, ['n2'], null],
    ['Local: the winner among nodes with endpoints', svc([IP], 'Local'), [{ nodeName: 'n1', ready: true }, { nodeName: 'n3', ready: true }], nodes, ['n3'], null],
    ['no ready endpoint', svc([IP]), [{ nodeName: 'n1', ready: false }], nodes, [], 'noEndpoints'],
    ['winner excluded: next in order', svc([IP]), [{ nodeName: 'n1', ready: true }], nodes.map((n) => (n.name === 'n2' ? { ...n, labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } } : n)), ['n3'], null],
    ['outside every pool', svc(['203.0.113.1']), [], nodes, [], 'ipNotAllowed'],
  ];
  for (const [name, s, eps, ns, want, reason] of rows) {
    it(name, () => {
      const r = layer2AnnounceSummary(config, s, eps, ns);
      assert.deepEqual(r.nodes, want);
      assert.equal(r.reason, reason);
    });
  }
  it('a bgp Service is not decided here', () => {
    const r = layer2AnnounceSummary(config, svc(['198.51.100.1']), [{ nodeName: 'n1', ready: true }], nodes);
    assert.equal(r.protocol, 'bgp');
    assert.equal(r.reason, 'notLayer2');
  });
});

// ---- properties ----
const nodeName: fc.Arbitrary<string> = fc.constantFrom('n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'node-a', 'node-b');
const ipArb = fc.ipV4();
const claimMap = fc.dictionary(nodeName, fc.integer({ min: 0, max: 50 }), { maxKeys: 4 });

function shuffle<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('l2 ownership: properties', () => {
  it('every speaker with the same inputs computes the same owner (order of members and claims irrelevant)', () => {
    fc.assert(
      fc.property(ipArb, fc.uniqueArray(nodeName, { maxLength: 6 }), claimMap, fc.integer(), (ip, eligible, c, seed) => {
        const a = decideOwner({ ip, eligible, claims: new Map(Object.entries(c)) });
        const b = decideOwner({ ip, eligible: shuffle(eligible, seed), claims: new Map(shuffle(Object.entries(c), seed + 1)) });
        assert.equal(a.owner, b.owner);
        assert.deepEqual(a.losers, b.losers);
        if (eligible.length > 0) assert.ok(a.owner !== null && eligible.includes(a.owner));
      }),
      { numRuns: 500 },
    );
  });

  it('an owner never moves while it stays alive and eligible, whoever joins, leaves or restarts', () => {
    // A run of membership changes around a fixed owner; everyone else starts without claims (joins, restarts).
    const change = fc.record({ joins: fc.uniqueArray(nodeName, { maxLength: 4 }), leaves: fc.uniqueArray(nodeName, { maxLength: 3 }) });
    fc.assert(
      fc.property(ipArb, fc.uniqueArray(nodeName, { minLength: 1, maxLength: 6 }), fc.array(change, { maxLength: 8 }), (ip, initial, changes) => {
        let live = new Set(initial);
        const first = decideOwner({ ip, eligible: live, claims: new Map() }).owner;
        assert.ok(first !== null);
        // The owner's own claims (ip → since), as it puts them in its heartbeats.
        let own = nextClaims(first, new Map([[ip, first]]), new Map(), 0);
        let t = 1;
        for (const ch of changes) {
          live = new Set([...live, ...ch.joins].filter((n) => n === first || !ch.leaves.includes(n)));
          const since = own.get(ip);
          assert.equal(since, 0, 'the claim keeps its original time');
          const d = decideOwner({ ip, eligible: live, claims: new Map([[first, since]]) });
          assert.equal(d.owner, first);
          own = nextClaims(first, new Map([[ip, d.owner]]), own, t++);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('exactly one owner per IP after convergence, from any mix of claims (e.g. a healed partition)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(nodeName, { minLength: 1, maxLength: 6 }),
        fc.uniqueArray(ipArb, { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(nodeName, ipArb, fc.integer({ min: 0, max: 20 })), { maxLength: 12 }),
        fc.uniqueArray(nodeName, { maxLength: 2 }),
        (speakers, ips, seeds, excludedList) => {
          const excluded = new Set(excludedList);
          const claimsOf = new Map<string, Map<string, number>>(speakers.map((s) => [s, new Map()]));
          for (const [n, ip, since] of seeds) if (claimsOf.has(n)) claimsOf.get(n)?.set(ips.includes(ip) ? ip : (ips[0] as string), since);
          let t = 100;
          const round = (): Map<string, string | null> => {
            // Everyone reads everyone's current claims (converged liveness), then updates its own.
            const live: LiveMember[] = speakers.map((s) => ({ name: s, excluded: excluded.has(s), claims: claimsOf.get(s) ?? new Map() }));
            const demand = demandOf({ externalTrafficPolicy: 'Cluster' }, [{ nodeName: null, ready: true }]);
            const decided = new Map<string, Map<string, string | null>>();
            for (const s of speakers) {
              const owners = new Map<string, string | null>();
              for (const ip of ips) {
                const c = new Map<string, number>();
                for (const m of live) {
                  const since = m.claims.get(ip);
                  if (since !== undefined) c.set(m.name, since);
                }
                owners.set(ip, decideOwner({ ip, eligible: eligibleFor([demand], live), claims: c }).owner);
              }
              decided.set(s, owners);
            }
            for (const s of speakers) claimsOf.set(s, nextClaims(s, decided.get(s) ?? new Map(), claimsOf.get(s) ?? new Map(), t));
            t++;
            const first = decided.get(speakers[0] as string) ?? new Map();
            for (const s of speakers) assert.deepEqual(decided.get(s), first, 'all speakers agree');
            return first;
          };
          const r1 = round();
          const r2 = round();
          assert.deepEqual(r2, r1, 'no move after convergence');
          for (const ip of ips) {
            const holders = speakers.filter((s) => claimsOf.get(s)?.has(ip));
            const owner = r2.get(ip);
            if (speakers.every((s) => excluded.has(s))) assert.deepEqual(holders, []);
            else assert.deepEqual(holders, [owner], `exactly one claimant for ${ip}`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
