// parseCluster in a worker thread, for big cluster files: a 10,000-Service `kubectl get -o yaml` dump takes
// 0.5–1.5 s to parse (js-yaml), and on the main thread that time would hold up BGP KEEPALIVEs, the first
// sessions of a starting speaker and /healthz (issue 8 item 11). The result comes back as plain data
// (structured clone), exactly what parseCluster returns on the main thread.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../worker.js';
import { parseCluster, type ClusterResult } from './cluster.js';

/** Below this size the main thread parses at once: a worker costs ~30 ms to start. */
export const WORKER_PARSE_BYTES = 1024 * 1024;

function spawn(text: string): Worker {
  return startWorker(import.meta.url, 'cluster-worker', text);
}

/** Parses off the main thread; falls back to the main thread if no worker can be started. Never rejects. */
export function parseClusterInWorker(text: string): Promise<ClusterResult> {
  return new Promise((resolve) => {
    let w: Worker;
    try {
      w = spawn(text);
    } catch {
      resolve(parseCluster(text));
      return;
    }
    let done = false;
    const finish = (r: ClusterResult) => {
      if (done) return;
      done = true;
      resolve(r);
      void w.terminate().catch(() => undefined);
    };
    w.once('message', (r: ClusterResult) => finish(r));
    w.once('error', (e) => finish({ ok: false, error: `internal error while parsing: ${e instanceof Error ? e.message : String(e)}` }));
    w.once('exit', (code) => finish({ ok: false, error: `internal error: the parser thread exited (code ${code})` }));
  });
}
