// A supervised informer: list, then watch from the list's resourceVersion, keep a cache, tell handlers what
// changed. Written on RestClient (rest.ts: node:https watch streams) rather than client-node's makeInformer /
// ListWatch, because ListWatch stops for good on any error but 410 (a reset connection, a 500, a 403), waits up
// to 30 s before re-watching after a 410, takes no field selector in makeInformer, has no hasSynced, and swallows
// a handler's exception inside its watch callback. See README.md.
//
// Life cycle (one loop per informer, never two requests at once):
//   list (paged, `limit`) → replace the cache (add / update / delete for what changed while we were away)
//   → watch from the list's RV (bookmarks on, server timeout 5–10 min like client-go)
//   → clean end (server timeout, RestClient's 30 s inactivity timeout): watch again from the last RV
//   → 410 Expired (HTTP or in-stream ERROR): relist
//   → any other error: count a restart, relist.
// Every resume waits a capped, jittered backoff unless the previous watch stayed up `policy.stableMs`, so a
// server that drops every watch, or answers 410 to every resume, sees a few requests a second at most, never a
// storm. Each request also waits for the shared token bucket.
import type { Logger } from '../log.js';
import { nextDelay, type BackoffPolicy, type Clock, type TimerHandle } from './primitives.js';
import type { K8sMetrics } from './metrics.js';
import { KubeApiError, isGone, type RawWatchEvent, type RestClient, type WatchHandle } from './rest.js';
import { objectKey, type ApiStatus, type KubeList, type KubeObject } from './types.js';

export interface InformerHandlers<T extends KubeObject> {
  onAdd?(obj: T): void;
  /** Only when the resourceVersion changed. */
  onUpdate?(oldObj: T, newObj: T): void;
  /** The last state known; after a relist, an object that vanished while the watch was down. */
  onDelete?(obj: T): void;
}

export interface InformerOptions {
  /** For logs and the restart metric, e.g. `services`. */
  name: string;
  /** Collection path: `/api/v1/services`, `/api/v1/namespaces/NS/configmaps`, `/apis/discovery.k8s.io/v1/endpointslices`. */
  path: string;
  labelSelector?: string;
  /** Stamped on list items, which the API server sends without kind/apiVersion (watch events carry them). */
  kind?: string;
  apiVersion?: string;
  /** e.g. `metadata.name=config`, so RBAC granted by resourceNames suffices for list and watch. */
  fieldSelector?: string;
  rest: RestClient;
  clock: Clock;
  logger: Logger;
  metrics: K8sMetrics;
  /** Resume backoff; default INFORMER_BACKOFF. */
  policy?: BackoffPolicy;
  /** Page size of the list (client-go: 500). */
  pageSize?: number;
  /** Uniform [0,1) samples for jitter and the watch timeout. */
  random?: () => number;
  /**
   * Applied to every object (list items and watch events) before it is cached or handed to handlers, as
   * client-go's SetTransform: a component that needs a few fields keeps only those (the speaker's caches of
   * 10,000 Services and EndpointSlices). Must keep metadata.name, namespace and resourceVersion.
   */
  transform?: (obj: KubeObject) => KubeObject;
  /**
   * Cache identities only, for a component that holds its own derived state: per key the resourceVersion (the
   * relist diff) and, with `keepUid`, the uid (references for Events) — not the object. Handlers still get the
   * (transformed) object for adds and updates; `onUpdate`'s old object, a relist's `onDelete`, get() and
   * list() get `{apiVersion, kind, metadata: {namespace, name, uid?, resourceVersion}}` rebuilt from the key.
   * Handlers must be registered before start() (a late one could only be replayed identities). Memory: the
   * speaker's Service and EndpointSlice caches at 10,000 Services (bench/README.md).
   */
  identityCache?: { keepUid: boolean };
}

/** An identity-cache entry: the resourceVersion, or [resourceVersion, uid]. */
type Identity = string | readonly [string, string];

/** 250 ms doubling to 30 s, jittered by half; a watch that lived 10 s counts as healthy. */
export const INFORMER_BACKOFF: BackoffPolicy = Object.freeze({ initialMs: 250, maxMs: 30_000, multiplier: 2, jitter: 0.5, stableMs: 10_000 });

export type RestartReason = 'error' | 'expired';

function rvOf(v: KubeObject | Identity): string | undefined {
  return typeof v === 'string' ? v : Array.isArray(v) ? (v as readonly [string, string])[0] : (v as KubeObject).metadata?.resourceVersion;
}

export class Informer<T extends KubeObject> {
  /** key → object, or its identity with `identityCache`. */
  private readonly cache = new Map<string, T | Identity>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly policy: BackoffPolicy;
  private readonly random: () => number;
  private readonly log: Logger;
  private running = false;
  private synced = false;
  private rv = '';
  private failures = 0;
  private watchStartedAt: number | undefined;
  private watch: WatchHandle | undefined;
  private timer: TimerHandle | undefined;
  private wake: (() => void) | undefined;
  private endWatch: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private syncWaiters: Array<() => void> = [];
  private restartCount = 0;
  private handlerErrorCount = 0;
  private lastErr: string | null = null;

  constructor(private readonly opts: InformerOptions) {
    this.policy = opts.policy ?? INFORMER_BACKOFF;
    this.random = opts.random ?? Math.random;
    this.log = opts.logger.with({ informer: opts.name });
  }

  /** Registers handlers; objects already cached are replayed to them as adds (late registration is safe). */
  addHandlers(h: InformerHandlers<T>): void {
    if (this.opts.identityCache !== undefined && this.cache.size > 0) throw new Error(`informer ${this.opts.name}: with identityCache, handlers are registered before start()`);
    this.handlers.push(h);
    if (h.onAdd) for (const [key, v] of this.cache) this.deliver('add', () => h.onAdd?.(this.object(key, v)));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Stops the watch and the loop; the cache stays readable and no handler runs afterwards. A list request in
   * flight is left to finish (or time out) and its result is dropped.
   */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.watch?.abort();
    this.endWatch?.();
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.wake?.();
  }

  /** Resolves when the loop has ended after stop() (tests). */
  async stopped(): Promise<void> {
    await this.loop;
  }

  /** True once the first complete list has been applied (stays true across relists, as client-go's). */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves at the first sync (at once if synced). */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(key: string): T | undefined {
    const v = this.cache.get(key);
    return v === undefined ? undefined : this.object(key, v);
  }

  list(): T[] {
    return [...this.cache].map(([k, v]) => this.object(k, v));
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  get size(): number {
    return this.cache.size;
  }

  /** Restarts after errors and 410s since start (also the `ingot_k8s_informer_restarts_total` metric). */
  get restarts(): number {
    return this.restartCount;
  }

  /** Handler exceptions caught so far. */
  get handlerErrors(): number {
    return this.handlerErrorCount;
  }

  get lastSyncResourceVersion(): string {
    return this.rv;
  }

  /** The last error that forced a restart, for /status; null once a list has succeeded since. */
  get lastError(): string | null {
    return this.lastErr;
  }

  private async run(): Promise<void> {
    let needList = true;
    while (this.running) {
      let outcome: 'clean' | RestartReason;
      try {
        if (needList) await this.listAndReplace();
        if (!this.running) break;
        outcome = await this.watchOnce();
      } catch (err) {
        outcome = isGone(err) ? 'expired' : 'error';
        this.lastErr = err instanceof Error ? err.message : String(err);
        if (this.running) this.log.warn('informerError', { error: this.lastErr, resourceVersion: this.rv });
      }
      if (!this.running) break;
      needList = outcome !== 'clean';
      if (outcome !== 'clean') {
        this.restartCount++;
        this.opts.metrics.informerRestarted(this.opts.name, outcome);
      }
      // A watch that stayed up long enough resets the failure count: resume at once.
      const now = this.opts.clock.now();
      const stable = this.watchStartedAt !== undefined && now - this.watchStartedAt >= this.policy.stableMs;
      this.watchStartedAt = undefined;
      this.failures = stable ? 0 : this.failures + 1;
      const delay = nextDelay(this.policy, { failures: this.failures, establishedAt: undefined }, this.random());
      if (delay > 0) await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = this.opts.clock.setTimeout(() => {
        this.timer = undefined;
        this.wake = undefined;
        resolve();
      }, ms);
    });
  }

  private async listAndReplace(): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.opts.rest.request<KubeList<T>>('GET', this.opts.path, {
        query: { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector, limit: this.opts.pageSize ?? 500, continue: cont },
        timeoutMs: 60_000,
      });
      if (!page || !Array.isArray(page.items)) throw new KubeApiError(0, 'BadResponse', `list ${this.opts.path}: response has no items`, 'GET', this.opts.path);
      for (const item of page.items) {
        if (this.opts.kind !== undefined && item.kind === undefined) item.kind = this.opts.kind;
        if (this.opts.apiVersion !== undefined && item.apiVersion === undefined) item.apiVersion = this.opts.apiVersion;
        items.push(this.opts.transform ? (this.opts.transform(item) as T) : item);
      }
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue || undefined;
    } while (cont !== undefined && this.running);
    if (!this.running) return;
    this.replace(items);
    this.rv = rv;
    this.lastErr = null;
    if (!this.synced) {
      this.synced = true;
      this.log.info('informerSynced', { objects: this.cache.size, resourceVersion: rv });
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiters) w();
    }
  }

  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      seen.add(key);
      this.upsert(key, obj);
    }
    for (const [key, old] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.emit('delete', this.object(key, old));
    }
  }

  private upsert(key: string, obj: T): void {
    const old = this.cache.get(key);
    this.cache.set(key, this.stored(obj));
    if (old === undefined) this.emit('add', obj);
    else if (rvOf(old) !== obj.metadata?.resourceVersion) this.emit('update', obj, this.object(key, old));
  }

  /** What the cache keeps of an object: the object, or its identity (identityCache). */
  private stored(obj: T): T | Identity {
    const id = this.opts.identityCache;
    if (id === undefined) return obj;
    const rv = obj.metadata?.resourceVersion ?? '';
    const uid = obj.metadata?.uid;
    return id.keepUid && uid ? Object.freeze([rv, uid] as const) : rv;
  }

  /** A cached value as an object (identities are rebuilt from the key). */
  private object(key: string, v: T | Identity): T {
    if (typeof v !== 'string' && !Array.isArray(v)) return v as T;
    const [rv, uid] = typeof v === 'string' ? [v, undefined] : (v as readonly [string, string]);
    const slash = key.indexOf('/');
    const name = slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
    return { apiVersion: this.opts.apiVersion, kind: this.opts.kind, metadata: { ...name, ...(uid !== undefined ? { uid } : {}), resourceVersion: rv } } as T;
  }

  /** Resolves with how the watch ended: cleanly (resume from RV) or needing a relist. */
  private watchOnce(): Promise<'clean' | RestartReason> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const end = (how: 'clean' | RestartReason | Error): void => {
        if (settled) return;
        settled = true;
        this.watch = undefined;
        this.endWatch = undefined;
        if (how instanceof Error) reject(how);
        else resolve(how);
      };
      // client-go picks 5–10 min so that many clients' watches do not expire together.
      const timeoutSeconds = Math.floor(300 + 300 * this.random());
      this.watchStartedAt = this.opts.clock.now();
      this.endWatch = () => end('clean');
      this.opts.rest
        .watch(
          this.opts.path,
          { resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds, labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector },
          (ev) => {
            if (settled || !this.running) return;
            const r = this.onWatchEvent(ev);
            if (r !== undefined) {
              const handle = this.watch;
              end(r); // first: aborting reports a clean end, which must not win
              handle?.abort();
            }
          },
          (err) => end(err === null ? 'clean' : err),
        )
        .then((handle) => {
          if (settled || !this.running) handle.abort();
          else this.watch = handle;
        }, end);
    });
  }

  /** Applies one event; returns an outcome when the watch must end. */
  private onWatchEvent(ev: RawWatchEvent): RestartReason | Error | undefined {
    const obj = (this.opts.transform && (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') ? this.opts.transform(ev.object) : ev.object) as T;
    const rv = obj.metadata?.resourceVersion;
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.upsert(objectKey(obj), obj);
        break;
      case 'DELETED': {
        const key = objectKey(obj);
        const old = this.cache.get(key);
        this.cache.delete(key);
        this.emit('delete', old !== undefined && obj.metadata === undefined ? this.object(key, old) : obj);
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const st = ev.object as ApiStatus;
        if (st.code === 410) {
          this.lastErr = `watch ${this.opts.path}: 410 ${st.reason ?? 'Expired'}: ${st.message ?? ''}`;
          this.log.info('informerExpired', { resourceVersion: this.rv, message: st.message ?? null });
          return 'expired';
        }
        return new KubeApiError(st.code ?? 0, st.reason ?? 'WatchError', `watch ${this.opts.path}: ${st.code ?? '?'} ${st.reason ?? ''}: ${st.message ?? ''}`, 'GET', this.opts.path, st);
      }
      default:
        return undefined;
    }
    if (rv) this.rv = rv;
    return undefined;
  }

  private emit(kind: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const h of this.handlers) {
      if (kind === 'add' && h.onAdd) this.deliver(kind, () => h.onAdd?.(obj));
      else if (kind === 'update' && h.onUpdate && old) this.deliver(kind, () => h.onUpdate?.(old, obj));
      else if (kind === 'delete' && h.onDelete) this.deliver(kind, () => h.onDelete?.(obj));
    }
  }

  /** A handler's exception is reported and counted; the informer and the other handlers carry on. */
  private deliver(kind: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.handlerErrorCount++;
      this.log.error('informerHandlerError', { kind, error: err instanceof Error ? err.message : String(err) });
    }
  }
}
