// The kubeconfig resolver: a short-lived child process, and the only importer of @kubernetes/client-node.
//
// Why a child process: importing client-node 2.0.2 keeps ~85 MiB resident for the life of a process (its
// `KubeConfig` imports all 2,742 generated model classes, plus undici), and a worker thread that loads it
// still leaves ~32 MiB behind after it exits (measured; see README.md). The speaker's whole budget is 100 MB.
// So client-node does here what it is good at — kubeconfig semantics: files merged as kubectl does, contexts,
// exec credential plugins, auth providers, client certificates, CA files and data, tls-server-name,
// insecure-skip-tls-verify — and hands back plain TLS material and request headers. The component runs this
// once at startup (synchronously) and again when the API server answers 401 and the user's credentials come
// from a plugin (config.ts).
//
// Protocol: argv[2] is JSON `{files: string[], what: string}`; stdout gets one JSON line, a ResolvedKubeconfig
// or `{error}`; the exit code is 0 either way (a crash is the caller's "could not run" error).
import * as k8s from '@kubernetes/client-node';

/** What the helper prints. Strings only (PEM text), so it crosses a pipe as JSON. */
export interface ResolvedKubeconfig {
  server: string;
  cluster: string;
  context: string;
  user: string;
  tls: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean; servername?: string };
  headers: Record<string, string>;
  /** The credentials come from an exec plugin or an auth provider: they expire, re-resolve after a 401. */
  expiring: boolean;
}

export interface HelperRequest {
  files: string[];
  /** `--kubeconfig` or `$KUBECONFIG`, for the messages. */
  what: string;
}

class ResolveError extends Error {}

function fromFiles(files: readonly string[], what: string): k8s.KubeConfig {
  if (files.length === 0) throw new ResolveError(`${what}: no file named`);
  const merged = new k8s.KubeConfig();
  merged.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: '' });
  for (const file of files) {
    const one = new k8s.KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (err) {
      throw new ResolveError(`${what}: cannot load ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    // kubectl's merge: the first file that sets a name (or current-context) wins.
    for (const c of one.clusters ?? []) if (!merged.clusters.some((x) => x.name === c.name)) merged.clusters.push(c);
    for (const u of one.users ?? []) if (!merged.users.some((x) => x.name === u.name)) merged.users.push(u);
    for (const c of one.contexts ?? []) if (!merged.contexts.some((x) => x.name === c.name)) merged.contexts.push(c);
    if (!merged.currentContext && one.currentContext) merged.setCurrentContext(one.currentContext);
  }
  return merged;
}

async function resolve(req: HelperRequest): Promise<ResolvedKubeconfig> {
  const where = `kubeconfig ${req.files.join(':')}`;
  const kc = fromFiles(req.files, req.what);
  const ctxName = kc.getCurrentContext();
  if (!ctxName) throw new ResolveError(`${where}: no current-context`);
  const ctx = kc.getContextObject(ctxName);
  if (!ctx) throw new ResolveError(`${where}: current-context "${ctxName}" is not defined`);
  const cluster = kc.getCluster(ctx.cluster);
  if (!cluster) throw new ResolveError(`${where}: context "${ctxName}" names cluster "${ctx.cluster}", which is not defined`);
  const user = ctx.user ? kc.getUser(ctx.user) : null;
  if (ctx.user && !user) throw new ResolveError(`${where}: context "${ctxName}" names user "${ctx.user}", which is not defined`);
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw new ResolveError(`${where}: cluster "${cluster.name}": server ${JSON.stringify(cluster.server)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ResolveError(`${where}: cluster "${cluster.name}": server ${cluster.server} is not http(s)`);
  // kubectl's rule: credentials never go over plain http unless the user said the transport is not trusted.
  if (url.protocol === 'http:' && !cluster.skipTLSVerify) {
    throw new ResolveError(`${where}: cluster "${cluster.name}": plain http server ${cluster.server} needs insecure-skip-tls-verify: true (as kubectl requires)`);
  }
  if (cluster.proxyUrl) throw new ResolveError(`${where}: cluster "${cluster.name}": proxy-url ${cluster.proxyUrl} is not supported; reach the API server directly`);
  const opts: { ca?: unknown; cert?: unknown; key?: unknown; rejectUnauthorized?: boolean; servername?: string; headers?: Record<string, unknown>; auth?: string } = {};
  try {
    await kc.applyToHTTPSOptions(opts as Parameters<k8s.KubeConfig['applyToHTTPSOptions']>[0]);
  } catch (err) {
    throw new ResolveError(`${where}: user "${ctx.user ?? ''}": cannot get credentials: ${err instanceof Error ? err.message : String(err)}`);
  }
  const text = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined && v !== null) headers[k] = String(v);
  if (opts.auth !== undefined && headers.Authorization === undefined) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  const tls: ResolvedKubeconfig['tls'] = { rejectUnauthorized: !cluster.skipTLSVerify };
  const ca = text(opts.ca);
  const cert = text(opts.cert);
  const key = text(opts.key);
  if (ca !== undefined) tls.ca = ca;
  if (cert !== undefined) tls.cert = cert;
  if (key !== undefined) tls.key = key;
  if (cluster.tlsServerName) tls.servername = cluster.tlsServerName;
  return {
    server: cluster.server.replace(/\/+$/, ''),
    cluster: cluster.name,
    context: ctxName,
    user: ctx.user ?? '',
    tls,
    headers,
    expiring: user?.exec !== undefined || user?.authProvider !== undefined,
  };
}

async function main(): Promise<void> {
  let out: ResolvedKubeconfig | { error: string };
  try {
    const req = JSON.parse(process.argv[2] ?? '') as HelperRequest;
    out = await resolve(req);
  } catch (err) {
    out = { error: err instanceof ResolveError ? err.message : `kubeconfig resolver failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  // Exec plugins and client-node may leave handles open; the answer is written, so end now.
  process.exit(0);
}

void main();
