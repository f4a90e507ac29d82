// Starting a worker thread from a module that runs either as TypeScript source under tsx (tests, scripts) or
// compiled under dist/ (bin/ingot, the image). On Node 20 a worker does not inherit the `--import tsx` hooks,
// so under tsx the worker first registers them and then loads the .ts source; compiled, it loads the .js file.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * `base` is the caller's `import.meta.url`; `name` the worker module beside it, without extension
 * (`member-worker`). Throws what `new Worker` throws.
 */
export function startWorker(base: string, name: string, workerData: unknown): Worker {
  if (base.endsWith('.ts')) {
    const url = new URL(`./${name}.ts`, base).href;
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`;
    return new Worker(boot, { eval: true, workerData });
  }
  return new Worker(new URL(`./${name}.js`, base), { workerData });
}

/**
 * The `node` arguments that run the module `name` beside `base` as a child process: the .ts source under tsx
 * (resolved to an absolute URL, so the child's working directory does not matter), else the compiled .js.
 */
export function childModuleArgs(base: string, name: string): string[] {
  if (base.endsWith('.ts')) return ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL(`./${name}.ts`, base))];
  return [fileURLToPath(new URL(`./${name}.js`, base))];
}
