// The HTTP edge: JSON requests and watch streams to the API server over node:http(s), one keep-alive
// connection pool per process.
//
// Not client-node's HTTP stack: it needs client-node (and undici) resident — ~85 MiB, most of the speaker's
// 100 MB budget — for what is a few dozen lines over node:https (README.md). Credentials and TLS material come
// from ClusterAccess (config.ts); a 401 tells it to fetch credentials again. Watches keep client-node's
// semantics that the informer was built on: newline-delimited JSON events, and a 30 s inactivity timeout that
// ends the stream cleanly (a dead TCP connection cannot hang a watch; the informer resumes from its RV).
//
// Every request — list pages, watch starts, writes — first takes a token from the shared TokenBucket
// (`--kube-api-qps`/`--kube-api-burst`).
import * as http from 'node:http';
import * as https from 'node:https';
import type { ClusterAccess } from './config.js';
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
  /** Default per-request timeout (ms). */
  requestTimeoutMs?: number;
  /** A watch that receives nothing for this long ends cleanly (ms, default 30 s). */
  watchInactivityMs?: number;
  userAgent?: string;
}

/** One keep-alive connection pool for everything a process sends to the API server. */
export class HttpTransport {
  readonly agent: http.Agent;
  private readonly mod: typeof http | typeof https;

  constructor(readonly access: ClusterAccess) {
    const url = new URL(access.server);
    if (url.protocol === 'https:') {
      this.mod = https;
      const t = access.tls;
      this.agent = new https.Agent({
        keepAlive: true,
        rejectUnauthorized: t.rejectUnauthorized,
        ...(t.ca !== undefined ? { ca: t.ca } : {}),
        ...(t.cert !== undefined ? { cert: t.cert } : {}),
        ...(t.key !== undefined ? { key: t.key } : {}),
        ...(t.servername !== undefined ? { servername: t.servername } : {}),
      });
    } else {
      this.mod = http;
      this.agent = new http.Agent({ keepAlive: true });
    }
  }

  /** Starts a request with the current credentials; the caller owns the returned ClientRequest. */
  async start(method: string, url: string, headers: Record<string, string>): Promise<http.ClientRequest> {
    const auth = await this.access.headers();
    return this.mod.request(url, { method, agent: this.agent, headers: { ...auth, ...headers } });
  }

  /** Closes the pooled connections (at shutdown). */
  close(): void {
    this.agent.destroy();
  }
}

export class RestClient {
  private readonly server: string;
  private readonly requestTimeoutMs: number;
  private readonly watchInactivityMs: number;
  private readonly userAgent: string;

  constructor(
    readonly transport: HttpTransport,
    private readonly opts: RestClientOptions,
  ) {
    this.server = transport.access.server.replace(/\/+$/, '');
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.watchInactivityMs = opts.watchInactivityMs ?? 30_000;
    this.userAgent = opts.userAgent ?? 'ingot';
  }

  private url(path: string, query: Query | undefined): URL {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  /** Sends one request and returns the parsed JSON body; throws KubeApiError for any non-2xx or network error. */
  async request<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: RequestOptions = {}): Promise<T> {
    await this.opts.limiter.acquire();
    if (options.guard !== undefined && !options.guard()) throw new KubeApiError(0, 'Precondition', `${method} ${path}: not sent (precondition no longer holds)`, method, path);
    const url = this.url(path, options.query);
    const where = `${method} ${url.pathname}${url.search}`;
    const body = options.body !== undefined ? JSON.stringify(options.body) : undefined;
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': this.userAgent };
    if (body !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    let status: number;
    let text: string;
    try {
      const req = await this.transport.start(method, url.href, headers);
      ({ status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        req.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        req.once('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => {
            clearTimeout(timer);
            reject(err);
          });
          res.once('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          });
        });
        req.end(body);
      }));
    } catch (err) {
      throw new KubeApiError(0, 'NetworkError', `${where}: ${describe(err)}`, method, path);
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (status >= 200 && status < 300) return parsed as T;
    if (status === 401) this.transport.access.unauthorized();
    const st = isStatus(parsed) ? parsed : undefined;
    const reason = st?.reason ?? (status === 410 ? 'Expired' : `HTTP${status}`);
    throw new KubeApiError(status, reason, `${where}: ${status} ${reason}: ${st?.message ?? text.slice(0, 200)}`, method, path, st);
  }

  /**
   * Starts a watch (`?watch=true` is added). `onEvent` gets each decoded event; `onDone` fires once when the
   * stream ends: null for a clean end (server closed, abort(), or the inactivity timeout), otherwise the error
   * (a KubeApiError: the HTTP status, e.g. 410, or code 0 for the network or a line that is not JSON).
   */
  async watch(path: string, query: Query, onEvent: (ev: RawWatchEvent) => void, onDone: (err: Error | null) => void): Promise<WatchHandle> {
    await this.opts.limiter.acquire();
    const url = this.url(path, { ...query, watch: true });
    const where = `watch ${path}`;
    let finished = false;
    let req: http.ClientRequest | undefined;
    let idle: NodeJS.Timeout | undefined;
    const finish = (err: Error | null): void => {
      if (finished) return;
      finished = true;
      if (idle !== undefined) clearTimeout(idle);
      req?.destroy();
      onDone(err);
    };
    const touch = (): void => {
      if (idle !== undefined) clearTimeout(idle);
      idle = setTimeout(() => finish(null), this.watchInactivityMs);
    };
    try {
      req = await this.transport.start('GET', url.href, { Accept: 'application/json', 'User-Agent': this.userAgent });
    } catch (err) {
      finish(new KubeApiError(0, 'NetworkError', `${where}: ${describe(err)}`, 'GET', path));
      return { abort: () => undefined };
    }
    touch();
    req.on('error', (err) => finish(new KubeApiError(0, 'NetworkError', `${where}: ${describe(err)}`, 'GET', path)));
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      if (status !== 200) {
        let text = '';
        res.on('data', (c: string) => (text += c.length + text.length <= 65_536 ? c : ''));
        res.once('end', () => {
          if (status === 401) this.transport.access.unauthorized();
          let st: ApiStatus | undefined;
          try {
            const v: unknown = JSON.parse(text);
            st = isStatus(v) ? v : undefined;
          } catch {
            st = undefined;
          }
          const reason = st?.reason ?? (status === 410 ? 'Expired' : `HTTP${status}`);
          finish(new KubeApiError(status, reason, `${where}: ${status} ${reason}${st?.message ? `: ${st.message}` : ''}`, 'GET', path, st));
        });
        res.on('error', (err) => finish(new KubeApiError(0, 'NetworkError', `${where}: ${describe(err)}`, 'GET', path)));
        return;
      }
      let buf = '';
      res.on('data', (chunk: string) => {
        if (finished) return;
        touch();
        buf += chunk;
        let nl: number;
        while (!finished && (nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line === '') continue;
          let ev: { type?: unknown; object?: unknown };
          try {
            ev = JSON.parse(line) as { type?: unknown; object?: unknown };
          } catch {
            finish(new KubeApiError(0, 'BadResponse', `${where}: a watch event that is not JSON: ${line.slice(0, 120)}`, 'GET', path));
            return;
          }
          try {
            onEvent({ type: ev.type as WatchEventType, object: (ev.object ?? {}) as KubeObject });
          } catch (err) {
            // A socket handler must not throw into the stream: the watch ends with the error (the informer restarts).
            finish(new KubeApiError(0, 'HandlerError', `${where}: event handler failed: ${describe(err)}`, 'GET', path));
            return;
          }
        }
      });
      res.once('end', () => finish(null));
      res.once('aborted', () => finish(new KubeApiError(0, 'NetworkError', `${where}: connection closed mid-stream`, 'GET', path)));
      res.on('error', (err) => finish(new KubeApiError(0, 'NetworkError', `${where}: ${describe(err)}`, 'GET', path)));
    });
    req.end();
    return { abort: () => finish(null) };
  }
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
