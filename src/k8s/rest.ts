// The HTTP edge: JSON requests and watch streams to the API server, through @kubernetes/client-node.
//
// client-node supplies what is worth not rewriting: kubeconfig semantics (contexts, exec and OIDC plugins,
// token files, client certificates, CA data), TLS through its undici dispatcher, and the Watch stream reader
// with its 30 s inactivity timeout. Its generated typed clients are NOT used: they turn timestamps into Date
// objects while watch events carry strings, they default PATCH to json-patch, and they hide the HTTP status
// behind an exception class. Everything here speaks the wire JSON (types.ts).
//
// Every request — list pages, watch starts, writes — first takes a token from the shared TokenBucket
// (`--kube-api-qps`/`--kube-api-burst`).
import * as k8s from '@kubernetes/client-node';
import type { TokenBucket } from './rate-limit.js';
import type { ApiStatus, KubeObject, WatchEventType } from './types.js';

/** An API call that did not succeed: the HTTP status (0 when no response came) and the Status reason. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly method: string,
    readonly path: string,
    readonly status?: ApiStatus,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.code === 404;
/** 409 with reason AlreadyExists (a POST of a name that exists). */
export const isAlreadyExists = (e: unknown): boolean => e instanceof KubeApiError && e.code === 409 && e.reason === 'AlreadyExists';
/** 409 with reason Conflict (a stale resourceVersion: optimistic concurrency lost). */
export const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.code === 409 && e.reason !== 'AlreadyExists';
/** 410 Gone/Expired: a resourceVersion or continue token older than the server's window. */
export const isGone = (e: unknown): boolean => e instanceof KubeApiError && e.code === 410;

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Default application/json; PATCH callers pass application/merge-patch+json. */
  contentType?: string;
  /** Milliseconds before the request is aborted (default: the client's requestTimeoutMs). */
  timeoutMs?: number;
  /**
   * Checked after the rate limiter lets the request go, right before it is sent: false drops it with a
   * KubeApiError (code 0, reason `Precondition`). The controller passes "still the leader", since the token
   * wait can outlast a lease.
   */
  guard?: () => boolean;
}

export interface WatchHandle {
  /** Ends the stream; the done callback then fires (with an AbortError or null), once. */
  abort(): void;
}

/** The watch event as the server sent it; `object` is a Status for ERROR. */
export interface RawWatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

export interface RestClientOptions {
  limiter: TokenBucket;
  /** Default per-request timeout (ms); watches use client-node's inactivity timeout instead. */
  requestTimeoutMs?: number;
  userAgent?: string;
}

/**
 * A KubeConfig that reuses one undici dispatcher. client-node 2.0.2 builds a new Agent (and so a new TLS
 * connection pool) for every request when the cluster has a CA, a client certificate or skip-verify: 10,000
 * status writes would be 10,000 TLS handshakes. The first dispatcher is kept and later ones are closed unused.
 * Authorization headers are still computed per request (token files rotate; exec plugins refresh).
 */
export class IngotKubeConfig extends k8s.KubeConfig {
  private dispatcher: ReturnType<k8s.RequestContext['getDispatcher']>;

  override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (fresh === undefined) return;
    if (this.dispatcher === undefined) {
      this.dispatcher = fresh;
      return;
    }
    if (fresh !== this.dispatcher) void fresh.close().catch(() => undefined);
    context.setDispatcher(this.dispatcher);
  }

  /** The headers (Authorization, Impersonate-User) a request would carry now; for diagnostics and tests. */
  async requestHeaders(): Promise<Record<string, string>> {
    const ctx = new k8s.RequestContext(this.getCurrentCluster()?.server ?? 'https://invalid', k8s.HttpMethod.GET);
    await super.applySecurityAuthentication(ctx);
    void ctx.getDispatcher()?.close().catch(() => undefined);
    return { ...ctx.getHeaders() };
  }

  /** Closes the pooled connections (at shutdown). */
  async closeConnections(): Promise<void> {
    const d = this.dispatcher;
    this.dispatcher = undefined;
    if (d) await d.close().catch(() => undefined);
  }
}

const METHODS: Record<string, k8s.HttpMethod> = {
  GET: k8s.HttpMethod.GET,
  POST: k8s.HttpMethod.POST,
  PUT: k8s.HttpMethod.PUT,
  PATCH: k8s.HttpMethod.PATCH,
  DELETE: k8s.HttpMethod.DELETE,
};

export class RestClient {
  private readonly http = new k8s.IsomorphicFetchHttpLibrary();
  private readonly server: string;
  private readonly requestTimeoutMs: number;
  private readonly userAgent: string;

  constructor(
    readonly kubeConfig: IngotKubeConfig,
    private readonly opts: RestClientOptions,
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig: no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.userAgent = opts.userAgent ?? 'ingot';
  }

  /** Sends one request and returns the parsed JSON body; throws KubeApiError for any non-2xx or network error. */
  async request<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: RequestOptions = {}): Promise<T> {
    await this.opts.limiter.acquire();
    if (options.guard !== undefined && !options.guard()) throw new KubeApiError(0, 'Precondition', `${method} ${path}: not sent (precondition no longer holds)`, method, path);
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const httpMethod = METHODS[method];
    if (httpMethod === undefined) throw new Error(`unsupported method ${method}`);
    const ctx = new k8s.RequestContext(url.toString(), httpMethod);
    ctx.setHeaderParam('Accept', 'application/json');
    ctx.setHeaderParam('User-Agent', this.userAgent);
    if (options.body !== undefined) {
      ctx.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(options.body));
    }
    ctx.setSignal(AbortSignal.timeout(options.timeoutMs ?? this.requestTimeoutMs));
    const where = `${method} ${url.pathname}${url.search}`;
    let status: number;
    let text: string;
    try {
      await this.kubeConfig.applySecurityAuthentication(ctx);
      const res = await this.http.send(ctx).toPromise();
      status = res.httpStatusCode;
      text = await res.body.text();
    } catch (err) {
      throw new KubeApiError(0, 'NetworkError', `${where}: ${describe(err)}`, method, path);
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (status >= 200 && status < 300) return body as T;
    const st = isStatus(body) ? body : undefined;
    const reason = st?.reason ?? (status === 410 ? 'Expired' : `HTTP${status}`);
    throw new KubeApiError(status, reason, `${where}: ${status} ${reason}: ${st?.message ?? text.slice(0, 200)}`, method, path, st);
  }

  /**
   * Starts a watch (`?watch=true` is added). `onEvent` gets each decoded event; `onDone` fires once when the
   * stream ends: null for a clean end (server closed, or client-node's 30 s inactivity timeout), otherwise the
   * error (a KubeApiError for an HTTP status, e.g. 410).
   */
  async watch(path: string, query: Query, onEvent: (ev: RawWatchEvent) => void, onDone: (err: Error | null) => void): Promise<WatchHandle> {
    await this.opts.limiter.acquire();
    const w = new k8s.Watch(this.kubeConfig);
    let finished = false;
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      onDone(classifyWatchEnd(err, path));
    };
    const controller = await w.watch(
      path,
      query,
      (type: string, object: unknown) => {
        if (finished) return;
        onEvent({ type: type as WatchEventType, object: (object ?? {}) as KubeObject });
      },
      finish,
    );
    return {
      abort: () => {
        controller.abort();
        finish(null);
      },
    };
  }
}

function classifyWatchEnd(err: unknown, path: string): Error | null {
  if (err === null || err === undefined) return null;
  if (err instanceof Error && err.name === 'TimeoutError') return null; // inactivity: resume from the last RV
  const code = (err as { statusCode?: unknown }).statusCode;
  if (typeof code === 'number') {
    const reason = code === 410 ? 'Expired' : `HTTP${code}`;
    return new KubeApiError(code, reason, `watch ${path}: ${code} ${reason}`, 'GET', path);
  }
  return new KubeApiError(0, 'NetworkError', `watch ${path}: ${describe(err)}`, 'GET', path);
}

function isStatus(v: unknown): v is ApiStatus {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Status';
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}
