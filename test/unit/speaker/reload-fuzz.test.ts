// Reload fuzzer for standalone mode (issue 8, "close the classes"). Random sequences of what operators and
// kubelets do to the two files — valid rewrites, garbage, truncations, half-written files overwritten before
// they settle, alias bombs, deep nesting, empty files, FIFOs, directories, oversized files, in-place writes,
// rename-replace, and Kubernetes' atomic `..data` symlink swaps — interleaved with watch checks, fake-clock
// time and SIGHUPs. Real files in a temporary directory, a fake clock, a recording fake of the speaker.
// Invariants:
//   - nothing throws out of Standalone (check(), reload(), the timers fired by the clock);
//   - no operation blocks (a blocked read would hang for good; each step gets 5 s of wall time, room for a loaded CI machine);
//   - every state handed to the speaker is the state of a config and a cluster that were each written as a
//     whole, valid, and left in place long enough to settle (or present at a SIGHUP) — never a partial file,
//     never garbage, never an empty file after a non-empty one;
//   - after a final SIGHUP, when both files are valid, the speaker holds exactly their state.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseConfig } from '../../../src/config/index.js';
import { parseCluster } from '../../../src/plan/cluster.js';
import { Standalone } from '../../../src/speaker/standalone.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { CONFIG, cluster, expectedState, recordingSpeaker } from './reload-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'igsp-fuzz-'));
after(() => rmSync(root, { recursive: true, force: true }));

const SETTLE = 250;
const POLL = 1000;
const MAX_BYTES = 64 * 1024;

const CONFIGS = [CONFIG, CONFIG.replace('10.0.0.1', '10.0.0.2'), CONFIG.replace('10.1.0.0/24', '10.1.0.0/28')];
const CLUSTERS = [cluster(['web']), cluster(['web', 'api']), cluster(['a', 'b', 'c']), cluster([])];

const HOSTILE = [
  '',
  '   \n',
  'x: *nope\n',
  `a: &a [1]\nb: [${Array(150).fill('*a').join(',')}]\n`,
  '['.repeat(5000),
  `${'- '.repeat(3000)}x\n`,
  'peers: [{peer-address: nope}]\n',
  'kind: Service\nmetadata: {name: [}\n',
  `${'x'.repeat(MAX_BYTES + 1)}`,
];

type Which = 'config' | 'cluster';
type Op =
  | { op: 'write'; which: Which; how: 'inplace' | 'rename' | 'swap'; text: string }
  | { op: 'partial'; which: Which; text: string; cut: number; gap: number }
  | { op: 'special'; which: Which; kind: 'fifo' | 'dir' | 'missing' }
  | { op: 'advance'; ms: number }
  | { op: 'check' }
  | { op: 'sighup' };

const which = fc.constantFrom<Which>('config', 'cluster');
const textFor = (w: Which) =>
  fc.oneof(
    fc.constantFrom(...(w === 'config' ? CONFIGS : CLUSTERS)),
    fc.constantFrom(...HOSTILE),
    fc.string({ maxLength: 200 }),
    fc.tuple(fc.constantFrom(...(w === 'config' ? CONFIGS : CLUSTERS)), fc.nat()).map(([t, n]) => t.slice(0, n % (t.length + 1))),
  );
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: which.chain((w) => fc.record({ op: fc.constant('write' as const), which: fc.constant(w), how: fc.constantFrom('inplace' as const, 'rename' as const, 'swap' as const), text: textFor(w) })) },
  {
    weight: 2,
    arbitrary: which.chain((w) =>
      fc.record({ op: fc.constant('partial' as const), which: fc.constant(w), text: fc.constantFrom(...(w === 'config' ? CONFIGS : CLUSTERS)), cut: fc.nat(), gap: fc.integer({ min: 0, max: SETTLE - 1 }) }),
    ),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('special' as const), which, kind: fc.constantFrom('fifo' as const, 'dir' as const, 'missing' as const) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3 * POLL }) }) },
  { weight: 2, arbitrary: fc.constant({ op: 'check' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'sighup' as const }) },
);

let run = 0;

/** A kubelet-style mount: dir/{config,cluster} -> ..data/{config,cluster}, ..data -> ..<n>. */
class Mount {
  private n = 0;
  readonly texts: Record<Which, string | null> = { config: CONFIGS[0]!, cluster: CLUSTERS[0]! };
  constructor(readonly dir: string) {
    this.swap();
    for (const w of ['config', 'cluster'] as const) symlinkSync(join('..data', w), join(dir, w));
  }
  get data(): string {
    return join(this.dir, `..v${this.n}`);
  }
  /** A new timestamped directory with the current texts, then an atomic ..data swap. */
  swap(special?: { which: Which; kind: 'fifo' | 'dir' | 'missing' }): void {
    this.n++;
    mkdirSync(this.data);
    for (const w of ['config', 'cluster'] as const) {
      const p = join(this.data, w);
      if (special?.which === w) {
        if (special.kind === 'fifo') execFileSync('mkfifo', [p]);
        else if (special.kind === 'dir') mkdirSync(p);
        continue;
      }
      const t = this.texts[w];
      if (t !== null) writeFileSync(p, t);
    }
    symlinkSync(`..v${this.n}`, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
  }
  write(w: Which, how: 'inplace' | 'rename' | 'swap', text: string): void {
    this.texts[w] = text;
    if (how === 'swap') return this.swap();
    const p = join(this.data, w);
    // In place only over a regular file (opening a FIFO for writing would block this test until a reader came).
    if (how === 'inplace' && existsSync(p) && lstatSync(p).isFile()) {
      writeFileSync(p, text);
      return;
    }
    rmSync(`${p}.tmp`, { recursive: true, force: true });
    writeFileSync(`${p}.tmp`, text);
    rmSync(p, { recursive: true, force: true });
    renameSync(`${p}.tmp`, p);
  }
}

function valid(w: Which, text: string | null): boolean {
  if (text === null || text.trim() === '' || text.length > MAX_BYTES) return false;
  return w === 'config' ? parseConfig(text).ok : parseCluster(text).ok;
}

function stateKey(config: string, clusterText: string): string {
  const st = expectedState(config, clusterText);
  return JSON.stringify([st.peers, st.prefixes]);
}

function runOps(ops: Op[]): void {
  const dir = join(root, `r${run++}`);
  mkdirSync(dir);
  const m = new Mount(dir);
  const clock = new FakeClock();
  const rec = recordingSpeaker();
  const s = new Standalone({
    nodeName: 'n1',
    configFile: join(dir, 'config'),
    clusterFile: join(dir, 'cluster'),
    agent: rec.agent,
    clock,
    watch: false,
    settleMs: SETTLE,
    pollMs: POLL,
    maxConfigBytes: MAX_BYTES,
    maxClusterBytes: MAX_BYTES,
  });
  assert.equal(s.start(), null);
  // Texts each file held, valid, long enough to be read: the only ones whose states may be announced.
  const settled: Record<Which, Set<string>> = { config: new Set([m.texts.config!]), cluster: new Set([m.texts.cluster!]) };
  const since: Record<Which, number> = { config: 0, cluster: 0 };
  const noteSettled = (force: boolean) => {
    for (const w of ['config', 'cluster'] as const) {
      const t = m.texts[w];
      if ((force || clock.now() - since[w] >= SETTLE) && valid(w, t)) settled[w].add(t!);
    }
  };
  const changed = (w: Which) => (since[w] = clock.now());
  const allowed = () => {
    const keys = new Set<string>();
    for (const c of settled.config) for (const k of settled.cluster) keys.add(stateKey(c, k));
    return keys;
  };
  const key = () => {
    const last = rec.calls.at(-1)!;
    return JSON.stringify([last.peers.map((p) => p.peerAddress), last.routes.map((r) => r.prefix).sort()]);
  };
  try {
    for (const op of ops) {
      const t0 = performance.now();
      // Time passing before this op lets what is on disk settle.
      assert.doesNotThrow(() => {
        switch (op.op) {
          case 'write':
            m.write(op.which, op.how, op.text);
            changed(op.which);
            break;
          case 'partial': {
            // Written in two steps, the first half checked and left for less than the settle period.
            m.write(op.which, 'inplace', op.text.slice(0, op.cut % (op.text.length + 1)));
            changed(op.which);
            s.check();
            clock.advance(op.gap);
            // The gap is time passing for the other file too: it may have settled meanwhile (and been read).
            noteSettled(false);
            m.write(op.which, 'inplace', op.text);
            changed(op.which);
            s.check();
            break;
          }
          case 'special':
            m.texts[op.which] = null;
            m.swap({ which: op.which, kind: op.kind });
            changed(op.which);
            break;
          case 'advance':
            // A file is "settled" for the model only if it stays put past a whole settle period from here.
            if (op.ms >= SETTLE + POLL) noteSettled(false);
            clock.advance(op.ms);
            noteSettled(false);
            break;
          case 'check':
            s.check();
            break;
          case 'sighup':
            noteSettled(true);
            s.reload('SIGHUP');
            break;
        }
      }, `${op.op} threw`);
      const took = performance.now() - t0;
      assert.ok(took < 5000, `${op.op} took ${took.toFixed(0)} ms`);
      assert.ok(allowed().has(key()), `announced a state no settled valid pair of files gives, after ${JSON.stringify(op).slice(0, 200)}`);
    }
    // Convergence: SIGHUP reads what is there now; when both are valid the speaker holds exactly their state.
    s.reload('SIGHUP');
    if (valid('config', m.texts.config) && valid('cluster', m.texts.cluster)) {
      assert.equal(key(), stateKey(m.texts.config!, m.texts.cluster!));
      assert.equal(s.stale.size, 0);
    } else {
      assert.ok(s.stale.size > 0, 'a bad file is reported');
      noteSettled(true);
      assert.ok(allowed().has(key()));
    }
  } finally {
    s.close();
  }
}

describe('standalone reload fuzzer', () => {
  it('random operations on both files never throw, block, or announce a state no complete valid file gives', { timeout: 600_000 }, () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
        runs++;
        runOps(ops);
      }),
      { numRuns: Number(process.env['INGOT_FUZZ_RUNS'] ?? 150), seed: Number(process.env['INGOT_FUZZ_SEED'] ?? Date.now() % 2 ** 31) },
    );
    assert.ok(runs >= 10, `only ${runs} runs`);
  });
});
