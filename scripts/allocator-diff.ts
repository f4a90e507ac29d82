// `node --import tsx scripts/allocator-diff.ts REV [RUNS] [SEED]`: differential check of the allocator in the
// working tree against the one at git revision REV. Both are fed the same random operation sequences
// (allocate, converge, claimStatus, assign, release, setPools; sharing keys, Local policies, ports, dual-stack,
// requested IPs and pools, status IPs) and must return the same results and reach the same state (allocations,
// usage, users of every address) after every operation. For hot-path rewrites that must not change behaviour:
// the property tests check invariants, this checks "exactly what it did before".
//
// REV is checked out into a temporary git worktree and built with tsc there; the worktree is removed at the end.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { REPO_ROOT } from '../test/helpers/cli.js';
import { Allocator } from '../src/allocator/allocator.js';
import type { PoolSpec } from '../src/allocator/types.js';
import { serviceArb, toService } from '../test/helpers/allocator-ops.js';

type AllocatorLike = Pick<
  Allocator,
  'allocate' | 'converge' | 'claimStatus' | 'assign' | 'release' | 'setPools' | 'allocations' | 'usage' | 'usersOf' | 'isEmpty'
>;

const [rev, runsText, seedText] = process.argv.slice(2);
if (rev === undefined) {
  process.stderr.write('usage: node --import tsx scripts/allocator-diff.ts REV [RUNS] [SEED]\n');
  process.exit(2);
}

const POOLSETS: PoolSpec[][] = [
  [
    { name: 'p1', cidrs: ['10.0.0.0/30', 'fd00::/126'], autoAssign: true, avoidBuggyIPs: false, protocol: 'bgp' },
    { name: 'p2', cidrs: ['10.0.1.254/31', '10.0.2.0/31'], autoAssign: true, avoidBuggyIPs: true, protocol: 'layer2' },
    { name: 'p3', cidrs: ['10.0.3.0/30'], autoAssign: false, avoidBuggyIPs: false, protocol: 'bgp' },
  ],
  // A reload that grows and renames p1 and turns auto-assign on for p3; one that shrinks to a /31.
  [
    { name: 'q1', cidrs: ['10.0.0.0/29', 'fd00::/120'], autoAssign: true, avoidBuggyIPs: false, protocol: 'bgp' },
    { name: 'p2', cidrs: ['10.0.1.254/31', '10.0.2.0/31'], autoAssign: true, avoidBuggyIPs: true, protocol: 'layer2' },
    { name: 'p3', cidrs: ['10.0.3.0/30'], autoAssign: true, avoidBuggyIPs: false, protocol: 'bgp' },
  ],
  [{ name: 'p1', cidrs: ['10.0.0.0/31'], autoAssign: true, avoidBuggyIPs: false, protocol: 'bgp' }],
];
const ADDRESSES = ['10.0.0.1', '10.0.0.3', '10.0.0.5', '10.0.1.254', '10.0.2.0', '10.0.3.2', 'fd00::2', 'fd00::9', '192.0.2.1'];
const KEYS = ['a/s0', 'a/s1', 'b/s2', 'b/s3', 'c/s4', 'c/s5', 'd/s6', 'd/s7'];

const serviceArbitrary = serviceArb(KEYS, ADDRESSES, ['p1', 'p2', 'p3', 'q1', 'nope']);

const opArb = fc.oneof(
  { weight: 5, arbitrary: serviceArbitrary.map((svc) => ({ op: 'allocate' as const, svc })) },
  { weight: 3, arbitrary: serviceArbitrary.map((svc) => ({ op: 'converge' as const, svc })) },
  { weight: 2, arbitrary: serviceArbitrary.map((svc) => ({ op: 'claimStatus' as const, svc })) },
  {
    weight: 2,
    arbitrary: fc.tuple(serviceArbitrary, fc.subarray(ADDRESSES, { minLength: 1, maxLength: 2 })).map(([svc, ips]) => ({ op: 'assign' as const, svc, ips })),
  },
  { weight: 3, arbitrary: fc.constantFrom(...KEYS).map((key) => ({ op: 'release' as const, key })) },
  { weight: 1, arbitrary: fc.nat(POOLSETS.length - 1).map((i) => ({ op: 'setPools' as const, i })) },
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

function apply(a: AllocatorLike, o: Op): unknown {
  switch (o.op) {
    case 'allocate':
      return a.allocate(toService(o.svc));
    case 'converge':
      return a.converge(toService(o.svc));
    case 'claimStatus':
      return a.claimStatus(toService(o.svc));
    case 'assign':
      return a.assign(toService(o.svc), o.ips);
    case 'release':
      return a.release(o.key);
    case 'setPools':
      return a.setPools(POOLSETS[o.i]!);
  }
}

function snapshot(a: AllocatorLike): string {
  return JSON.stringify({ allocations: a.allocations(), usage: a.usage(), users: ADDRESSES.map((ip) => a.usersOf(ip)), empty: a.isEmpty() });
}

const dir = mkdtempSync(join(tmpdir(), 'ingot-allocator-diff-'));
const tree = join(dir, 'tree');
execFileSync('git', ['-C', REPO_ROOT, 'worktree', 'add', '--detach', '--quiet', tree, rev], { stdio: 'inherit' });
try {
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(tree, 'node_modules'));
  execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(tree, 'tsconfig.build.json')], { stdio: 'inherit' });
  const old = (await import(pathToFileURL(join(tree, 'dist/allocator/allocator.js')).href)) as { Allocator: new (p: PoolSpec[]) => AllocatorLike };
  let operations = 0;
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 10, maxLength: 120, size: 'max' }), (ops) => {
      const a = new old.Allocator(POOLSETS[0]!);
      const b = new Allocator(POOLSETS[0]!);
      for (const o of ops) {
        const ra = JSON.stringify(apply(a, o));
        const rb = JSON.stringify(apply(b, o));
        if (ra !== rb) throw new Error(`result differs for ${JSON.stringify(o)}:\n  ${rev}: ${ra}\n  tree: ${rb}`);
        const sa = snapshot(a);
        const sb = snapshot(b);
        if (sa !== sb) throw new Error(`state differs after ${JSON.stringify(o)}:\n  ${rev}: ${sa}\n  tree: ${sb}`);
        operations++;
      }
    }),
    { numRuns: Number(runsText ?? 2000), ...(seedText !== undefined ? { seed: Number(seedText) } : {}) },
  );
  process.stdout.write(`the working tree and ${rev} agree on ${operations} operations\n`);
} finally {
  execFileSync('git', ['-C', REPO_ROOT, 'worktree', 'remove', '--force', tree]);
  rmSync(dir, { recursive: true, force: true });
}
