// Worker entry of parseClusterInWorker (cluster-async.ts): parses the text it is given and posts the result.
import { parentPort, workerData } from 'node:worker_threads';
import { parseCluster, type ClusterResult } from './cluster.js';

let result: ClusterResult;
try {
  result = parseCluster(String(workerData));
} catch (e) {
  // parseCluster never throws; this is for what it could not foresee.
  result = { ok: false, error: `internal error: ${e instanceof Error ? e.message : String(e)}` };
}
parentPort?.postMessage(result);
