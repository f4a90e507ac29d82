// Cluster-file parsing (issue 8 item 11): 10,000 LoadBalancer Services with one EndpointSlice each, laid out
// as `kubectl get -o yaml` / `-o json` print them (bench/cluster-file.ts; ~10 MB of YAML, ~24 MB of JSON
// with kubectl's 4-space indentation). One op = parseCluster of the whole file. The `yaml` package took
// ~5.6 s for such a file; the cluster parser now reads YAML with js-yaml and JSON with JSON.parse.
import { lazy, type Register } from './case.js';
import { clusterJson, clusterYaml } from './cluster-file.js';
import { parseCluster } from '../src/plan/cluster.js';

function parser(text: string): () => unknown {
  return () => {
    const r = parseCluster(text);
    if (!r.ok || r.cluster.services.length !== 10_000) throw new Error(`bench parse failed: ${r.ok ? r.cluster.services.length : r.error}`);
    return r;
  };
}

export function register(bench: Register): void {
  bench('cluster.parse.yaml.10000', lazy(() => parser(clusterYaml(10_000))));
  bench('cluster.parse.json.10000', lazy(() => parser(clusterJson(10_000))));
}
