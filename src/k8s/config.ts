// Where the API server is and who we are to it (../shared/spec/cli.md "Kubernetes mode"):
// `--kubeconfig FILE`, else `$KUBECONFIG` (colon-separated files merged, first wins, as kubectl does), else the
// in-cluster service account (token, CA and namespace files under /var/run/secrets/kubernetes.io/serviceaccount,
// server from KUBERNETES_SERVICE_HOST/PORT). Every path and the environment are injectable for tests.
//
// Checked here, at startup, with precise errors: the file exists and parses, the current context, its cluster
// and user exist, the server is an http(s) URL, and a plain `http://` server is accepted only with
// `insecure-skip-tls-verify: true` — kubectl's rule. No DNS lookup happens here: the server name is resolved by
// the first request, so a namespace without a resolver can still start (cli.md).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isIPv6 } from 'node:net';
import { IngotKubeConfig } from './rest.js';

export const DEFAULT_NAMESPACE = 'ingot-system';
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface InClusterPaths {
  tokenFile: string;
  caFile: string;
  namespaceFile: string;
}

export const DEFAULT_IN_CLUSTER_PATHS: InClusterPaths = Object.freeze({
  tokenFile: `${SERVICE_ACCOUNT_DIR}/token`,
  caFile: `${SERVICE_ACCOUNT_DIR}/ca.crt`,
  namespaceFile: `${SERVICE_ACCOUNT_DIR}/namespace`,
});

export interface ClusterAccessOptions {
  /** `--kubeconfig FILE`. */
  kubeconfig?: string;
  /** `--namespace NS`. */
  namespace?: string;
  /** Environment (KUBECONFIG, KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  inCluster?: InClusterPaths;
}

export interface ClusterAccess {
  readonly kubeConfig: IngotKubeConfig;
  readonly server: string;
  /** Where the ConfigMap, the Lease and the memberlist Secret live. */
  readonly namespace: string;
  /** How the access was found, for the startup log line. */
  readonly source: { kind: 'flag' | 'env' | 'in-cluster'; files: readonly string[] };
}

export class ClusterAccessError extends Error {
  override name = 'ClusterAccessError';
}

export function loadClusterAccess(opts: ClusterAccessOptions = {}): ClusterAccess {
  const env = opts.env ?? process.env;
  const paths = opts.inCluster ?? DEFAULT_IN_CLUSTER_PATHS;
  let kc: IngotKubeConfig;
  let source: ClusterAccess['source'];
  if (opts.kubeconfig !== undefined && opts.kubeconfig !== '') {
    kc = fromFiles([opts.kubeconfig], '--kubeconfig');
    source = { kind: 'flag', files: [opts.kubeconfig] };
  } else if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== '') {
    const files = env.KUBECONFIG.split(path.delimiter).filter((f) => f !== '');
    kc = fromFiles(files, '$KUBECONFIG');
    source = { kind: 'env', files };
  } else {
    kc = inCluster(env, paths);
    source = { kind: 'in-cluster', files: [paths.tokenFile, paths.caFile] };
  }
  const server = validate(kc, source.kind === 'in-cluster' ? 'in-cluster config' : `kubeconfig ${source.files.join(path.delimiter)}`);
  return { kubeConfig: kc, server, namespace: resolveNamespace(opts.namespace, paths.namespaceFile), source };
}

/** `--namespace`, else the service account's namespace file, else `ingot-system` (cli.md). */
export function resolveNamespace(flag: string | undefined, namespaceFile: string): string {
  if (flag !== undefined && flag !== '') return flag;
  try {
    const ns = fs.readFileSync(namespaceFile, 'utf8').trim();
    if (ns !== '') return ns;
  } catch {
    // not in a pod (or no service account mounted): the documented default
  }
  return DEFAULT_NAMESPACE;
}

function fromFiles(files: readonly string[], what: string): IngotKubeConfig {
  if (files.length === 0) throw new ClusterAccessError(`${what}: no file named`);
  const merged = new IngotKubeConfig();
  merged.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: '' });
  for (const file of files) {
    const one = new IngotKubeConfig();
    try {
      one.loadFromFile(file);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new ClusterAccessError(`${what}: cannot load ${file}: ${msg}`);
    }
    // kubectl's merge: the first file that sets a name (or current-context) wins.
    for (const c of one.clusters ?? []) if (!merged.clusters.some((x) => x.name === c.name)) merged.clusters.push(c);
    for (const u of one.users ?? []) if (!merged.users.some((x) => x.name === u.name)) merged.users.push(u);
    for (const c of one.contexts ?? []) if (!merged.contexts.some((x) => x.name === c.name)) merged.contexts.push(c);
    if (!merged.currentContext && one.currentContext) merged.setCurrentContext(one.currentContext);
  }
  return merged;
}

function inCluster(env: Readonly<Record<string, string | undefined>>, paths: InClusterPaths): IngotKubeConfig {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new ClusterAccessError('no cluster access: give --kubeconfig FILE or set $KUBECONFIG (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are unset, so this is not a pod)');
  }
  for (const [what, file] of [['token', paths.tokenFile], ['CA certificate', paths.caFile]] as const) {
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch {
      throw new ClusterAccessError(`in-cluster config: service account ${what} ${file} is not readable`);
    }
  }
  const kc = new IngotKubeConfig();
  // Always https, as client-go's InClusterConfig: the API server never serves the service account plain.
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  kc.loadFromOptions({
    clusters: [{ name: 'in-cluster', server, caFile: paths.caFile, skipTLSVerify: false }],
    // A custom provider (not client-node's `tokenFile` one) so the token is trimmed and re-read every minute:
    // projected service account tokens rotate (client-go re-reads them the same way).
    users: [{ name: 'service-account', authProvider: { name: TOKEN_PROVIDER, config: { path: paths.tokenFile } } }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'service-account' }],
    currentContext: 'in-cluster',
  });
  kc.addAuthenticator(new TokenFileAuthenticator());
  return kc;
}

const TOKEN_PROVIDER = 'ingot-service-account-token';

class TokenFileAuthenticator {
  private token = '';
  private readAt = -Infinity;

  isAuthProvider(user: { authProvider?: { name?: string } }): boolean {
    return user.authProvider?.name === TOKEN_PROVIDER;
  }

  async applyAuthentication(user: { authProvider?: { config?: Record<string, string> } }, opts: { headers?: Record<string, unknown> }): Promise<void> {
    const file = user.authProvider?.config?.path;
    if (!file) return;
    const now = performance.now();
    if (now - this.readAt > 60_000) {
      this.token = (await fs.promises.readFile(file, 'utf8')).trim();
      this.readAt = now;
    }
    opts.headers ??= {};
    opts.headers.Authorization = `Bearer ${this.token}`;
  }
}

function validate(kc: IngotKubeConfig, where: string): string {
  const ctxName = kc.getCurrentContext();
  if (!ctxName) throw new ClusterAccessError(`${where}: no current-context`);
  const ctx = kc.getContextObject(ctxName);
  if (!ctx) throw new ClusterAccessError(`${where}: current-context "${ctxName}" is not defined`);
  const cluster = kc.getCluster(ctx.cluster);
  if (!cluster) throw new ClusterAccessError(`${where}: context "${ctxName}" names cluster "${ctx.cluster}", which is not defined`);
  if (ctx.user && !kc.getUser(ctx.user)) throw new ClusterAccessError(`${where}: context "${ctxName}" names user "${ctx.user}", which is not defined`);
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw new ClusterAccessError(`${where}: cluster "${cluster.name}": server ${JSON.stringify(cluster.server)} is not a URL`);
  }
  if (url.protocol === 'http:' && !cluster.skipTLSVerify) {
    throw new ClusterAccessError(`${where}: cluster "${cluster.name}": plain http server ${cluster.server} needs insecure-skip-tls-verify: true (as kubectl requires)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ClusterAccessError(`${where}: cluster "${cluster.name}": server ${cluster.server} is not http(s)`);
  }
  return cluster.server;
}
