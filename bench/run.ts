// `npm run bench`: runs every bench/*.bench.ts with mitata and writes bench/results/latest.json as
// [{name, ns_per_op, bytes_allocated_per_op}, ...]. Each bench file exports `register(bench)` and calls it
// once per named case, so adding a benchmark never touches this file.
// Run with --expose-gc (package.json does) so mitata can report heap bytes per iteration.
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bench, run, do_not_optimize } from 'mitata';

export type BenchFn = () => unknown;
export interface BenchOptions {
  /**
   * 'inner' (default) collects garbage before every sample, which makes bytes_allocated_per_op exact for
   * small operations. Benchmarks that keep a large heap alive (a filled /16 pool) pay a full collection of
   * that heap per sample under 'inner'; they pass 'once', and their bytes figure is then an average that
   * can include collections.
   */
  gc?: 'inner' | 'once';
}
export type Register = (name: string, fn: BenchFn, opts?: BenchOptions) => void;

interface ResultRow {
  name: string;
  ns_per_op: number;
  p50_ns: number;
  p99_ns: number;
  bytes_allocated_per_op: number | null;
  samples: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2]; // optional substring filter on benchmark names

const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
if (files.length === 0) throw new Error(`no *.bench.ts files in ${here}`);

const names: string[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { register?: (r: Register) => void | Promise<void> };
  if (typeof mod.register !== 'function') throw new Error(`${file} does not export register()`);
  await mod.register((name, fn, opts = {}) => {
    if (only !== undefined && !name.includes(only)) return;
    names.push(name);
    // do_not_optimize keeps the JIT from dropping a result nobody reads.
    bench(name, () => do_not_optimize(fn())).gc(opts.gc ?? 'inner');
  });
}

const out = await run({ format: 'quiet', throw: true });
const rows: ResultRow[] = [];
for (const trial of out.benchmarks) {
  for (const r of trial.runs) {
    const stats = r.stats;
    if (stats === undefined) throw new Error(`benchmark ${r.name} produced no stats: ${String(r.error)}`);
    rows.push({
      name: r.name,
      ns_per_op: round(stats.avg),
      p50_ns: round(stats.p50),
      p99_ns: round(stats.p99),
      bytes_allocated_per_op: stats.heap === undefined ? null : Math.round(stats.heap.avg),
      samples: stats.samples.length,
    });
  }
}
if (rows.length !== names.length) throw new Error(`expected ${names.length} results, got ${rows.length}`);

await mkdir(join(here, 'results'), { recursive: true });
const target = join(here, 'results', only === undefined ? 'latest.json' : 'partial.tmp.json');
await writeFile(target, JSON.stringify(rows, null, 2) + '\n');
const width = Math.max(...rows.map((r) => r.name.length));
for (const r of rows) {
  const heap = r.bytes_allocated_per_op === null ? '' : `  ${r.bytes_allocated_per_op} B/op`;
  process.stdout.write(`${r.name.padEnd(width)}  ${r.ns_per_op.toFixed(1).padStart(12)} ns/op${heap}\n`);
}
process.stdout.write(`wrote ${target}\n`);

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
