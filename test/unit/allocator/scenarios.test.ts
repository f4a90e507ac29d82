// MetalLB-style scenario tables: every row runs against the state the previous rows left, and states what the
// allocator must answer. A row's `want` is either the addresses (and optionally the pool) or a failure
// reason with a message pattern.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Allocator } from '../../../src/allocator/allocator.js';
import type { FailureReason, PoolSpec, ServiceInput } from '../../../src/allocator/types.js';

type Want = { ips: string[]; pool?: string } | { reason: FailureReason; message?: RegExp };

type Step =
  | { desc: string; allocate: ServiceInput; want: Want }
  | { desc: string; assign: ServiceInput; ips: string[]; want: Want }
  | { desc: string; converge: ServiceInput; want: Want }
  | { desc: string; release: string; want?: boolean }
  | { desc: string; setPools: PoolSpec[]; want: 'ok' | RegExp }
  | { desc: string; holds: string; want: { ips: string[]; pool: string } | null }
  | { desc: string; users: string; want: string[] };

const SHARE = 'metallb.universe.tf/allow-shared-ip';
const POOL = 'metallb.universe.tf/address-pool';
const IPS = 'metallb.universe.tf/loadBalancerIPs';

function pool(name: string, cidrs: string[], opts: Partial<PoolSpec> = {}): PoolSpec {
  return { name, cidrs, autoAssign: true, avoidBuggyIPs: false, protocol: 'bgp', ...opts };
}

function lb(key: string, opts: Partial<ServiceInput> = {}): ServiceInput {
  return { key, type: 'LoadBalancer', ...opts };
}

function tcp(...ports: number[]) {
  return ports.map((port) => ({ protocol: 'TCP', port }));
}

function checkResult(desc: string, got: { ok: boolean } & Record<string, unknown>, want: Want): void {
  if ('ips' in want) {
    assert.equal(got.ok, true, `${desc}: expected success, got ${JSON.stringify(got)}`);
    assert.deepEqual(got.ips, want.ips, desc);
    if (want.pool !== undefined) assert.equal(got.pool, want.pool, desc);
  } else {
    assert.equal(got.ok, false, `${desc}: expected ${want.reason}, got ${JSON.stringify(got)}`);
    assert.equal(got.reason, want.reason, `${desc}: ${String(got.message)}`);
    if (want.message) assert.match(String(got.message), want.message, desc);
  }
}

function run(pools: PoolSpec[], steps: Step[]): void {
  assert.ok(steps.length > 0);
  const a = new Allocator(pools);
  for (const s of steps) {
    if ('allocate' in s) checkResult(s.desc, a.allocate(s.allocate) as never, s.want);
    else if ('assign' in s) checkResult(s.desc, a.assign(s.assign, s.ips) as never, s.want);
    else if ('converge' in s) checkResult(s.desc, a.converge(s.converge) as never, s.want);
    else if ('release' in s) {
      const r = a.release(s.release);
      if (s.want !== undefined) assert.equal(r, s.want, s.desc);
    } else if ('setPools' in s) {
      const r = a.setPools(s.setPools);
      if (s.want === 'ok') assert.deepEqual(r, { ok: true }, s.desc);
      else {
        assert.equal(r.ok, false, s.desc);
        if (!r.ok) {
          assert.equal(r.reason, 'incompatibleConfig');
          assert.match(r.message, s.want, s.desc);
        }
      }
    } else if ('holds' in s) {
      const got = a.allocationOf(s.holds);
      assert.deepEqual(got === undefined ? null : { ips: [...got.ips], pool: got.pool }, s.want, s.desc);
    } else {
      assert.deepEqual(a.usersOf(s.users), s.want, s.desc);
    }
  }
}

describe('allocator scenarios', () => {
  test('auto-assign: pools in config order, lowest free first, exhaustion, reuse after release', () => {
    run(
      [pool('a', ['10.0.0.0/31']), pool('b', ['10.0.1.0/31']), pool('manual', ['10.0.2.0/30'], { autoAssign: false })],
      [
        { desc: 's1 takes the network address (no avoid-buggy-ips)', allocate: lb('ns/s1'), want: { ips: ['10.0.0.0'], pool: 'a' } },
        { desc: 's2 next', allocate: lb('ns/s2'), want: { ips: ['10.0.0.1'], pool: 'a' } },
        { desc: 'a is full: b, in config order', allocate: lb('ns/s3'), want: { ips: ['10.0.1.0'], pool: 'b' } },
        { desc: 's4', allocate: lb('ns/s4'), want: { ips: ['10.0.1.1'], pool: 'b' } },
        { desc: 'auto-assign pools exhausted; manual is never auto-used', allocate: lb('ns/s5'), want: { reason: 'poolExhausted', message: /^no available IPs$/ } },
        { desc: 'the same Service again re-asserts its IP', allocate: lb('ns/s1'), want: { ips: ['10.0.0.0'], pool: 'a' } },
        { desc: 'release s2', release: 'ns/s2', want: true },
        { desc: 'release twice is a no-op', release: 'ns/s2', want: false },
        { desc: 's5 gets the freed address', allocate: lb('ns/s5'), want: { ips: ['10.0.0.1'], pool: 'a' } },
        { desc: 'pool annotation ignores auto-assign: false', allocate: lb('ns/s6', { annotations: { [POOL]: 'manual' } }), want: { ips: ['10.0.2.0'], pool: 'manual' } },
        { desc: 'requested IP in an auto-assign:false pool', allocate: lb('ns/s7', { loadBalancerIP: '10.0.2.3' }), want: { ips: ['10.0.2.3'], pool: 'manual' } },
        { desc: 'lowest free skips the requested one later', allocate: lb('ns/s8', { annotations: { [POOL]: 'manual' } }), want: { ips: ['10.0.2.1'] } },
        { desc: 'unknown pool', allocate: lb('ns/s9', { annotations: { [POOL]: 'nope' } }), want: { reason: 'unknownPool', message: /^unknown pool "nope"$/ } },
        { desc: 'holds', holds: 'ns/s7', want: { ips: ['10.0.2.3'], pool: 'manual' } },
        { desc: 'unknown pool left nothing behind', holds: 'ns/s9', want: null },
      ],
    );
  });

  test('auto-assign disabled everywhere, no pools, and family-less pools give precise reasons', () => {
    run(
      [pool('m', ['10.0.0.0/30'], { autoAssign: false }), pool('v6', ['fd00::/120'], { autoAssign: false })],
      [
        { desc: 'nothing to auto-assign from', allocate: lb('ns/a'), want: { reason: 'autoAssignDisabled', message: /auto-assign disabled/ } },
        { desc: 'but the annotation works', allocate: lb('ns/a', { annotations: { [POOL]: 'm' } }), want: { ips: ['10.0.0.0'] } },
        { desc: 'pool without the family', allocate: lb('ns/b', { ipFamilies: ['IPv6'], annotations: { [POOL]: 'm' } }), want: { reason: 'familyMismatch', message: /pool "m" for ipv6 IPFamily: the pool has no ipv6 addresses/ } },
        { desc: 'dual-stack needs both families in one pool', allocate: lb('ns/c', { ipFamilyPolicy: 'RequireDualStack', annotations: { [POOL]: 'v6' } }), want: { reason: 'familyMismatch' } },
        { desc: 'pools can be replaced by auto-assign ones', setPools: [pool('m', ['10.0.0.0/30']), pool('v6', ['fd00::/120'])], want: 'ok' },
        { desc: 'no auto pool has both families', allocate: lb('ns/c', { ipFamilyPolicy: 'RequireDualStack' }), want: { reason: 'familyMismatch', message: /no auto-assign pool has both IPv4 and IPv6 addresses/ } },
        { desc: 'v6 Service lands in the v6 pool', allocate: lb('ns/d', { ipFamilies: ['IPv6'] }), want: { ips: ['fd00::'], pool: 'v6' } },
      ],
    );
    run([], [{ desc: 'no pools at all', allocate: lb('ns/a'), want: { reason: 'poolExhausted', message: /no address pools configured/ } }]);
  });

  test('avoid-buggy-ips: .0 and .255 of every /24 are never handed out nor claimable', () => {
    run(
      [pool('buggy', ['10.0.0.254/31', '10.0.1.0/30', '10.9.0.0/23'], { avoidBuggyIPs: true }), pool('plain', ['10.0.2.0/31'], { autoAssign: false })],
      [
        { desc: '.254 of the /31', allocate: lb('ns/a'), want: { ips: ['10.0.0.254'] } },
        { desc: '.255 skipped, next CIDR in config order, .0 skipped', allocate: lb('ns/b'), want: { ips: ['10.0.1.1'] } },
        { desc: 'c', allocate: lb('ns/c'), want: { ips: ['10.0.1.2'] } },
        { desc: 'd', allocate: lb('ns/d'), want: { ips: ['10.0.1.3'] } },
        { desc: 'the /23 starts at .1', allocate: lb('ns/e'), want: { ips: ['10.9.0.1'] } },
        { desc: 'requesting .0 of a buggy pool', allocate: lb('ns/f', { loadBalancerIP: '10.0.1.0' }), want: { reason: 'notInAnyPool', message: /^\["10\.0\.1\.0"\] is not allowed in config \(avoid-buggy-ips/ } },
        { desc: 'requesting .255 in the middle of the /23', allocate: lb('ns/f', { loadBalancerIP: '10.9.0.255' }), want: { reason: 'notInAnyPool' } },
        { desc: 'but .0 of a plain pool is fine', allocate: lb('ns/f', { loadBalancerIP: '10.0.2.0' }), want: { ips: ['10.0.2.0'], pool: 'plain' } },
        { desc: 'turning avoid-buggy-ips on for a pool holding .0 is refused', setPools: [pool('buggy', ['10.0.0.254/31', '10.0.1.0/30', '10.9.0.0/23'], { avoidBuggyIPs: true }), pool('plain', ['10.0.2.0/31'], { autoAssign: false, avoidBuggyIPs: true })], want: /service "ns\/f" cannot own \["10\.0\.2\.0"\] under new config/ },
        { desc: 'the old config stays: .1 of plain still by annotation', allocate: lb('ns/g', { annotations: { [POOL]: 'plain' } }), want: { ips: ['10.0.2.1'] } },
      ],
    );
  });

  test('requested IPs: spec.loadBalancerIP and the loadBalancerIPs annotation, with MetalLB texts', () => {
    run(
      [pool('v4', ['10.0.0.0/28']), pool('ds', ['10.1.0.0/28', 'fd00:1::/124']), pool('v6', ['fd00:2::/124'])],
      [
        { desc: 'spec.loadBalancerIP', allocate: lb('ns/a', { loadBalancerIP: '10.0.0.7' }), want: { ips: ['10.0.0.7'], pool: 'v4' } },
        { desc: 'outside every pool', allocate: lb('ns/b', { loadBalancerIP: '192.168.0.1' }), want: { reason: 'notInAnyPool', message: /^\["192\.168\.0\.1"\] is not allowed in config$/ } },
        { desc: 'unparsable spec IP', allocate: lb('ns/b', { loadBalancerIP: '10.0.0.300' }), want: { reason: 'invalidLoadBalancerIP', message: /^invalid spec\.loadBalancerIP "10\.0\.0\.300"$/ } },
        { desc: 'leading zeros are invalid (Go ParseIP)', allocate: lb('ns/b', { loadBalancerIP: '10.0.0.07' }), want: { reason: 'invalidLoadBalancerIP' } },
        { desc: 'both sources', allocate: lb('ns/b', { loadBalancerIP: '10.0.0.8', annotations: { [IPS]: '10.0.0.8' } }), want: { reason: 'invalidAnnotation', message: /can not have both/ } },
        { desc: 'annotation with a bad item', allocate: lb('ns/b', { annotations: { [IPS]: '10.0.0.8,nonsense' } }), want: { reason: 'invalidAnnotation', message: /"nonsense" is not an IP address/ } },
        { desc: 'annotation with two IPv4', allocate: lb('ns/b', { annotations: { [IPS]: '10.0.0.8, 10.0.0.9' } }), want: { reason: 'invalidAnnotation', message: /same address family/ } },
        { desc: 'annotation with an empty item', allocate: lb('ns/b', { annotations: { [IPS]: '10.0.0.8,' } }), want: { reason: 'invalidAnnotation' } },
        { desc: 'IPv6 request on an IPv4 Service', allocate: lb('ns/b', { loadBalancerIP: 'fd00:2::1' }), want: { reason: 'familyMismatch', message: /does not match the ipFamily of the service/ } },
        { desc: 'dual-stack Service cannot use spec.loadBalancerIP', allocate: lb('ns/b', { ipFamilyPolicy: 'RequireDualStack', loadBalancerIP: '10.1.0.1' }), want: { reason: 'familyMismatch' } },
        { desc: 'dual-stack annotation, items trimmed, canonical text', allocate: lb('ns/b', { ipFamilyPolicy: 'RequireDualStack', annotations: { [IPS]: ' 10.1.0.5 , FD00:1:0::5 ' } }), want: { ips: ['10.1.0.5', 'fd00:1::5'], pool: 'ds' } },
        { desc: 'dual-stack from two pools is refused', allocate: lb('ns/c', { ipFamilyPolicy: 'RequireDualStack', annotations: { [IPS]: '10.0.0.9,fd00:1::9' } }), want: { reason: 'poolMismatch', message: /not in one pool/ } },
        { desc: 'IPv4-mapped IPv6 is the IPv4 address', allocate: lb('ns/c', { loadBalancerIP: '::ffff:10.0.0.9' }), want: { ips: ['10.0.0.9'], pool: 'v4' } },
        { desc: 'requested IP outside the requested pool', allocate: lb('ns/d', { loadBalancerIP: '10.0.0.10', annotations: { [POOL]: 'ds' } }), want: { reason: 'poolMismatch', message: /not in the requested pool "ds"/ } },
        { desc: 'requested IP inside the requested pool', allocate: lb('ns/d', { loadBalancerIP: '10.1.0.10', annotations: { [POOL]: 'ds' } }), want: { ips: ['10.1.0.10'], pool: 'ds' } },
        { desc: 'taken by a non-sharing Service', allocate: lb('ns/e', { loadBalancerIP: '10.0.0.7' }), want: { reason: 'sharingConflict', message: /can't change sharing key for "ns\/e", address also in use by ns\/a: existing service does not allow sharing/ } },
        { desc: 'a failed request changes nothing', holds: 'ns/e', want: null },
        { desc: 'a Service may move to another requested IP', allocate: lb('ns/a', { loadBalancerIP: '10.0.0.8' }), want: { ips: ['10.0.0.8'] } },
        { desc: '... and its old one is free again', allocate: lb('ns/e', { loadBalancerIP: '10.0.0.7' }), want: { ips: ['10.0.0.7'] } },
        { desc: 'auto allocation skips requested addresses', allocate: lb('ns/f'), want: { ips: ['10.0.0.0'] } },
      ],
    );
  });

  test('sharing: same key on both sides, equal backend keys, disjoint protocol/port pairs', () => {
    const k = (key: string, ports: ServiceInput['ports'], extra: Partial<ServiceInput> = {}) =>
      lb(key, { ports, ...extra, annotations: { [SHARE]: 'dns', ...(extra.annotations ?? {}) } });
    run(
      [pool('p', ['10.0.0.0/29'])],
      [
        { desc: 'A TCP/53 on .5', allocate: k('ns/a', tcp(53), { loadBalancerIP: '10.0.0.5' }), want: { ips: ['10.0.0.5'] } },
        { desc: 'B UDP/53 joins (TCP/53 and UDP/53 can share)', allocate: k('ns/b', [{ protocol: 'UDP', port: 53 }], { loadBalancerIP: '10.0.0.5' }), want: { ips: ['10.0.0.5'] } },
        { desc: 'C TCP/53 again conflicts on the port', allocate: k('ns/c', tcp(53), { loadBalancerIP: '10.0.0.5' }), want: { reason: 'sharingConflict', message: /^port TCP\/53 is already in use on "10\.0\.0\.5" by ns\/a$/ } },
        { desc: 'missing protocol defaults to TCP', allocate: k('ns/c', [{ port: 53 }], { loadBalancerIP: '10.0.0.5' }), want: { reason: 'sharingConflict', message: /TCP\/53/ } },
        { desc: 'D other key', allocate: lb('ns/d', { ports: tcp(80), loadBalancerIP: '10.0.0.5', annotations: { [SHARE]: 'web' } }), want: { reason: 'sharingConflict', message: /address also in use by ns\/a,ns\/b: sharing key "web" does not match existing sharing key "dns"/ } },
        { desc: 'E no key', allocate: lb('ns/e', { ports: tcp(80), loadBalancerIP: '10.0.0.5' }), want: { reason: 'sharingConflict', message: /new service does not allow sharing/ } },
        { desc: 'F Local policy: backend key differs from Cluster', allocate: k('ns/f', tcp(80), { loadBalancerIP: '10.0.0.5', externalTrafficPolicy: 'Local', selector: { app: 'dns' } }), want: { reason: 'sharingConflict', message: /backend key "app=dns" does not match existing backend key ""/ } },
        { desc: 'G Local with an empty selector renders "" and may share with Cluster', allocate: k('ns/g', tcp(80), { loadBalancerIP: '10.0.0.5', externalTrafficPolicy: 'Local', selector: {} }), want: { ips: ['10.0.0.5'] } },
        { desc: 'users of .5', users: '10.0.0.5', want: ['ns/a', 'ns/b', 'ns/g'] },
        { desc: 'H auto with the key: free .0 is lower than the shared .5', allocate: k('ns/h', tcp(8080)), want: { ips: ['10.0.0.0'] } },
        { desc: 'I auto: .0 now shared with key dns, TCP/9090 free there', allocate: k('ns/i', tcp(9090)), want: { ips: ['10.0.0.0'] } },
        { desc: 'J auto: TCP/8080 taken on .0, free on .5 but .1 is lower and free', allocate: k('ns/j', tcp(8080)), want: { ips: ['10.0.0.1'] } },
        { desc: 'K auto TCP/53: conflicts on .5, compatible on .0', allocate: k('ns/k', tcp(53)), want: { ips: ['10.0.0.0'] } },
        { desc: 'L without key never co-locates', allocate: lb('ns/l', { ports: tcp(1) }), want: { ips: ['10.0.0.2'] } },
        { desc: 'Local pair with identical selectors (key order irrelevant)', allocate: lb('ns/m', { ports: tcp(443), externalTrafficPolicy: 'Local', selector: { tier: 'fe', app: 'web' }, annotations: { [SHARE]: 'web' } }), want: { ips: ['10.0.0.3'] } },
        { desc: 'Local pair joins', allocate: lb('ns/n', { ports: tcp(80), externalTrafficPolicy: 'Local', selector: { app: 'web', tier: 'fe' }, annotations: { [SHARE]: 'web' } }), want: { ips: ['10.0.0.3'] } },
        { desc: 'Local with another selector does not co-locate, gets a fresh address', allocate: lb('ns/o', { ports: tcp(81), externalTrafficPolicy: 'Local', selector: { app: 'api' }, annotations: { [SHARE]: 'web' } }), want: { ips: ['10.0.0.4'] } },
        { desc: '... nor can it request .3', allocate: lb('ns/o', { ports: tcp(81), loadBalancerIP: '10.0.0.3', externalTrafficPolicy: 'Local', selector: { app: 'api' }, annotations: { [SHARE]: 'web' } }), want: { reason: 'sharingConflict', message: /backend key "app=api" does not match existing backend key "app=web,tier=fe"/ } },
        { desc: 'a sole user may change its key in place', allocate: lb('ns/o', { ports: tcp(81), loadBalancerIP: '10.0.0.4', annotations: { [SHARE]: 'other' } }), want: { ips: ['10.0.0.4'] } },
        { desc: 'but not when others share the address', allocate: lb('ns/a', { ports: tcp(53), loadBalancerIP: '10.0.0.5', annotations: { [SHARE]: 'changed' } }), want: { reason: 'sharingConflict', message: /can't change sharing key for "ns\/a", address also in use by ns\/b,ns\/g/ } },
        { desc: 'release a: b and g keep .5', release: 'ns/a', want: true },
        { desc: 'users of .5 after release', users: '10.0.0.5', want: ['ns/b', 'ns/g'] },
        { desc: 'release b', release: 'ns/b' },
        { desc: 'release g', release: 'ns/g' },
        { desc: '.5 is free', users: '10.0.0.5', want: [] },
        { desc: 'a key-less Service can take it now', allocate: lb('ns/e', { ports: tcp(80), loadBalancerIP: '10.0.0.5' }), want: { ips: ['10.0.0.5'] } },
      ],
    );
  });

  test('dual-stack: both families from one pool, primary family first', () => {
    run(
      [pool('v4only', ['10.6.0.0/30']), pool('ds', ['10.5.0.0/31', 'fd00::/126'])],
      [
        { desc: 'RequireDualStack skips the v4-only pool', allocate: lb('ns/a', { ipFamilyPolicy: 'RequireDualStack' }), want: { ips: ['10.5.0.0', 'fd00::'], pool: 'ds' } },
        { desc: 'IPv6-primary order', allocate: lb('ns/b', { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6', 'IPv4'] }), want: { ips: ['fd00::1', '10.5.0.1'], pool: 'ds' } },
        { desc: 'family from clusterIPs when ipFamilies is absent', allocate: lb('ns/c', { clusterIPs: ['fd01::10'] }), want: { ips: ['fd00::2'] } },
        { desc: 'v4 of ds exhausted: dual fails although v6 is left', allocate: lb('ns/d', { ipFamilies: ['IPv4', 'IPv6'] }), want: { reason: 'poolExhausted', message: /no available IPs/ } },
        { desc: 'dual into the v4-only pool by annotation', allocate: lb('ns/d', { ipFamilies: ['IPv4', 'IPv6'], annotations: { [POOL]: 'v4only' } }), want: { reason: 'familyMismatch', message: /no ipv6 addresses/ } },
        { desc: 'a v4 Service goes to the first pool', allocate: lb('ns/e'), want: { ips: ['10.6.0.0'], pool: 'v4only' } },
        { desc: 'release a frees both', release: 'ns/a' },
        { desc: 'dual again gets the lowest of each family', allocate: lb('ns/d', { ipFamilies: ['IPv4', 'IPv6'] }), want: { ips: ['10.5.0.0', 'fd00::'] } },
        { desc: 'PreferDualStack without ipFamilies is dual', allocate: lb('ns/f', { ipFamilyPolicy: 'PreferDualStack', annotations: { [IPS]: 'fd00::3,10.6.0.3' } }), want: { reason: 'poolMismatch' } },
        { desc: 'SingleStack with two families is nonsense', allocate: lb('ns/g', { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4', 'IPv6'] }), want: { reason: 'invalidService', message: /SingleStack/ } },
        { desc: 'unknown family', allocate: lb('ns/g', { ipFamilies: ['IPv5'] }), want: { reason: 'invalidService', message: /"IPv5"/ } },
        { desc: 'RequireDualStack with one family', allocate: lb('ns/g', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4'] }), want: { reason: 'invalidService' } },
      ],
    );
  });

  test('setPools: accepted only when every allocation still fits; allocations follow their addresses', () => {
    const base = [pool('a', ['10.0.0.0/30']), pool('b', ['10.0.1.0/30'])];
    run(base, [
      { desc: 'x in a', allocate: lb('ns/x'), want: { ips: ['10.0.0.0'], pool: 'a' } },
      { desc: 'y in b', allocate: lb('ns/y', { annotations: { [POOL]: 'b' } }), want: { ips: ['10.0.1.0'], pool: 'b' } },
      { desc: 'same config again', setPools: base, want: 'ok' },
      { desc: 'grow a', setPools: [pool('a', ['10.0.0.0/29']), pool('b', ['10.0.1.0/30'])], want: 'ok' },
      { desc: 'shrink a keeping .0', setPools: [pool('a', ['10.0.0.0/32']), pool('b', ['10.0.1.0/30'])], want: 'ok' },
      { desc: 'shrunk a is now full', allocate: lb('ns/z', { annotations: { [POOL]: 'a' } }), want: { reason: 'poolExhausted', message: /^no available IPs in pool "a" for ipv4 IPFamily$/ } },
      { desc: 'rename and swap names', setPools: [pool('b', ['10.0.0.0/30']), pool('a', ['10.0.1.0/30'])], want: 'ok' },
      { desc: 'x moved to pool b by membership', holds: 'ns/x', want: { ips: ['10.0.0.0'], pool: 'b' } },
      { desc: 'y moved to pool a', holds: 'ns/y', want: { ips: ['10.0.1.0'], pool: 'a' } },
      { desc: 'removing a used pool is refused, naming the Service and IP', setPools: [pool('b', ['10.0.0.0/30'])], want: /^new config not compatible with assigned IPs: service "ns\/y" cannot own \["10\.0\.1\.0"\] under new config$/ },
      { desc: 'old pools still in effect', allocate: lb('ns/w', { annotations: { [POOL]: 'a' } }), want: { ips: ['10.0.1.1'], pool: 'a' } },
      { desc: 'split a pool', setPools: [pool('b', ['10.0.0.0/31']), pool('b2', ['10.0.0.2/31']), pool('a', ['10.0.1.0/30'])], want: 'ok' },
      { desc: 'auto-assign toggled off only changes the future', setPools: [pool('b', ['10.0.0.0/31'], { autoAssign: false }), pool('b2', ['10.0.0.2/31'], { autoAssign: false }), pool('a', ['10.0.1.0/30'], { autoAssign: false })], want: 'ok' },
      { desc: 'x still holds', holds: 'ns/x', want: { ips: ['10.0.0.0'], pool: 'b' } },
      { desc: 'no auto pools now', allocate: lb('ns/v'), want: { reason: 'autoAssignDisabled' } },
      { desc: 'delete y and w, then a can go', release: 'ns/y' },
      { desc: 'release w', release: 'ns/w' },
      { desc: 'deleting the unused pool', setPools: [pool('b', ['10.0.0.0/31'])], want: 'ok' },
      { desc: 'freed addresses are reusable after reload', allocate: lb('ns/v', { annotations: { [POOL]: 'b' } }), want: { ips: ['10.0.0.1'] } },
      { desc: 'a dual-stack pair must stay in one pool', setPools: [pool('b', ['10.0.0.0/31', 'fd00::/127'])], want: 'ok' },
      { desc: 'dual v', allocate: lb('ns/d', { ipFamilies: ['IPv4', 'IPv6'], loadBalancerIP: '', annotations: { [IPS]: '10.0.0.1,fd00::1' } }), want: { reason: 'sharingConflict' } },
      { desc: 'release v', release: 'ns/v' },
      { desc: 'dual d', allocate: lb('ns/d', { ipFamilies: ['IPv4', 'IPv6'], annotations: { [IPS]: '10.0.0.1,fd00::1' } }), want: { ips: ['10.0.0.1', 'fd00::1'], pool: 'b' } },
      { desc: 'splitting the families apart is refused', setPools: [pool('b', ['10.0.0.0/31']), pool('c', ['fd00::/127'])], want: /service "ns\/d" cannot own \["10\.0\.0\.1" "fd00::1"\]/ },
    ]);
  });

  test('converge: status IPs are claimed, type change and deletion release', () => {
    run(
      [pool('p', ['10.0.0.0/29']), pool('q', ['10.0.1.0/29'], { autoAssign: false })],
      [
        { desc: 'status IP is kept even though it is not the lowest', converge: lb('ns/a', { statusIPs: ['10.0.0.6'] }), want: { ips: ['10.0.0.6'] } },
        { desc: 'a new Service gets the lowest', converge: lb('ns/b'), want: { ips: ['10.0.0.0'] } },
        { desc: 'status outside the pools: cleared and re-allocated', converge: lb('ns/c', { statusIPs: ['192.168.1.1'] }), want: { ips: ['10.0.0.1'] } },
        { desc: 'status in p but annotation asks q: moved', converge: lb('ns/a', { statusIPs: ['10.0.0.6'], annotations: { [POOL]: 'q' } }), want: { ips: ['10.0.1.0'], pool: 'q' } },
        { desc: '.6 was released by the move', converge: lb('ns/d', { statusIPs: ['10.0.0.6'] }), want: { ips: ['10.0.0.6'] } },
        { desc: 'status differs from the requested IP: the request wins', converge: lb('ns/d', { statusIPs: ['10.0.0.6'], loadBalancerIP: '10.0.0.7' }), want: { ips: ['10.0.0.7'] } },
        { desc: 'status of the wrong family is dropped', converge: lb('ns/e', { statusIPs: ['fd00::1'] }), want: { ips: ['10.0.0.2'] } },
        { desc: 'a broken request keeps valid status IPs (MetalLB warns and keeps them)', converge: lb('ns/e', { statusIPs: ['10.0.0.2'], loadBalancerIP: 'oops' }), want: { ips: ['10.0.0.2'] } },
        { desc: 'without status the same broken request is an error', converge: lb('ns/x', { loadBalancerIP: 'oops' }), want: { reason: 'invalidLoadBalancerIP' } },
        { desc: 'type change to NodePort releases', converge: { key: 'ns/b', type: 'NodePort', statusIPs: ['10.0.0.0'] }, want: { ips: [] } },
        { desc: 'b holds nothing', holds: 'ns/b', want: null },
        { desc: 'its address is free again', converge: lb('ns/f'), want: { ips: ['10.0.0.0'] } },
        { desc: 'status IP taken by someone else (older claim wins)', converge: lb('ns/g', { statusIPs: ['10.0.0.0'] }), want: { ips: ['10.0.0.3'] } },
        { desc: 'delete f', release: 'ns/f', want: true },
        { desc: 'ClusterIP Service never holds anything', converge: { key: 'ns/h', type: 'ClusterIP' }, want: { ips: [] } },
      ],
    );
  });

  test('assign: specific addresses, atomic on failure', () => {
    run(
      [pool('p', ['10.0.0.0/29', 'fd00::/125'])],
      [
        { desc: 'assign one', assign: lb('ns/a', { ports: tcp(80) }), ips: ['10.0.0.3'], want: { ips: ['10.0.0.3'], pool: 'p' } },
        { desc: 'assign another to b', assign: lb('ns/b', { ports: tcp(80) }), ips: ['10.0.0.4'], want: { ips: ['10.0.0.4'] } },
        { desc: 'a cannot take b\'s address', assign: lb('ns/a', { ports: tcp(80) }), ips: ['10.0.0.4'], want: { reason: 'sharingConflict' } },
        { desc: 'and keeps its own', holds: 'ns/a', want: { ips: ['10.0.0.3'], pool: 'p' } },
        { desc: 'wrong family for the Service', assign: lb('ns/a'), ips: ['fd00::1'], want: { reason: 'familyMismatch' } },
        { desc: 'not an address', assign: lb('ns/a'), ips: ['10.0.0'], want: { reason: 'invalidService' } },
        { desc: 'three addresses', assign: lb('ns/a', { ipFamilies: ['IPv4', 'IPv6'] }), ips: ['10.0.0.1', 'fd00::1', 'fd00::2'], want: { reason: 'familyMismatch' } },
        { desc: 'dual pair', assign: lb('ns/a', { ipFamilies: ['IPv4', 'IPv6'] }), ips: ['10.0.0.1', 'fd00::1'], want: { ips: ['10.0.0.1', 'fd00::1'] } },
        { desc: 'its old address was released', users: '10.0.0.3', want: [] },
        { desc: 'outside', assign: lb('ns/c'), ips: ['10.0.0.8'], want: { reason: 'notInAnyPool' } },
      ],
    );
  });

  test('IPv6 pools: canonical RFC 5952 text, huge pools, lowest first', () => {
    run(
      [pool('big', ['2001:db8:0:1::/64', '2001:db8::/127']), pool('tiny', ['fd00::ffff/128'])],
      [
        { desc: 'first of the /64', allocate: lb('ns/a', { ipFamilies: ['IPv6'] }), want: { ips: ['2001:db8:0:1::'], pool: 'big' } },
        { desc: 'claim the last address of the /64', allocate: lb('ns/b', { ipFamilies: ['IPv6'], loadBalancerIP: '2001:db8:0:1:ffff:ffff:ffff:ffff' }), want: { ips: ['2001:db8:0:1:ffff:ffff:ffff:ffff'] } },
        { desc: 'next lowest', allocate: lb('ns/c', { ipFamilies: ['IPv6'] }), want: { ips: ['2001:db8:0:1::1'] } },
        { desc: 'uppercase and zero groups are canonicalized', allocate: lb('ns/d', { ipFamilies: ['IPv6'], loadBalancerIP: '2001:DB8:0:0:0:0:0:1' }), want: { ips: ['2001:db8::1'] } },
        { desc: 'zones are not addresses', allocate: lb('ns/e', { ipFamilies: ['IPv6'], loadBalancerIP: 'fe80::1%eth0' }), want: { reason: 'invalidLoadBalancerIP' } },
        { desc: 'the /128 pool', allocate: lb('ns/f', { ipFamilies: ['IPv6'], annotations: { [POOL]: 'tiny' } }), want: { ips: ['fd00::ffff'] } },
        { desc: 'the /128 pool is full', allocate: lb('ns/g', { ipFamilies: ['IPv6'], annotations: { [POOL]: 'tiny' } }), want: { reason: 'poolExhausted' } },
      ],
    );
  });
});
