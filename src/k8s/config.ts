// Where the API server is and who we are to it (../shared/spec/cli.md "Kubernetes mode"):
// `--kubeconfig FILE`, else `$KUBECONFIG` (colon-separated files merged, first wins, as kubectl does), else the
// in-cluster service account (token, CA and namespace files under /var/run/secrets/kubernetes.io/serviceaccount,
// server from KUBERNETES_SERVICE_HOST/PORT). Every path and the environment are injectable for tests.
//
// Checked at startup, with precise errors: the file exists and parses, the current context, its cluster and
// user exist, the server is an http(s) URL, and a plain `http://` server is accepted only with
// `insecure-skip-tls-verify: true` — kubectl's rule. No DNS lookup happens here: the server name is resolved by
// the first request, so a namespace without a resolver can still start (cli.md).
//
// Kubeconfig files are read by client-node in a short-lived child process (kubeconfig-helper.ts; why: its
// header). The in-cluster service account needs no library: a CA file and a token file, read here.
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isIPv6 } from 'node:net';
import { childModuleArgs } from '../worker.js';
import type { HelperRequest, ResolvedKubeconfig } from './kubeconfig-helper.js';

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
  /** Default REFRESH_MIN_INTERVAL_MS; tests lower it. */
  refreshMinIntervalMs?: number;
}

/** TLS material for the connection pool (PEM text). */
export interface TlsOptions {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly rejectUnauthorized: boolean;
  readonly servername?: string;
}

export interface ClusterAccess {
  /** The API server's base URL, no trailing slash. */
  readonly server: string;
  /** Where the ConfigMap, the Lease and the memberlist Secret live. */
  readonly namespace: string;
  /** How the access was found, for the startup log line. */
  readonly source: { kind: 'flag' | 'env' | 'in-cluster'; files: readonly string[] };
  readonly tls: TlsOptions;
  /** The headers every request carries now (Authorization, Impersonate-User). Never throws. */
  headers(): Promise<Readonly<Record<string, string>>>;
  /**
   * The server answered 401: credentials that can change (a rotated token file, an exec plugin's token) are
   * fetched again before the next request — at most once per `REFRESH_MIN_INTERVAL_MS`.
   */
  unauthorized(): void;
}

export class ClusterAccessError extends Error {
  override name = 'ClusterAccessError';
}

/** How often a token file is re-read (client-go re-reads projected service account tokens every minute). */
export const TOKEN_FILE_REREAD_MS = 60_000;
/** A 401 storm must not become a storm of plugin runs. */
export const REFRESH_MIN_INTERVAL_MS = 10_000;

export function loadClusterAccess(opts: ClusterAccessOptions = {}): ClusterAccess {
  const env = opts.env ?? process.env;
  const paths = opts.inCluster ?? DEFAULT_IN_CLUSTER_PATHS;
  const namespace = resolveNamespace(opts.namespace, paths.namespaceFile);
  const minInterval = opts.refreshMinIntervalMs ?? REFRESH_MIN_INTERVAL_MS;
  if (opts.kubeconfig !== undefined && opts.kubeconfig !== '') {
    return fromKubeconfig({ files: [opts.kubeconfig], what: '--kubeconfig' }, namespace, 'flag', minInterval);
  }
  if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== '') {
    const files = env.KUBECONFIG.split(path.delimiter).filter((f) => f !== '');
    return fromKubeconfig({ files, what: '$KUBECONFIG' }, namespace, 'env', minInterval);
  }
  return inCluster(env, paths, namespace, minInterval);
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

const HELPER_TIMEOUT_MS = 60_000;

function helperArgs(req: HelperRequest): string[] {
  return [...childModuleArgs(import.meta.url, 'kubeconfig-helper'), JSON.stringify(req)];
}

function parseHelperOutput(req: HelperRequest, stdout: string, failure: string | undefined): ResolvedKubeconfig {
  let out: ResolvedKubeconfig | { error: string } | undefined;
  try {
    out = JSON.parse(stdout.trim().split('\n').pop() ?? '') as ResolvedKubeconfig | { error: string };
  } catch {
    out = undefined;
  }
  if (out === undefined) throw new ClusterAccessError(`${req.what}: could not run the kubeconfig resolver${failure ? `: ${failure}` : ''}`);
  if ('error' in out) throw new ClusterAccessError(out.error);
  return out;
}

/** Runs the helper and waits (startup only: nothing else is running yet). */
function resolveSync(req: HelperRequest): ResolvedKubeconfig {
  const r = spawnSync(process.execPath, helperArgs(req), { encoding: 'utf8', timeout: HELPER_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 });
  const failure = r.error?.message ?? (r.status !== 0 ? `exit ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().slice(-300)}` : undefined);
  return parseHelperOutput(req, r.stdout ?? '', failure);
}

function resolveAsync(req: HelperRequest): Promise<ResolvedKubeconfig> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, helperArgs(req), { encoding: 'utf8', timeout: HELPER_TIMEOUT_MS, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      try {
        resolve(parseHelperOutput(req, stdout, err ? `${err.message} ${stderr.trim().slice(-300)}` : undefined));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

function fromKubeconfig(req: HelperRequest, namespace: string, kind: 'flag' | 'env', minInterval: number): ClusterAccess {
  if (req.files.length === 0) throw new ClusterAccessError(`${req.what}: no file named`);
  let current = resolveSync(req);
  let stale = false;
  let lastRefresh = performance.now();
  let refreshing: Promise<void> | undefined;
  return {
    server: current.server,
    namespace,
    source: { kind, files: req.files },
    tls: current.tls,
    async headers() {
      if (stale && current.expiring && refreshing === undefined) {
        stale = false;
        lastRefresh = performance.now();
        // TLS material stays as resolved at startup (the pool is built from it); only the headers change.
        refreshing = resolveAsync(req).then(
          (fresh) => void (current = { ...current, headers: fresh.headers }),
          () => undefined, // keep the old headers: the next 401 tries again
        );
        await refreshing;
        refreshing = undefined;
      } else if (refreshing !== undefined) {
        await refreshing;
      }
      return current.headers;
    },
    unauthorized() {
      if (performance.now() - lastRefresh >= minInterval) stale = true;
    },
  };
}

function inCluster(env: Readonly<Record<string, string | undefined>>, paths: InClusterPaths, namespace: string, minInterval: number): ClusterAccess {
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
  // Always https, as client-go's InClusterConfig: the API server never serves the service account plain.
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  // Projected service account tokens rotate: the file is re-read every minute, and at once after a 401.
  let token = '';
  let readAt = -Infinity;
  let lastForced = -Infinity;
  return {
    server,
    namespace,
    source: { kind: 'in-cluster', files: [paths.tokenFile, paths.caFile] },
    tls: { ca: fs.readFileSync(paths.caFile, 'utf8'), rejectUnauthorized: true },
    async headers(): Promise<Readonly<Record<string, string>>> {
      const now = performance.now();
      if (now - readAt >= TOKEN_FILE_REREAD_MS) {
        try {
          token = (await fs.promises.readFile(paths.tokenFile, 'utf8')).trim();
          readAt = now;
        } catch {
          // keep the last token; the file is swapped atomically by the kubelet, a failed read is transient
        }
      }
      return token === '' ? {} : { Authorization: `Bearer ${token}` };
    },
    unauthorized() {
      const now = performance.now();
      if (now - lastForced < minInterval) return;
      lastForced = now;
      readAt = -Infinity;
    },
  };
}
