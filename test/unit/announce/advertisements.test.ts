import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AdvertisementTable, buildAdvertisements, poolByName } from '../../../src/announce/index.js';
import { ok as config } from '../config/helpers.js';


const CONFIG = config(`
peers:
- peer-address: 10.0.0.1
  peer-asn: 64500
  my-asn: 64500
bgp-communities:
  edge: 64500:100
address-pools:
- name: plain
  protocol: bgp
  addresses: [10.1.0.0/24, "2001:db8:1::/120"]
- name: tagged
  protocol: bgp
  addresses: [10.3.0.0/24]
  bgp-advertisements:
  - localpref: 100
    communities: [edge, "large:64500:1:2"]
  - aggregation-length: 24
    localpref: 50
    communities: [64500:200]
- name: agg
  protocol: bgp
  addresses: [10.4.0.0/24]
  bgp-advertisements:
  - aggregation-length: 28
    localpref: 300
    communities: [64500:300]
- name: twice
  protocol: bgp
  addresses: [10.5.0.0/24]
  bgp-advertisements:
  - localpref: 10
    communities: [64500:2, 64500:1]
  - localpref: 20
    communities: [64500:1, 64500:3]
`);

function pool(name: string) {
  const p = poolByName(CONFIG, name);
  assert.ok(p, name);
  return p;
}

test('one /32 and one /128 per IP with the default advertisement', () => {
  const ads = buildAdvertisements([{ key: 'default/web', ips: ['2001:db8:1::10', '10.1.0.7'], pool: pool('plain') }]);
  assert.deepEqual(ads.map((a) => a.prefix), ['10.1.0.7/32', '2001:db8:1::10/128']);
  const [v4, v6] = ads;
  assert.ok(v4 && v6);
  assert.equal(v4.addr4, (10 << 24) + (1 << 16) + 7);
  assert.equal(v4.addr6, null);
  assert.deepEqual([...(v6.addr6 ?? [])], [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10]);
  assert.equal(v6.length, 128);
  assert.deepEqual(v4.communities, []);
  assert.deepEqual(v4.services, ['default/web']);
});

test('each advertisement of the pool gives its own prefix, masked to aggregation-length', () => {
  const ads = buildAdvertisements([{ key: 'default/web', ips: ['10.3.0.77'], pool: pool('tagged') }]);
  assert.deepEqual(
    ads.map((a) => [a.prefix, a.localPref, a.communities]),
    [
      ['10.3.0.0/24', 50, [(64500 << 16) + 200].map((x) => x >>> 0)],
      ['10.3.0.77/32', 100, [((64500 << 16) >>> 0) + 100]],
    ],
  );
  assert.deepEqual(ads[1]?.largeCommunities, [{ globalAdmin: 64500, localData1: 1, localData2: 2 }]);
});

test('the same prefix from many Services is sent once, merged deterministically', () => {
  const a = { key: 'ns/a', ips: ['10.4.0.1'], pool: pool('agg') };
  const b = { key: 'ns/b', ips: ['10.4.0.9'], pool: pool('agg') };
  const shared1 = { key: 'ns/c', ips: ['10.1.0.1'], pool: pool('plain') };
  const shared2 = { key: 'ns/d', ips: ['10.1.0.1'], pool: pool('plain') };
  const forward = buildAdvertisements([a, b, shared1, shared2]);
  const backward = buildAdvertisements([shared2, shared1, b, a]);
  assert.deepEqual(forward, backward);
  assert.deepEqual(forward.map((x) => [x.prefix, x.services]), [
    ['10.1.0.1/32', ['ns/c', 'ns/d']],
    ['10.4.0.0/28', ['ns/a', 'ns/b']],
  ]);
});

test('conflicting attributes on one prefix: communities are unioned, the highest LOCAL_PREF wins', () => {
  const ads = buildAdvertisements([{ key: 'ns/x', ips: ['10.5.0.1'], pool: pool('twice') }]);
  assert.equal(ads.length, 1);
  const [ad] = ads;
  assert.ok(ad);
  assert.equal(ad.prefix, '10.5.0.1/32');
  assert.equal(ad.localPref, 20);
  const c = (v: number) => ((64500 << 16) >>> 0) + v;
  assert.deepEqual(ad.communities, [c(1), c(2), c(3)]);
});

test('AdvertisementTable: any sequence of per-Service set/delete ends where buildAdvertisements of the final set is', () => {
  const pools = ['plain', 'tagged', 'agg', 'twice'].map(pool);
  const ipIn = (p: number, host: number): string => (p === 0 && host % 3 === 0 ? `2001:db8:1::${host.toString(16)}` : `10.${[1, 3, 4, 5][p]}.0.${host}`);
  fc.assert(
    fc.property(
      fc.array(fc.record({ svc: fc.integer({ min: 0, max: 7 }), del: fc.boolean(), pool: fc.integer({ min: 0, max: 3 }), hosts: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 2 }) }), { minLength: 1, maxLength: 40 }),
      (ops) => {
        const t = new AdvertisementTable();
        const final = new Map<string, { key: string; ips: string[]; pool: (typeof pools)[number] }>();
        // What a speaker fed only the returned changes holds (the incremental path the agent uses).
        const fed = new Map<string, unknown>();
        const feed = (r: { changed: { prefix: string }[]; removed: string[] }) => {
          for (const c of r.changed) fed.set(c.prefix, c);
          for (const p of r.removed) fed.delete(p);
        };
        for (const op of ops) {
          const key = `ns/s${op.svc}`;
          if (op.del) {
            feed(t.delete(key));
            final.delete(key);
          } else {
            const ips = [...new Set(op.hosts.map((h) => ipIn(op.pool, h)))];
            feed(t.set(key, ips, pools[op.pool]!));
            final.set(key, { key, ips, pool: pools[op.pool]! });
          }
        }
        const want = buildAdvertisements([...final.values()]);
        assert.deepEqual(t.all(), want);
        assert.deepEqual(new Map(t.routes().map((r) => [r.prefix, r])), fed);
        for (const a of want) assert.deepEqual({ ...t.get(a.prefix) }, { ...a });
      },
    ),
    { numRuns: 300 },
  );
});
