// What a bench file registers (see run.ts). Kept apart from run.ts: run.ts imports the bench files from a
// top-level await, so a bench file importing a value from run.ts would wait on itself.
export type BenchFn = () => unknown;

/** A case whose state is built only in the process that measures it. */
export interface LazyCase {
  readonly setup: () => BenchFn;
}

export type Register = (name: string, fn: BenchFn | LazyCase) => void;

export function lazy(setup: () => BenchFn): LazyCase {
  return { setup };
}
