// `npm run bench [FILTER]`: runs every bench/*.bench.ts with mitata and writes bench/results/latest.json as
// [{name, ns_per_op, avg_ns, p99_ns, bytes_allocated_per_op, samples}, ...] (with FILTER, only the cases
// whose name contains it, to bench/results/partial.tmp.json). Each bench file exports `register(bench)` and
// calls it once per named case, so adding a benchmark never touches this file. A case whose state is big
// registers `lazy(setup)`: setup runs only in the process that measures that case.
//
// Every case runs in child processes of its own, twice (one process per case: a case that keeps a filled /16
// alive made the GC of every other case in the same process slower):
// - time: mitata with its default GC policy (one collection before each case, none between samples).
//   Forcing a GC before every sample adds a floor of ~10 ns per call on this machine and cuts the sample
//   count, which swamps sub-microsecond codec operations; and sharing one process between files lets one
//   file's heap and JIT state slow another's cases (the allocator's filled /16s doubled the codec's
//   KEEPALIVE time). `ns_per_op` is the median of mitata's samples (each the mean of a batch of calls),
//   robust when another process takes the CPU for one batch; the mean is kept as `avg_ns`.
// - bytes: each case alone between forced collections, with a fixed 64 MiB young generation;
//   `bytes_allocated_per_op` is the growth of V8's used heap per call, the median of five rounds of 4+ MiB (or 100,000 calls).
//   The heap grows in whole allocation buffers, so a round must allocate far more than one buffer, and no
//   scavenge may run inside it (it would hide allocation); those heap flags would distort the timing pass.
import { execFileSync } from 'node:child_process';
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { getHeapStatistics } from 'node:v8';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bench, run, do_not_optimize } from 'mitata';

import type { BenchFn, Register } from './case.js';
export type { BenchFn, Register } from './case.js';

interface ResultRow {
  name: string;
  ns_per_op: number;
  avg_ns: number;
  p99_ns: number;
  bytes_allocated_per_op: number | null;
  samples: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);
const [mode, arg1, arg2] = process.argv.slice(2);
/** Readers of every case's last result (see sink): they keep the results observable. */
const keepers: Array<() => unknown> = [];

if (mode === '--list' && arg1 !== undefined) {
  process.stdout.write(JSON.stringify(await listFile(arg1, arg2)));
} else if (mode === '--time' && arg1 !== undefined) {
  process.stdout.write(JSON.stringify(await timeFile(arg1, arg2)));
} else if (mode === '--bytes' && arg1 !== undefined) {
  process.stdout.write(JSON.stringify(await bytesFile(arg1, arg2)));
} else {
  await main(mode);
}

async function main(only: string | undefined): Promise<void> {
  const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
  if (files.length === 0) throw new Error(`no *.bench.ts files in ${here}`);
  const rows: ResultRow[] = [];
  for (const file of files) {
    const names = child<string[]>([], ['--list', file, ...(only === undefined ? [] : [only])]);
    for (const name of names) {
      const timed = child<ResultRow[]>([], ['--time', file, `=${name}`]);
      const bytes = child<Record<string, number | null>>(
        ['--min-semi-space-size=64', '--max-semi-space-size=64'],
        ['--bytes', file, `=${name}`],
      );
      for (const row of timed) rows.push({ ...row, bytes_allocated_per_op: bytes[row.name] ?? null });
    }
  }
  if (rows.length === 0) throw new Error(`no benchmark matches ${JSON.stringify(only)}`);

  await mkdir(join(here, 'results'), { recursive: true });
  const target = join(here, 'results', only === undefined ? 'latest.json' : 'partial.tmp.json');
  await writeFile(target, JSON.stringify(rows, null, 2) + '\n');
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    const heap = r.bytes_allocated_per_op === null ? '' : `  ${r.bytes_allocated_per_op} B/op`;
    process.stdout.write(`${r.name.padEnd(width)}  ${r.ns_per_op.toFixed(1).padStart(12)} ns/op (mean ${r.avg_ns.toFixed(1)})${heap}\n`);
  }
  process.stdout.write(`wrote ${target}\n`);
}

/** Runs this file in a child Node with `flags` (plus --expose-gc and tsx) and parses its JSON stdout. */
function child<T>(flags: string[], args: string[]): T {
  const out = execFileSync(process.execPath, ['--expose-gc', ...flags, '--import', 'tsx', self, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  return JSON.parse(out) as T;
}

/** `only`: a substring of the names to run, or "=name" for exactly one. */
function selected(name: string, only: string | undefined): boolean {
  if (only === undefined) return true;
  return only.startsWith('=') ? name === only.slice(1) : name.includes(only);
}

/** The selected cases of a file, set up (`setup`: false only lists names, building no lazy state). */
async function loadCases(file: string, only: string | undefined, setup = true): Promise<Map<string, BenchFn>> {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { register?: (r: Register) => void | Promise<void> };
  if (typeof mod.register !== 'function') throw new Error(`${file} does not export register()`);
  const cases = new Map<string, BenchFn>();
  const none: BenchFn = () => undefined;
  await mod.register((name, fn) => {
    if (!selected(name, only)) return;
    if (cases.has(name)) throw new Error(`benchmark ${name} registered twice`);
    cases.set(name, typeof fn === 'function' ? fn : setup ? fn.setup() : none);
  });
  return cases;
}

async function listFile(file: string, only: string | undefined): Promise<string[]> {
  return [...(await loadCases(file, only, false)).keys()];
}

async function timeFile(file: string, only: string | undefined): Promise<ResultRow[]> {
  const cases = await loadCases(file, only);
  if (cases.size === 0) return [];
  for (const [name, fn] of cases) bench(name, sink(fn));
  const out = await run({ format: 'quiet', throw: true });
  const rows: ResultRow[] = [];
  for (const trial of out.benchmarks) {
    for (const r of trial.runs) {
      const stats = r.stats;
      if (stats === undefined) throw new Error(`benchmark ${r.name} produced no stats: ${String(r.error)}`);
      rows.push({
        name: r.name,
        ns_per_op: round(stats.p50),
        avg_ns: round(stats.avg),
        p99_ns: round(stats.p99),
        bytes_allocated_per_op: null,
        samples: stats.samples.length,
      });
    }
  }
  if (rows.length !== cases.size) throw new Error(`${file}: expected ${cases.size} results, got ${rows.length}`);
  return rows;
}

async function bytesFile(file: string, only: string | undefined): Promise<Record<string, number | null>> {
  const cases = await loadCases(file, only);
  const bytes: Record<string, number | null> = {};
  for (const [name, fn] of cases) bytes[name] = bytesPerCall(fn);
  return bytes;
}

/**
 * The function mitata times for one case: calls `fn` and stores its result where the JIT cannot prove it
 * unused (a context slot of this wrapper, read by a keeper), so a pure computation cannot be dropped. The
 * wrapper is compiled separately for every case (new Function): its call to `fn` stays monomorphic and is
 * inlined, where one shared wrapper would make a megamorphic call costing as much as a KEEPALIVE encode.
 */
function sink(fn: BenchFn): BenchFn {
  const make = new Function('fn', 'keepers', 'let kept; keepers.push(() => kept); return function measured() { kept = fn(); };') as (
    f: BenchFn,
    k: Array<() => unknown>,
  ) => BenchFn;
  return make(fn, keepers);
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Heap growth per call (median of rounds); null when GC is not exposed. */
function bytesPerCall(fn: BenchFn): number | null {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return null;
  // ArrayBuffer backing stores live outside the V8 heap (external memory): count them, or every encoder that
  // allocates its output would look free.
  const used = (): number => getHeapStatistics().used_heap_size + process.memoryUsage().arrayBuffers;
  // The loop is compiled for this case alone (like sink): a shared loop would call `fn` megamorphically,
  // and an un-inlined call can allocate (boxed results, arguments) where the timed path does not.
  const loop = new Function('fn', 'keep', 'return function loop(n) { for (let i = 0; i < n; i++) keep(fn()); };')(fn, do_not_optimize) as (
    n: number,
  ) => void;
  const roundOf = (calls: number): number => {
    gc();
    const h0 = used();
    loop(calls);
    return Math.max(0, used() - h0) / calls;
  };
  // Warm up first (about 100 ms), so compilation and feedback allocation are not counted; then a short
  // probe: a case that allocates megabytes per call must not set off a collection inside a round.
  const until = performance.now() + 100;
  while (performance.now() < until) loop(64);
  // used_heap_size moves by ~50-150 KiB per round whatever the case does, so a round must allocate far
  // more than that: double the call count until a round allocates 1 MiB (or 100,000 calls allocate less).
  let calls = 4;
  while (calls < 100_000 && roundOf(calls) * calls < 1 << 20) calls *= 2;
  calls = Math.min(calls * 4, 100_000);
  const perRound: number[] = [];
  for (let r = 0; r < 5; r++) perRound.push(roundOf(calls));
  perRound.sort((a, b) => a - b);
  return Math.round(perRound[2]!);
}
